/**
 * distill -> train -> analyze --router learned --budget 0.3, end to end through the real CLI on the
 * tiny fixture models: the neural experts' share of items stays at or under the budget.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/io/output-record.js";
import { EXAMPLES, REPO_ROOT, isolatedEnv, runCli, tempDir } from "./helpers/cli.js";

const MODELS = ["--summarizer-model", join(REPO_ROOT, "test/fixtures/models/tiny-distilbart-cnn-6-6"), "--sentiment-model", join(REPO_ROOT, "test/fixtures/models/tiny-distilbert-sst2"), "--offline", "--quiet", "--max-length", "40", "--min-length", "5"];

type Analyses = Record<string, { summary?: string; sentiment_label?: string; error?: string }>;

describe("gate distill -> train -> analyze --budget", () => {
  it("labels from a --router all run, learns them, and keeps the neural share at or under the budget", async () => {
    const dir = await tempDir("news-moe-distill-");
    const env = isolatedEnv(dir);
    const teacher = join(dir, "teacher.json");
    const all = await runCli(["analyze", EXAMPLES, "--router", "all", ...MODELS, "-o", teacher], { cwd: dir, env });
    expect(all.code).toBe(1); // the empty-content example fails, as with every router
    const teacherRecords = JSON.parse(await readFile(teacher, "utf8")) as AnalysisRecord[];

    const data = join(dir, "distilled.jsonl");
    const distilled = await runCli(["gate", "distill", teacher, "--items", EXAMPLES, "-o", data], { cwd: dir, env });
    expect(distilled.code).toBe(0);
    const labelled = (await readFile(data, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { id: string; content: string; route: Record<string, string> });
    expect(labelled.length).toBeGreaterThanOrEqual(8);
    expect(distilled.stderr).toMatch(new RegExp(`${labelled.length} labelled items written`));
    for (const item of labelled) {
      expect(item.content.length).toBeGreaterThan(0);
      // Under --router all both sentiment experts ran: the tutorial's key holds their mixture, each
      // expert's own output is in mixture.sentiment.outputs.
      const teacherRecord = teacherRecords.find((r) => r.id === item.id)!;
      expect((teacherRecord.analyses["SentimentAnalysisLLMExpert"] as { expert?: string }).expert).toBe("mixture");
      const own = (teacherRecord.mixture?.["sentiment"] as { outputs: Analyses }).outputs;
      const agree = own["LexiconSentimentExpert"]?.sentiment_label === own["SentimentAnalysisLLMExpert"]?.sentiment_label;
      expect(item.route["sentiment"]).toBe(agree ? "LexiconSentimentExpert" : "SentimentAnalysisLLMExpert");
      // The random-weight summariser writes word salad: it never agrees with the extractive summary.
      expect(item.route["summarization"]).toBe("NewsSummarizationLLMExpert");
    }

    const gate = join(dir, "gate.json");
    const trained = await runCli(["gate", "train", data, "-o", gate], { cwd: dir, env });
    expect(trained.code).toBe(0);

    const output = join(dir, "routed.json");
    const statsFile = join(dir, "stats.json");
    const routed = await runCli(["analyze", EXAMPLES, "--router", "learned", "--gate", gate, "--budget", "0.3", ...MODELS, "-o", output, "--stats", statsFile], { cwd: dir, env });
    expect(routed.code).toBeLessThanOrEqual(1);
    const records = JSON.parse(await readFile(output, "utf8")) as AnalysisRecord[];
    expect(records).toHaveLength(teacherRecords.length);
    const cap = Math.floor(0.3 * records.length);
    for (const neural of ["NewsSummarizationLLMExpert", "SentimentAnalysisLLMExpert"]) {
      const calls = records.filter((r) => (r.analyses[neural] as { expert?: string } | undefined)?.expert === neural).length;
      expect(calls).toBeLessThanOrEqual(cap);
    }
    // The gate wanted the neural summariser everywhere: the budget gave it to the neediest three.
    expect(records.filter((r) => (r.analyses.NewsSummarizationLLMExpert as { expert?: string }).expert === "NewsSummarizationLLMExpert")).toHaveLength(cap);
    const capped = records.flatMap((r) => r.routing?.experts ?? []).filter((c) => c.reason.startsWith("budget: NewsSummarizationLLMExpert is capped at 30%"));
    expect(capped).toHaveLength(records.length - cap);
    expect(capped.every((c) => c.expert === "ExtractiveSummarizerExpert")).toBe(true);

    // The statistics say so too.
    const stats = JSON.parse(await readFile(statsFile, "utf8")) as { router: string; routed: number; experts: Record<string, { activations: number; share: number; mean_weight: number }>; budget_redirects: number };
    expect(stats.router).toBe("learned");
    expect(stats.routed).toBe(records.length);
    expect(stats.experts["NewsSummarizationLLMExpert"]).toMatchObject({ activations: cap, share: cap / records.length, mean_weight: 1 });
    expect(stats.experts["SentimentAnalysisLLMExpert"]?.share ?? 0).toBeLessThanOrEqual(0.3);
    expect(stats.budget_redirects).toBeGreaterThanOrEqual(records.length - cap);
  }, 240_000);
});
