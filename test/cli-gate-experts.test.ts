/**
 * Fallbacks are counted and explained under every router, `--router all` included, and `gate
 * distill` says exactly what a teacher run lacks; a gate is checked against the experts the run
 * selected, not only against those registered. Through the real CLI, offline with an empty model
 * cache, so the neural experts cannot load.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/io/output-record.js";
import { EXAMPLES, expectUserFailure, isolatedEnv, runCli, tempDir } from "./helpers/cli.js";
import { writeLabelledNews } from "./helpers/gate-data.js";

const examples = JSON.parse(await readFile(EXAMPLES, "utf8")) as Array<{ id: string }>;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await tempDir("news-moe-gate-experts-");
  env = isolatedEnv(dir);
});

describe("--router all without the neural models", () => {
  it("counts a fallback for every task of every item, explains each, and gate distill names what the run lacks", async () => {
    const run = await runCli(["analyze", EXAMPLES, "--router", "all", "-o", "teacher.json", "--stats", "stats.json"], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(1); // the example's empty item
    const records = JSON.parse(await readFile(join(dir, "teacher.json"), "utf8")) as AnalysisRecord[];
    // Every item is routed (the empty one fails in its experts), each to the one available expert of each task.
    const n = examples.length;
    expect(records).toHaveLength(n);
    for (const record of records) {
      const reasons = Object.fromEntries((record.routing?.experts ?? []).map((c) => [c.task, c.reason]));
      expect(reasons["summarization"]).toMatch(/^fallback: NewsSummarizationLLMExpert is unavailable \(Model Xenova\/distilbart-cnn-6-6 .*\); router 'all': every active expert runs$/);
      expect(reasons["sentiment"]).toMatch(/^fallback: SentimentAnalysisLLMExpert is unavailable \(Model .*\); router 'all': every active expert runs$/);
    }
    const stats = JSON.parse(await readFile(join(dir, "stats.json"), "utf8")) as Record<string, unknown>;
    expect(stats).toMatchObject({
      router: "all",
      routed: n,
      fallbacks: 2 * n,
      unavailable: { NewsSummarizationLLMExpert: n, SentimentAnalysisLLMExpert: n },
      experts: { ExtractiveSummarizerExpert: { activations: n, fallbacks: n }, LexiconSentimentExpert: { activations: n, fallbacks: n } },
    });
    expect(run.stderr).toContain(`; ${2 * n} fallbacks (NewsSummarizationLLMExpert unavailable for ${n} items, SentimentAnalysisLLMExpert unavailable for ${n} items)`);

    const distill = await runCli(["gate", "distill", "teacher.json", "--items", EXAMPLES, "-o", "labelled.jsonl"], { cwd: dir, env });
    expectUserFailure(
      distill,
      2,
      `NewsSummarizationLLMExpert 0 of ${n}, unavailable for ${n} (the run fell back); sentiment: LexiconSentimentExpert ${n - 1} of ${n}, 1 error; ` +
        `SentimentAnalysisLLMExpert 0 of ${n}, unavailable for ${n} (the run fell back))`,
    );
    expect(distill.stderr).toContain(
      "news-moe: gate distill needs, for the same items, both experts of a task: ExtractiveSummarizerExpert and NewsSummarizationLLMExpert summaries, " +
        "or LexiconSentimentExpert and SentimentAnalysisLLMExpert sentiment labels; make it with `news-moe analyze ITEMS --router all` while the neural models are available",
    );
    expect(distill.stderr).not.toContain("was it made with --router all?");

    // Items that are not the ones the run analysed: said as such.
    await writeFile(join(dir, "other.json"), JSON.stringify([{ id: "elsewhere", content: "Another story altogether." }]));
    const other = await runCli(["gate", "distill", "teacher.json", "--items", "other.json", "-o", "labelled.jsonl"], { cwd: dir, env });
    expectUserFailure(other, 2, `teacher.json: none of its ${n} records matches a valid item of other.json by id; pass as --items the input that run analysed`);
  }, 60_000);
});

describe("a gate file whose experts the run did not select", () => {
  it("is refused with exit 2 under --experts embedded, naming the experts; a run that selects them, or only a task it routes among them, goes on", async () => {
    // The rule labels use all four experts (helpers/gate-data.ts).
    const labelled = await writeLabelledNews(dir, "labelled", 200, 7);
    const trained = await runCli(["gate", "train", labelled, "-o", "gate.json"], { cwd: dir, env });
    expect(trained.code, trained.stderr).toBe(0);

    const embedded = await runCli(["analyze", EXAMPLES, "--gate", "gate.json", "--experts", "embedded", "-o", "embedded.json"], { cwd: dir, env });
    expectUserFailure(
      embedded,
      2,
      /news-moe: gate\.json: was trained for experts this run does not have: (SentimentAnalysisLLMExpert, NewsSummarizationLLMExpert|NewsSummarizationLLMExpert, SentimentAnalysisLLMExpert) \(this run's experts: ExtractiveSummarizerExpert, LexiconSentimentExpert\); select them with --experts/,
    );
    expect(embedded.stderr.trim().split("\n")).toHaveLength(1);

    // Every expert selected (the default): the gate routes, and the unavailable neural experts fall back, as promised.
    const all = await runCli(["analyze", EXAMPLES, "--gate", "gate.json", "-o", "all.json", "--quiet"], { cwd: dir, env });
    expect(all.code, all.stderr).toBe(1);
    const records = JSON.parse(await readFile(join(dir, "all.json"), "utf8")) as AnalysisRecord[];
    expect(records.every((r) => r.routing?.router === "learned")).toBe(true);

    // Only sentiment selected: the gate's sentiment classes are both selected; its summarization is not this run's task.
    const sentiment = await runCli(["analyze", EXAMPLES, "--gate", "gate.json", "--experts", "sentiment", "-o", "sentiment.json", "--quiet"], { cwd: dir, env });
    expect(sentiment.code, sentiment.stderr).toBe(1);
    const routed = JSON.parse(await readFile(join(dir, "sentiment.json"), "utf8")) as AnalysisRecord[];
    expect(new Set(routed.flatMap((r) => r.routing?.experts.map((c) => c.task) ?? []))).toEqual(new Set(["sentiment"]));
  }, 120_000);
});
