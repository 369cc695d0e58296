/**
 * Issue 9, item 2: code written for the tutorial's output reads `analyses.NewsSummarizationLLMExpert`
 * and `analyses.SentimentAnalysisLLMExpert` of every entry and skips those carrying `error`. It has to
 * work unchanged on every output `analyze` writes by default, whichever experts ran, while the
 * output still names the expert behind each value.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/io/output-record.js";
import { EXAMPLES, REPO_ROOT, isolatedEnv, runCli, tempDir } from "./helpers/cli.js";

const CONSUMER = join(REPO_ROOT, "test/fixtures/consumers/tutorial-consumer.mjs");
const TINY_MODELS = [
  "--summarizer-model", join(REPO_ROOT, "test/fixtures/models/tiny-distilbart-cnn-6-6"),
  "--sentiment-model", join(REPO_ROOT, "test/fixtures/models/tiny-distilbert-sst2"),
  "--max-length", "20", "--min-length", "5",
];

async function consume(file: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [CONSUMER, file]);
  return stdout.trim().split("\n");
}

type Entry = { expert?: string; error?: string; skipped?: boolean; summary?: string; sentiment_label?: string };

describe("a consumer written for the tutorial's output", () => {
  // Each case's check runs on every record whose sentiment has a value.
  const cases: Array<[string, string[], (r: AnalysisRecord) => void]> = [
    // The quick start on a machine without the models: the neural experts fall back to the embedded ones.
    ["offline fallback (the default command)", [], (r) => {
      expect((r.analyses.NewsSummarizationLLMExpert as Entry).expert).toBe("ExtractiveSummarizerExpert");
    }],
    ["--experts embedded", ["--experts", "embedded"], (r) => {
      expect((r.analyses.SentimentAnalysisLLMExpert as Entry).expert).toBe("LexiconSentimentExpert");
    }],
    ["--router all with the neural experts (a mixture per task)", ["--router", "all", ...TINY_MODELS], (r) => {
      expect((r.analyses.SentimentAnalysisLLMExpert as Entry).expert).toBe("mixture");
      expect(Object.keys((r.mixture?.["sentiment"] as { outputs: object }).outputs)).toEqual(["SentimentAnalysisLLMExpert", "LexiconSentimentExpert"]);
    }],
    ["the neural experts (tiny fixture models)", TINY_MODELS, (r) => {
      expect((r.analyses.SentimentAnalysisLLMExpert as Entry).expert).toBe("SentimentAnalysisLLMExpert");
    }],
  ];

  for (const [name, flags, check] of cases) {
    it(`works unchanged on ${name}`, async () => {
      const dir = await tempDir("news-moe-consumer-");
      const out = join(dir, "analyzed_news_data.json");
      const result = await runCli(["analyze", EXAMPLES, "-o", out, "-q", ...flags], { cwd: dir, env: isolatedEnv(dir) });
      expect(result.code, result.stderr).toBe(1); // the example's empty-content item fails, nothing else
      const lines = await consume(out);
      expect(lines).toHaveLength(16);
      const records = JSON.parse(await readFile(out, "utf8")) as AnalysisRecord[];
      // The empty-content item: an error under each key, in the tutorial's way.
      expect(lines.find((l) => l.startsWith("cd1m6k3yw7go:"))).toMatch(/summary error \(.*content is empty.*\), sentiment error/);
      // The Spanish item gets a summary; its sentiment is skipped (no expert reads Spanish) and says why.
      const spanish = records.find((r) => r.url?.includes("/football/articles/") && /El CD Villanueva/.test(JSON.stringify(r.analyses)));
      if (!flags.includes("all")) {
        const skipped = spanish?.analyses.SentimentAnalysisLLMExpert as Entry;
        expect(skipped).toMatchObject({ skipped: true, error: expect.stringMatching(/^skipped: language "spa"/) });
      }
      // Every other item has a summary and a sentiment, and says which expert gave each.
      const complete = lines.filter((l) => !l.includes("error"));
      expect(complete.length).toBeGreaterThanOrEqual(14);
      for (const record of records) {
        for (const key of ["NewsSummarizationLLMExpert", "SentimentAnalysisLLMExpert"]) {
          const entry = record.analyses[key] as Entry;
          if (entry.error === undefined || !record.error) expect(typeof entry.expert === "string" || entry.skipped).toBe(true);
        }
        if (!record.error && (record.analyses.SentimentAnalysisLLMExpert as Entry).error === undefined) check(record);
      }
    }, 120_000);
  }
});
