/**
 * A stop signal while a model downloads on first use, through the real process and a fake hub on
 * loopback whose CDN goes silent half-way through the encoder graph: the command stops at once with
 * status 130 (serve and worker: 0, a stop is how they end) and says so, the bytes it had are kept,
 * and the next run resumes from them (a Range request) instead of starting over.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/core/analysis-record.js";
import { FakeHub, onlineUserEnv } from "./helpers/fake-hub.js";
import { REPO_ROOT, expectUserFailure, runCli, startCli, tempDir, type CliResult } from "./helpers/cli.js";
import { endAfterEachTest, HAVE_REDIS } from "./helpers/redis.js";

const SUMMARIZER_DIR = join(REPO_ROOT, "test/fixtures/models/tiny-distilbart-cnn-6-6");
const REPO = "Xenova/distilbart-cnn-6-6";
const STALLED = "onnx/encoder_model.onnx";

const { redisServer } = endAfterEachTest();

let hub: FakeHub;
beforeAll(async () => {
  hub = await FakeHub.start();
  await hub.publish(REPO, SUMMARIZER_DIR);
});
afterAll(async () => {
  await hub.close();
});

const hubEnv = (dir: string): NodeJS.ProcessEnv => onlineUserEnv(hub, dir);

/** Starts the command with the encoder's download set to stall half-way, and signals it once that download has begun. */
async function stopMidDownload(args: string[], dir: string, signal: NodeJS.Signals): Promise<{ result: CliResult; stoppedInMs: number }> {
  hub.faults.stallHalfway.set(STALLED, 1);
  const run = startCli(args, { cwd: dir, env: hubEnv(dir) });
  let stderr = "";
  run.child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!stderr.includes(`downloading ${REPO}/${STALLED}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(stderr).toContain(`downloading ${REPO}/${STALLED}`);
  // Half of the file has been sent by now; the transfer is silent, far from the 30 s that count as cut.
  await new Promise((r) => setTimeout(r, 300));
  const sent = Date.now();
  run.child.kill(signal);
  const result = await run.done;
  return { result, stoppedInMs: Date.now() - sent };
}

async function incompleteBlobs(dir: string): Promise<string[]> {
  const blobs = join(dir, "hf", "hub", `models--${REPO.replace("/", "--")}`, "blobs");
  return (await readdir(blobs)).filter((name) => name.endsWith(".incomplete"));
}

/** The Range requests of the stalled file's CDN download since the log was reset: the resumed offsets. */
function resumedFrom(): number[] {
  return hub.requests.filter((r) => r.url.startsWith("/cdn/") && r.range).map((r) => Number(/^bytes=(\d+)-$/.exec(r.range!)?.[1]));
}

describe("stopped while a model downloads", () => {
  it("analyze: exits 130 at once, names the download it stopped, and the next run resumes it", async () => {
    const dir = await tempDir("news-moe-download-stop-");
    const input = join(dir, "news.json");
    const content = "The home side won the derby on Saturday after a late goal. Their manager praised the defence and the fans.";
    await writeFile(input, JSON.stringify([{ id: "a", content }]));
    const args = ["analyze", input, "-o", "out.json", "--experts", "NewsSummarizationLLMExpert,LexiconSentimentExpert", "--max-length", "12", "--min-length", "2"];

    const { result, stoppedInMs } = await stopMidDownload(args, dir, "SIGTERM");
    expectUserFailure(result, 130, "news-moe: interrupted before any item was finished; run it again to start\n");
    expect(result.stderr).toMatch(new RegExp(`news-moe: the download of ${REPO}/${STALLED} stopped at [\\d.]+ [kM]B of [\\d.]+ [kM]B; the next run resumes it\\n`));
    expect(stoppedInMs).toBeLessThan(5_000);
    expect(existsSync(join(dir, "out.json"))).toBe(false);
    expect(await incompleteBlobs(dir)).toHaveLength(1);

    hub.resetLog();
    const again = await runCli(args, { cwd: dir, env: hubEnv(dir) });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`downloading ${REPO}/${STALLED} \\([\\d.]+ [kM]B, resuming at [\\d.]+ [kM]B\\)`));
    const offsets = resumedFrom();
    expect(offsets).toHaveLength(1);
    expect(offsets[0]).toBeGreaterThan(0);
    expect(await incompleteBlobs(dir)).toEqual([]);
    const [record] = JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as AnalysisRecord[];
    expect(typeof (record?.analyses["NewsSummarizationLLMExpert"] as { summary?: unknown }).summary).toBe("string");
  }, 120_000);

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`models pull, ${signal}: exits 130 (not 0: the models are not there) and the next pull resumes`, async () => {
      const dir = await tempDir("news-moe-pull-stop-");
      const { result, stoppedInMs } = await stopMidDownload(["models", "pull", REPO], dir, signal);
      expectUserFailure(result, 130, "interrupted: partial downloads are kept and resume on the next pull\n");
      expect(stoppedInMs).toBeLessThan(5_000);
      expect(await incompleteBlobs(dir)).toHaveLength(1);

      hub.resetLog();
      const again = await runCli(["models", "pull", REPO], { cwd: dir, env: hubEnv(dir) });
      expect(again.code, again.stderr).toBe(0);
      expect(resumedFrom()).toHaveLength(1);
      expect(resumedFrom()[0]).toBeGreaterThan(0);
      expect(await incompleteBlobs(dir)).toEqual([]);
    }, 120_000);
  }

  it("serve: stops at once instead of waiting for the download (it waited for the whole file), exit 0, never ready", async () => {
    const dir = await tempDir("news-moe-serve-download-stop-");
    const { result, stoppedInMs } = await stopMidDownload(["serve", "--port", "0", "--experts", "NewsSummarizationLLMExpert,LexiconSentimentExpert"], dir, "SIGTERM");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("news-moe: stopping: no request had been accepted; a model download stops now, a model being opened finishes first");
    expect(result.stderr).toContain("stopped after 0 items");
    expect(result.stderr).not.toMatch(/ready \(/);
    expect(stoppedInMs).toBeLessThan(5_000);
    expect(await incompleteBlobs(dir)).toHaveLength(1);
  }, 120_000);

  it.skipIf(!HAVE_REDIS)("worker: stops at once instead of waiting for the download, exit 0, before taking any job", async () => {
    const dir = await tempDir("news-moe-worker-download-stop-");
    const redis = await redisServer(dir);
    const { result, stoppedInMs } = await stopMidDownload(
      ["worker", "--redis", redis.url, "--queue", "download", "--experts", "NewsSummarizationLLMExpert,LexiconSentimentExpert"],
      dir,
      "SIGTERM",
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/stopping: a model download stops now, a model being opened finishes first\n.*stopped before taking any job\n/s);
    expect(stoppedInMs).toBeLessThan(5_000);
    expect(await incompleteBlobs(dir)).toHaveLength(1);
  }, 120_000);
});
