/**
 * `analyze` with a hub model that is not cached: the summariser's load() downloads it (from a fake
 * hub on localhost serving the tiny fixture model), the CLI shows the download as it goes, and only
 * the files of the model file plan are fetched: no split decoder pair.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/core/analysis-record.js";
import { FakeHub, onlineUserEnv } from "./helpers/fake-hub.js";
import { REPO_ROOT, runCli, tempDir } from "./helpers/cli.js";
import { readFile } from "node:fs/promises";

const SUMMARIZER_DIR = join(REPO_ROOT, "test/fixtures/models/tiny-distilbart-cnn-6-6");

let hub: FakeHub;
beforeAll(async () => {
  hub = await FakeHub.start();
  await hub.publish("Xenova/distilbart-cnn-6-6", SUMMARIZER_DIR);
});
afterAll(async () => {
  await hub.close();
});

describe("analyze downloading a model on first use", () => {
  it("shows download progress on stderr and fetches only the planned files", async () => {
    const dir = await tempDir("news-moe-download-");
    const input = join(dir, "news.json");
    const content =
      "The home side won the derby on Saturday after a late goal. Their manager praised the defence and said the squad " +
      "had earned the result after weeks of hard training. Supporters sang long after the final whistle at the ground.";
    await writeFile(input, JSON.stringify([{ id: "a", content }]));
    const env = onlineUserEnv(hub, dir);
    const result = await runCli(
      ["analyze", input, "-o", "out.json", "--experts", "NewsSummarizationLLMExpert,LexiconSentimentExpert", "--max-length", "12", "--min-length", "2"],
      { cwd: dir, env },
    );
    expect(result.stderr).toContain("downloading Xenova/distilbart-cnn-6-6/onnx/encoder_model.onnx");
    expect(result.stderr).toContain("stored Xenova/distilbart-cnn-6-6/onnx/decoder_model_merged.onnx");
    expect(result.code).toBe(0);
    const [record] = JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as AnalysisRecord[];
    expect(typeof (record?.analyses.NewsSummarizationLLMExpert as { summary?: unknown }).summary).toBe("string");
    const fetched = hub.requests.map((r) => r.url);
    expect(fetched.some((url) => /decoder_model\.onnx|decoder_with_past/.test(url))).toBe(false);
    expect(fetched.some((url) => /_quantized/.test(url))).toBe(false);
  }, 120_000);
});
