import { describeModelNotAvailable } from "../src/cli/model-messages.js";
import { ModelNotAvailableError } from "../src/models/model-errors.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExpertUnavailableError, type ExpertContext } from "../src/core/expert.js";
import type { NewsItem } from "../src/core/news-item.js";
import { NeuralSummarizerExpert, type NeuralSummaryOutput } from "../src/experts/neural/index.js";

// References: summarization.json (tools/python/make_references.py: HF transformers 4.57.6,
// pipeline("summarization") on the tiny random-weight distilbart-cnn-6-6 fixture).
const FIXTURES = join(import.meta.dirname, "fixtures");
const MODEL_DIR = join(FIXTURES, "models", "tiny-distilbart-cnn-6-6");
const reference = JSON.parse(readFileSync(join(FIXTURES, "references", "summarization.json"), "utf8")) as any;
const caseNamed = (name: string) => reference.cases.find((c: any) => c.name === name);
const TUTORIAL_CASES = ["pipeline_tutorial_football", "pipeline_tutorial_cricket", "pipeline_tutorial_tennis", "pipeline_tutorial_1024_tokens"];

const context: ExpertContext = { warn: () => {} };
const item = (id: string, content: string): NewsItem => ({ id, content });

function ok(result: NeuralSummaryOutput | Error | undefined): NeuralSummaryOutput {
  if (result instanceof Error) throw result;
  if (!result) throw new Error("no result");
  return result;
}

/** The reference's chunking tree, flattened: every window HF summarised, and how deep it went. */
function referenceWindows(node: any): any[] {
  const here = node.chunked ? node.windows : [node];
  return node.resummary ? [...here, ...referenceWindows(node.resummary)] : here;
}
function referenceLevels(node: any): number {
  return node.resummary ? 1 + referenceLevels(node.resummary) : 1;
}

describe("NeuralSummarizerExpert with the tutorial's call (max_length=300, min_length=30, do_sample=False)", () => {
  const expert = new NeuralSummarizerExpert({ summarizerModel: MODEL_DIR });
  beforeAll(() => expert.load());
  afterAll(() => expert.dispose());

  it.each(TUTORIAL_CASES)("%s: the pipeline's tokens and text", async (name) => {
    const c = caseNamed(name);
    const plan = await expert.plan(c.text);
    expect(plan.mode).toBe("whole");
    expect(plan.windows[0].ids).toEqual(c.input_ids[0]);
    const [ids] = await expert.generateIds([plan.windows[0].ids]);
    expect(ids).toEqual(c.sequences[0]);
    const [result] = await expert.analyze([item(name, c.text)], context);
    expect(ok(result)).toEqual({ summary: c.summary_text }); // no long_article: it fits
  });

  it("summarises all tutorial cases in one batch exactly as one by one", async () => {
    const cases = TUTORIAL_CASES.map(caseNamed);
    const results = await expert.analyze(cases.map((c: any) => item(c.name, c.text)), context);
    results.forEach((r, i) => expect(ok(r).summary, cases[i].name).toBe(cases[i].summary_text));
  });

  it.each(reference.chunking_cases as any[])("$name: map-reduce over sentence windows as the reference rule", async (c: any) => {
    const windows = referenceWindows(c.result);
    // Every window HF summarised, generated together: the same tokens.
    const ids = await expert.generateIds(windows.map((w) => w.input_ids));
    ids.forEach((sequence, i) => {
      // Rows of one generate call are right-padded with <pad> (1) to the longest, as HF pads them.
      const expected: number[] = windows[i].sequences[0];
      expect(sequence.slice(0, expected.length), `window ${i}`).toEqual(expected);
      expect(sequence.slice(expected.length).every((id) => id === 1), `window ${i} padding`).toBe(true);
    });

    const [result] = await expert.analyze([item(c.name, c.article)], context);
    const out = ok(result);
    expect(out.summary).toBe(c.result.final_text);
    expect(out.long_article).toEqual({
      strategy: "chunk",
      input_tokens: c.n_tokens,
      windows: c.result.windows.length,
      reduced: c.result.resummarised,
      levels: referenceLevels(c.result),
    });
  }, 300_000); // a few hundred beam steps on ~1,000-token windows: slow on a loaded 2-core box

  it("batches long and short articles together without changing any of them", async () => {
    const short = caseNamed("pipeline_tutorial_cricket");
    const long = reference.chunking_cases[0];
    const tennis = caseNamed("pipeline_tutorial_tennis");
    const results = await expert.analyze(
      [item("long", long.article), item("short", short.text), item("tennis", tennis.text)],
      context,
    );
    expect(ok(results[0]).summary).toBe(long.result.final_text);
    expect(ok(results[1]).summary).toBe(short.summary_text);
    expect(ok(results[2]).summary).toBe(tennis.summary_text);
  }, 300_000);

  it("returns an Error for an empty item, and for an item that cannot be read, and results for the others", async () => {
    const football = caseNamed("pipeline_tutorial_football");
    const unreadable = {
      id: "broken",
      get content(): string {
        throw new Error("scraper field exploded");
      },
    } as NewsItem;
    const results = await expert.analyze([item("empty", ""), unreadable, item("ok", football.text)], context);
    expect(results[0]).toBeInstanceOf(Error);
    expect((results[0] as Error).message).toMatch(/content is empty.*"empty"/);
    expect(results[1]).toBeInstanceOf(Error);
    expect((results[1] as Error).message).toMatch(/"broken".*scraper field exploded/);
    expect(ok(results[2]).summary).toBe(football.summary_text);
  });
});

describe("NeuralSummarizerExpert when the run is aborted", () => {
  it("rejects instead of returning partial results", async () => {
    const expert = new NeuralSummarizerExpert({ summarizerModel: MODEL_DIR });
    try {
      const controller = new AbortController();
      controller.abort(new Error("SIGINT"));
      const c = caseNamed("pipeline_tutorial_football");
      await expect(expert.analyze([item("a", c.text)], { ...context, signal: controller.signal })).rejects.toThrow(/SIGINT/);
    } finally {
      await expert.dispose();
    }
  });
});

describe("NeuralSummarizerExpert options", () => {
  it("with max_length 142 / min_length 56 reproduces the pipeline's own defaults (task_specific_params)", async () => {
    const c = caseNamed("pipeline_no_kwargs");
    const expert = new NeuralSummarizerExpert({ summarizerModel: MODEL_DIR, generation: { maxLength: 142, minLength: 56 } });
    try {
      const [result] = await expert.analyze([item(c.name, c.text)], context);
      expect(ok(result).summary).toBe(c.summary_text);
    } finally {
      await expert.dispose();
    }
  });

  it("summarises a 5,000-word article without error by chunking it", async () => {
    const sentences = reference.chunking_cases[1].article.split(/(?<=\.)\s+/);
    const words: string[] = [];
    for (let i = 0; words.length < 5000; i++) words.push(...sentences[i % sentences.length].split(" "));
    const article = words.slice(0, 5000).join(" ") + ".";
    const expert = new NeuralSummarizerExpert({ summarizerModel: MODEL_DIR, generation: { maxLength: 12, minLength: 2 } });
    try {
      const [result] = await expert.analyze([item("long", article)], context);
      const out = ok(result);
      expect(out.summary.length).toBeGreaterThan(0);
      expect(out.long_article?.strategy).toBe("chunk");
      expect(out.long_article?.windows).toBeGreaterThanOrEqual(6);
      expect(out.long_article?.input_tokens).toBeGreaterThan(5000);
    } finally {
      await expert.dispose();
    }
  });

  it("--long truncate summarises the first 1,024 tokens (ending with </s>)", async () => {
    const c = reference.chunking_cases[0];
    const expert = new NeuralSummarizerExpert({ summarizerModel: MODEL_DIR, long: "truncate", generation: { maxLength: 40, minLength: 5 } });
    try {
      const plan = await expert.plan(c.article);
      expect(plan.mode).toBe("truncate");
      expect(plan.windows[0].ids).toHaveLength(1024);
      expect(plan.windows[0].ids.at(-1)).toBe(2);
      const [ids] = await expert.generateIds([plan.windows[0].ids]);
      const [result] = await expert.analyze([item("t", c.article)], context);
      expect(ok(result)).toEqual({
        summary: await expert.decode(ids!),
        long_article: { strategy: "truncate", input_tokens: c.n_tokens, windows: 1, reduced: false, levels: 1 },
      });
    } finally {
      await expert.dispose();
    }
  });
});

describe("NeuralSummarizerExpert availability", () => {
  const missingDir = join(FIXTURES, "models", "no-such-summarizer");

  it("constructs without loading anything", () => {
    expect(() => new NeuralSummarizerExpert({ summarizerModel: missingDir })).not.toThrow();
  });

  it("load() on a missing model throws ExpertUnavailableError naming the model and how to get it", async () => {
    const expert = new NeuralSummarizerExpert({ summarizerModel: missingDir });
    const error = await expert.load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExpertUnavailableError);
    expect((error as ExpertUnavailableError).expert).toBe("NewsSummarizationLLMExpert");
    const reason = (error as ExpertUnavailableError).reason;
    expect(reason).toContain(missingDir);
    // The typed cause carries what a front end needs to say how to get the model; the CLI says it.
    const cause = (error as ExpertUnavailableError).cause;
    expect(cause).toBeInstanceOf(ModelNotAvailableError);
    expect(describeModelNotAvailable(cause as ModelNotAvailableError)).toMatch(/To get it/);
  });

  it("probe(): the fixture is available, a missing directory is not", async () => {
    expect(await new NeuralSummarizerExpert({ summarizerModel: MODEL_DIR }).probe()).toEqual({ available: true });
    expect((await new NeuralSummarizerExpert({ summarizerModel: missingDir }).probe()).available).toBe(false);
  });

  it("a classifier directory is not a summariser", async () => {
    const expert = new NeuralSummarizerExpert({ summarizerModel: join(FIXTURES, "models", "tiny-distilbert-sst2") });
    await expect(expert.load()).rejects.toBeInstanceOf(ExpertUnavailableError);
  });
});
