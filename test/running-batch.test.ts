/**
 * Continuous batching (src/runtime/generation/running-batch.ts) on the compiled tiny distilbart, whose
 * summaries end at varied lengths (35 to 300 tokens on the tutorial's call): an article's tokens must be
 * HF transformers' whether it runs alone, with everything submitted at once, or joins a running batch at
 * step 0, 1, 17 or 60 beside articles at other depths; int8 likewise, against the static search on the
 * same int8 graphs.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildLogitsProcessors, generate, generationOptionsFromHfJson, resolveForModel } from "../src/runtime/generation/index.js";
import type { ArticleResult } from "../src/runtime/generation/article-beams.js";
import { RunningBatch, type RunningBatchOptions } from "../src/runtime/generation/running-batch.js";
import type { CompiledBartModel } from "../src/runtime/onnx/compiled-bart.js";
import { calls, expectScores, MODEL_DIR, type Call } from "./helpers/summarization-references.js";
import { compiledTinyBart, tinyGenerationConfig as generationConfig } from "./helpers/compiled-tiny-bart.js";

const TUTORIAL = JSON.stringify({ max_length: 300, min_length: 30, do_sample: false });
const PAD = 1;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "news-moe-running-"));
  cpSync(MODEL_DIR, dir, { recursive: true, filter: (source) => !source.includes(".news-moe-") });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function compiledModel(quantized: boolean): Promise<CompiledBartModel> {
  return compiledTinyBart(dir, quantized ? "decoder_model_merged_quantized.onnx" : "decoder_model_merged.onnx", quantized);
}

/** One article of a reference call: its encoder ids without padding, and HF's rows for it. */
interface Article {
  name: string;
  ids: number[];
  sequences: number[][];
  scores?: number[];
}

function articlesOf(call: Call): Article[] {
  const perArticle = call.sequences.length / call.inputIds.length;
  return call.inputIds.map((row, r) => {
    const mask = call.attentionMask?.[r];
    return {
      name: `${call.name}[${r}]`,
      ids: mask ? row.filter((_, i) => mask[i] === 1) : row,
      sequences: call.sequences.slice(r * perArticle, (r + 1) * perArticle),
      ...(call.scores ? { scores: call.scores.slice(r * perArticle, (r + 1) * perArticle) } : {}),
    };
  });
}

/** HF pads a call's rows to its longest; a running batch cuts each article's rows to its own longest. */
function unpadded(rows: number[][]): number[][] {
  return rows.map((row) => {
    let end = row.length;
    while (end > 1 && row[end - 1] === PAD) end--;
    return row.slice(0, end);
  });
}

const OPTIONS: RunningBatchOptions = { maxArticles: 16, stateBudget: 2 ** 40, stateBytes: () => 1, joinStallMs: 0 };

/** Runs `schedule` through one running batch: each article is submitted once the batch has taken `atStep` steps. */
async function runSchedule(
  model: CompiledBartModel,
  kwargs: Record<string, unknown>,
  schedule: readonly { atStep: number; article: Article }[],
  options: RunningBatchOptions = OPTIONS,
): Promise<{ results: ArticleResult[]; joinedAt: number[] }> {
  const resolved = resolveForModel(model, generationOptionsFromHfJson(kwargs));
  let steps = 0;
  const results: Promise<ArticleResult>[] = new Array(schedule.length);
  const joinedAt: number[] = new Array(schedule.length);
  const submitDue = () => {
    schedule.forEach((entry, i) => {
      if (results[i] || entry.atStep > steps) return;
      joinedAt[i] = steps;
      results[i] = batch.submit(entry.article.ids);
    });
  };
  const batch = new RunningBatch(model, resolved, buildLogitsProcessors(resolved), options, () => {
    steps++;
    submitDue();
  });
  submitDue();
  // Articles due later than the batch lives are never submitted: a schedule keeps a long one running.
  while (results.filter(Boolean).length < schedule.length && batch.size > 0) await new Promise((resolve) => setTimeout(resolve, 2));
  if (results.filter(Boolean).length < schedule.length) throw new Error(`the batch ended after ${steps} steps with articles still due`);
  return { results: await Promise.all(results), joinedAt };
}

function expectReference(result: ArticleResult, article: Article, kwargs: Record<string, unknown>): void {
  expect(unpadded(result.sequences), article.name).toEqual(unpadded(article.sequences));
  const lengthPenalty = Number(kwargs["length_penalty"] ?? generationConfig["length_penalty"] ?? 1);
  expectScores(result.scores, article.scores, unpadded(article.sequences), lengthPenalty, PAD);
}

const tutorialArticles = calls.filter((call) => JSON.stringify(call.kwargs) === TUTORIAL).flatMap(articlesOf);
const byLength = (article: Article) => article.sequences[0]!.filter((t) => t !== PAD).length;

describe("continuous batching on the compiled fp32 decoder: HF's tokens wherever an article joins", () => {
  let model: CompiledBartModel;
  beforeAll(async () => {
    model = await compiledModel(false);
  });
  afterAll(async () => {
    await model.dispose();
  });

  it("the tutorial call's summaries end at varied lengths (the fixture this suite needs)", () => {
    const lengths = tutorialArticles.map(byLength);
    expect(tutorialArticles.length).toBeGreaterThanOrEqual(10);
    expect(Math.min(...lengths)).toBeLessThan(50);
    expect(Math.max(...lengths)).toBeGreaterThan(150);
  });

  it("every article submitted at once", async () => {
    const kwargs = JSON.parse(TUTORIAL) as Record<string, unknown>;
    const { results } = await runSchedule(model, kwargs, tutorialArticles.map((article) => ({ atStep: 0, article })));
    results.forEach((result, i) => expectReference(result, tutorialArticles[i]!, kwargs));
  });

  it("joining at steps 0, 1, 17 and 60 beside articles at other depths", async () => {
    const kwargs = JSON.parse(TUTORIAL) as Record<string, unknown>;
    const longest = [...tutorialArticles].sort((a, b) => byLength(b) - byLength(a));
    const joins = [0, 1, 17, 60];
    // The two longest summaries start first and keep the batch running past step 60; the others join in turn.
    const schedule = [
      { atStep: 0, article: longest[0]! },
      { atStep: 0, article: longest[1]! },
      ...longest.slice(2).map((article, i) => ({ atStep: joins[i % joins.length]!, article })),
    ];
    const { results, joinedAt } = await runSchedule(model, kwargs, schedule);
    expect(new Set(joinedAt)).toEqual(new Set(joins));
    results.forEach((result, i) => expectReference(result, schedule[i]!.article, kwargs));
  });

  it("alone, and with one article at a time admitted (a tight state budget)", async () => {
    const kwargs = JSON.parse(TUTORIAL) as Record<string, unknown>;
    for (const article of tutorialArticles.slice(0, 3)) {
      const { results } = await runSchedule(model, kwargs, [{ atStep: 0, article }]);
      expectReference(results[0]!, article, kwargs);
    }
    const tight = { ...OPTIONS, stateBudget: 1, stateBytes: () => 1 };
    const { results } = await runSchedule(model, kwargs, tutorialArticles.slice(3, 7).map((article) => ({ atStep: 0, article })), tight);
    results.forEach((result, i) => expectReference(result, tutorialArticles[3 + i]!, kwargs));
  });

  it("an article aborted mid-search leaves at the next step; the others keep HF's tokens", async () => {
    const kwargs = JSON.parse(TUTORIAL) as Record<string, unknown>;
    const resolved = resolveForModel(model, generationOptionsFromHfJson(kwargs));
    const articles = [...tutorialArticles].sort((a, b) => byLength(b) - byLength(a)).slice(0, 4);
    const controller = new AbortController();
    let steps = 0;
    const batch = new RunningBatch(model, resolved, buildLogitsProcessors(resolved), OPTIONS, () => {
      if (++steps === 20) controller.abort(new Error("stopped by the user"));
    });
    const outcomes = await Promise.allSettled(articles.map((article, i) => batch.submit(article.ids, i === 0 ? controller.signal : undefined)));
    expect(outcomes[0]).toEqual({ status: "rejected", reason: new Error("stopped by the user") });
    outcomes.slice(1).forEach((outcome, i) => {
      if (outcome.status !== "fulfilled") throw outcome.reason;
      expectReference(outcome.value, articles[i + 1]!, kwargs);
    });
    // The aborted article (the longest summary) left at step 20: the batch ran only as long as the others needed.
    expect(steps).toBeLessThan(byLength(articles[0]!));
  });

  // Every other beam-search reference (length penalties, early stopping modes, forced tokens, several
  // returned sequences, padded batches), each call's articles as one running batch.
  for (const call of calls.filter((c) => JSON.stringify(c.kwargs) !== TUTORIAL && Number(c.effective?.["num_beams"] ?? 0) > 1)) {
    it(`${call.name} ${JSON.stringify(call.kwargs)}`, async () => {
      const articles = articlesOf(call);
      const { results } = await runSchedule(model, call.kwargs, articles.map((article, i) => ({ atStep: i, article })));
      results.forEach((result, i) => expectReference(result, articles[i]!, call.kwargs));
    });
  }
});

describe("continuous batching on the compiled int8 decoder: the static search's tokens wherever an article joins", () => {
  it("joining at steps 0, 1, 17 and 60 gives each article its tokens from a static call of its own", async () => {
    const model = await compiledModel(true);
    try {
      const kwargs = JSON.parse(TUTORIAL) as Record<string, unknown>;
      const options = generationOptionsFromHfJson(kwargs);
      const articles = tutorialArticles.slice(0, 8);
      const alone: number[][][] = [];
      for (const article of articles) alone.push((await generate(model, { inputIds: [article.ids] }, options)).sequences);
      const order = articles.map((_, i) => i).sort((a, b) => alone[b]![0]!.length - alone[a]![0]!.length);
      expect(alone[order[0]!]![0]!.length).toBeGreaterThan(61);
      const joins = [0, 1, 17, 60];
      const schedule = order.map((index, i) => ({ atStep: i < 2 ? 0 : joins[i % joins.length]!, article: articles[index]! }));
      const { results } = await runSchedule(model, kwargs, schedule);
      results.forEach((result, i) => expect(unpadded(result.sequences), schedule[i]!.article.name).toEqual(unpadded(alone[order[i]!]!)));
    } finally {
      await model.dispose();
    }
  });
});
