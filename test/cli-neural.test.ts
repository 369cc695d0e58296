/**
 * The neural experts through the real CLI process: local model directories in the published ONNX
 * layout work offline (the tiny random-weight fixtures, same architectures as the real models), and
 * hub ids that are not cached fail with the model store's message while the router falls back.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/io/output-record.js";
import { EXAMPLES, REPO_ROOT, expectUserFailure, isolatedEnv, runCli, startCli, tempDir } from "./helpers/cli.js";

const SUMMARIZER_DIR = join(REPO_ROOT, "test/fixtures/models/tiny-distilbart-cnn-6-6");
const SENTIMENT_DIR = join(REPO_ROOT, "test/fixtures/models/tiny-distilbert-sst2");
const examples = JSON.parse(await readFile(EXAMPLES, "utf8")) as Array<{ id: string; content: string }>;

/** A user without network who did not set HF_HUB_OFFLINE: only --offline keeps them off the network. */
function onlineLookingEnv(home: string): NodeJS.ProcessEnv {
  const env = isolatedEnv(home);
  delete env.HF_HUB_OFFLINE;
  delete env.TRANSFORMERS_OFFLINE;
  return env;
}

describe("news-moe analyze with the neural experts", () => {
  it("runs both neural experts from local directories with --offline: every item analysed, the long one in windows", async () => {
    const dir = await tempDir();
    const result = await runCli(
      ["analyze", EXAMPLES, "--summarizer-model", SUMMARIZER_DIR, "--sentiment-model", SENTIMENT_DIR, "--offline", "--quiet", "--max-length", "40", "--min-length", "5"],
      { cwd: dir, env: onlineLookingEnv(dir) },
    );
    expect(result.stderr).not.toMatch(/unavailable/);
    // The empty-content item is the one failure.
    expect(result.code).toBe(1);
    const records = JSON.parse(await readFile(join(dir, "analyzed_news_data.json"), "utf8")) as AnalysisRecord[];
    expect(records.map((r) => r.id)).toEqual(examples.map((e) => e.id));
    for (const record of records) {
      const summary = record.analyses["NewsSummarizationLLMExpert"] as Record<string, unknown> | undefined;
      const sentiment = record.analyses["SentimentAnalysisLLMExpert"] as Record<string, unknown> | undefined;
      if (examples.find((e) => e.id === record.id)?.content.trim() === "") {
        expect(Object.values(record.analyses).every((a) => "error" in a)).toBe(true);
        continue;
      }
      if (record.id === "cn5t2r8ve4jo") {
        // The Spanish item: both neural experts (and the lexicon) read English only, so the
        // extractive summariser takes the summary and sentiment is skipped, with the reason.
        expect(record.routing?.experts.map((c) => c.expert)).toEqual(["ExtractiveSummarizerExpert"]);
        expect(record.routing?.skipped?.map((s) => s.task)).toEqual(["sentiment"]);
        expect(record.routing?.skipped?.[0]?.reason).toMatch(/^language "spa" \(detected\) is not handled by any sentiment expert/);
        continue;
      }
      expect(["POSITIVE", "NEGATIVE", "NEUTRAL"]).toContain(sentiment?.["sentiment_label"]);
      if (record.id === "c0l8rpk4t2xo") {
        // The 34-word brief: the auto router's rules send it to the extractive summariser instead.
        expect(record.routing?.experts.map((c) => c.expert).sort()).toEqual(["ExtractiveSummarizerExpert", "SentimentAnalysisLLMExpert"]);
        expect(typeof (record.analyses["ExtractiveSummarizerExpert"] as Record<string, unknown>)["summary"]).toBe("string");
        continue;
      }
      expect(typeof summary?.["summary"]).toBe("string");
      expect(record.routing?.experts.map((c) => c.expert).sort()).toEqual(["NewsSummarizationLLMExpert", "SentimentAnalysisLLMExpert"]);
    }
    // The 1,947-word feature is over the model's 1,024 positions: summarised window by window.
    const long = records.find((r) => r.id === "cq5d7zy2mg8o")?.analyses["NewsSummarizationLLMExpert"] as Record<string, unknown>;
    expect(long["long_article"]).toMatchObject({ strategy: "chunk" });
  }, 240_000);

  it("with hub ids and --offline: one clear message per model naming the switch, and the embedded experts take over", async () => {
    const dir = await tempDir();
    const result = await runCli(["analyze", EXAMPLES, "--offline", "--quiet"], { cwd: dir, env: onlineLookingEnv(dir) });
    expect(result.stderr).toMatch(
      /NewsSummarizationLLMExpert is unavailable, so its summarization work goes to ExtractiveSummarizerExpert\.\n {2}Why: Model Xenova\/distilbart-cnn-6-6 \(seq2seq, fp32\) is not available: offline mode is on \(--offline\)/,
    );
    expect(result.stderr).toMatch(/SentimentAnalysisLLMExpert is unavailable, so its sentiment work goes to LexiconSentimentExpert/);
    expect(result.stderr).toContain("To get it:");
    expect(result.stderr.match(/is unavailable/g)).toHaveLength(2);
    const records = JSON.parse(await readFile(join(dir, "analyzed_news_data.json"), "utf8")) as AnalysisRecord[];
    const first = records[0]!;
    expect(Object.keys(first.analyses).sort()).toEqual(["ExtractiveSummarizerExpert", "LexiconSentimentExpert", "NewsSummarizationLLMExpert", "SentimentAnalysisLLMExpert"]);
    // The tutorial's keys hold the stand-ins' values and name them.
    expect(first.analyses.NewsSummarizationLLMExpert).toMatchObject({ expert: "ExtractiveSummarizerExpert" });
    expect(first.analyses.SentimentAnalysisLLMExpert).toMatchObject({ expert: "LexiconSentimentExpert" });
    expect(first.routing?.experts[0]?.reason).toMatch(/^fallback: NewsSummarizationLLMExpert is unavailable \(Model Xenova\/distilbart-cnn-6-6 \(seq2seq, fp32\) is not available: offline mode is on \(--offline\) and the model is not in the cache\.\)/);
  });

  it("names HF_HUB_OFFLINE when that is what keeps it offline", async () => {
    const dir = await tempDir();
    const result = await runCli(["analyze", EXAMPLES, "--quiet", "--experts", "neural"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.stderr).toContain("offline mode is on (HF_HUB_OFFLINE=1)");
    expect(result.stderr).not.toContain("(--offline)");

    const experts = await runCli(["experts"], { cwd: dir, env: isolatedEnv(dir) });
    expect(experts.stdout).toMatch(/NewsSummarizationLLMExpert +\[summarization\] +unavailable: .*offline mode is on \(HF_HUB_OFFLINE=1\)/);
    expect(experts.stdout).not.toContain("(--offline)");
  });
});

describe("news-moe analyze with the neural experts, stopped mid-run", () => {
  it("SIGTERM while summaries are in the running batch: exit 130 and the journal kept (Node's 13 before: the summariser's worker was let go while it shut down)", async () => {
    const dir = await tempDir();
    const content = examples.find((e) => e.content.length > 400)!.content;
    const input = join(dir, "news.json");
    await writeFile(input, JSON.stringify(Array.from({ length: 24 }, (_, i) => ({ id: `item-${i}`, content }))));
    const output = join(dir, "out.json");
    // Long summaries (the tiny model runs to --max-length): many decoder steps in flight when the signal comes.
    const run = startCli(
      ["analyze", input, "-o", output, "--summarizer-model", SUMMARIZER_DIR, "--sentiment-model", SENTIMENT_DIR, "--offline", "--quiet", "--max-length", "200", "--min-length", "190"],
      { cwd: dir, env: onlineLookingEnv(dir) },
    );
    // Once the models are in and the batch runs: the compiled graphs are ready and the journal exists.
    const deadline = Date.now() + 60_000;
    while (!existsSync(`${output}.journal`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    run.child.kill("SIGTERM");
    const result = await run.done;
    expectUserFailure(result, 130, /news-moe: interrupted (before any item was finished; run it again to start|; \d+ finished items are kept in .*out\.json\.journal; rerun with --resume)\n/);
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.journal`)).toBe(true);
  }, 120_000);
});
