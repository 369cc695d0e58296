/**
 * A queue worker stops on SIGTERM within seconds in every state it can be in (connecting to a
 * Redis that is not there, idle, in the middle of a job, and after Redis went away mid-job), exits
 * 0, and loses nothing; the one-shot commands (submit, status, collect) meet an unreachable Redis
 * with one line and exit 69; a submit stopped half-way says what it queued, and submitting again
 * finishes the run. All through the built CLI and a real redis-server.
 */
import type { ChildProcess } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { expectUserFailure, isolatedEnv, REPO_ROOT, runCli, startCli, tempDir, type CliResult } from "./helpers/cli.js";
import { endAfterEachTest, freePort, HAVE_REDIS } from "./helpers/redis.js";

if (!HAVE_REDIS && process.env.NEWS_MOE_REQUIRE_REDIS) throw new Error("redis-server is not on PATH");

const SLOW_PLUGIN = join(REPO_ROOT, "test/fixtures/plugins/slow-tagger.mjs");
const ENGINE = ["--plugin", SLOW_PLUGIN, "--experts", "embedded,SlowTagger"];
/** The worker's documented bound: 2 s for the jobs in hand to finish, 3 s to hand them back, 2 s to release models. */
const STOP_BOUND_MS = 7_000;
/** Slack for process exit and a loaded 2-core machine. */
const STOP_SLACK_MS = 3_000;

const { redisServer, track } = endAfterEachTest();

/** A worker process whose stderr the test can wait on while it runs. */
function startWorker(dir: string, url: string, queue: string, slowMs: number) {
  const started = startCli(["worker", "--redis", url, "--queue", queue, "--stall-timeout", "2000", ...ENGINE], {
    cwd: dir,
    env: isolatedEnv(dir, { SLOW_TAGGER_MS: String(slowMs) }),
  });
  track(started.child);
  let stderr = "";
  started.child.stderr?.on("data", (chunk: string) => (stderr += chunk));
  return { ...started, stderr: () => stderr };
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** SIGTERM, then how long the process took to exit and how. */
async function terminate(worker: { child: ChildProcess; done: Promise<CliResult> }): Promise<{ ms: number; result: CliResult }> {
  const sent = Date.now();
  worker.child.kill("SIGTERM");
  const result = await Promise.race([worker.done, sleep(60_000).then(() => null)]);
  if (!result) throw new Error("the worker was still running a minute after SIGTERM");
  return { ms: Date.now() - sent, result };
}

/** 16 items in two jobs of 8, and what analyze writes for them with the same experts. */
async function smallRun(dir: string): Promise<{ input: string; expected: string }> {
  const items = Array.from({ length: 16 }, (_, i) => ({
    id: `item-${i}`,
    headline: `Headline ${i}`,
    content: `Story number ${i} tells how the home side won ${i} games in a row. The coach praised the players. Fans celebrated late.`,
  }));
  const input = join(dir, "news.json");
  await writeFile(input, JSON.stringify(items));
  const analyzed = await runCli(["analyze", input, "-o", "expected.json", ...ENGINE, "--quiet"], { cwd: dir, env: isolatedEnv(dir, { SLOW_TAGGER_MS: "0" }) });
  expect(analyzed.code, analyzed.stderr).toBe(0);
  return { input, expected: await readFile(join(dir, "expected.json"), "utf8") };
}

describe.skipIf(!HAVE_REDIS)("a worker stops on SIGTERM in every state, exit 0, nothing lost", () => {
  it("while connecting to a Redis that is not there", async () => {
    const dir = await tempDir("news-moe-stop-connecting-");
    const worker = startWorker(dir, `redis://127.0.0.1:${await freePort()}`, "q", 0);
    await waitFor("the worker to report the refused connection", () => worker.stderr().includes("connection refused"));
    expect(worker.stderr()).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: connection refused; retrying/);
    const { ms, result } = await terminate(worker);
    expect(result.code, result.stderr).toBe(0);
    expect(ms).toBeLessThan(STOP_BOUND_MS + STOP_SLACK_MS);
    expect(result.stderr).not.toMatch(/internal error|^\s+at /m);
  }, 60_000);

  it("while idle", async () => {
    const dir = await tempDir("news-moe-stop-idle-");
    const redis = await redisServer(dir);
    const worker = startWorker(dir, redis.url, "q", 0);
    await waitFor("the worker to be ready", () => worker.stderr().includes("ready on queue q"));
    const { ms, result } = await terminate(worker);
    expect(result.code, result.stderr).toBe(0);
    expect(ms).toBeLessThan(STOP_BOUND_MS + STOP_SLACK_MS);
    expect(result.stderr).toContain("stopped");
  }, 60_000);

  it("mid-job: the job goes back to the queue as never started, and another worker completes the run as analyze would", async () => {
    const dir = await tempDir("news-moe-stop-midjob-");
    const { input, expected } = await smallRun(dir);
    const redis = await redisServer(dir);
    const db = redis.client();
    const queue = ["--redis", redis.url, "--queue", "mid"];
    const submitted = await runCli(["submit", input, ...queue, "--chunk-size", "8"], { cwd: dir, env: isolatedEnv(dir) });
    expect(submitted.code, submitted.stderr).toBe(0);
    const runId = submitted.stdout.trim();
    const keys = (name: string) => `news-moe:mid:${runId}:${name}`;

    // 8 items in batches of 4 at 1.5 s an item: a 12 s job, far longer than the 2 s a stop lets it finish.
    const slow = startWorker(dir, redis.url, "mid", 1500);
    await waitFor("a job in hand", async () => (await db.llen("bull:mid:active")) === 1 && (await db.hlen(keys("tries"))) === 1, 60_000);
    const { ms, result } = await terminate(slow);
    expect(result.code, result.stderr).toBe(0);
    expect(ms).toBeLessThan(STOP_BOUND_MS + STOP_SLACK_MS);
    expect(result.stderr).toContain("the jobs in hand went back to the queue");
    // Handed back as never started: waiting again, no attempt spent, its start not counted (a stop is not a crash).
    expect(await db.llen("bull:mid:active")).toBe(0);
    expect(await db.llen("bull:mid:wait")).toBe(2);
    expect(await db.hgetall(keys("tries"))).toEqual({});
    expect(await db.hlen(keys("records"))).toBe(0);

    const fast = startWorker(dir, redis.url, "mid", 0);
    const collected = await runCli(["collect", runId, ...queue, "-o", "collected.json", "--wait", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(collected.code, collected.stderr).toBe(0);
    expect(await readFile(join(dir, "collected.json"), "utf8")).toBe(expected);
    // Each job started once by the second worker: as a first try, in one batch.
    expect(await db.hgetall(keys("tries"))).toEqual({ c0: "1", c8: "1" });
    expect((await terminate(fast)).result.code).toBe(0);
    db.disconnect();
  }, 120_000);

  it("after Redis was lost mid-job: exit 0 at once; once Redis is back, another worker redoes the job and nothing is lost", async () => {
    const dir = await tempDir("news-moe-stop-lost-");
    const { input, expected } = await smallRun(dir);
    const redis = await redisServer(dir, "always");
    const db = redis.client();
    const queue = ["--redis", redis.url, "--queue", "lost"];
    const submitted = await runCli(["submit", input, ...queue, "--chunk-size", "8"], { cwd: dir, env: isolatedEnv(dir) });
    expect(submitted.code, submitted.stderr).toBe(0);
    const runId = submitted.stdout.trim();

    const slow = startWorker(dir, redis.url, "lost", 1500);
    await waitFor("a job in hand", async () => (await db.llen("bull:lost:active")) === 1, 60_000);
    db.disconnect();
    await redis.kill();
    await waitFor("the worker to notice", () => slow.stderr().includes("connection refused"), 30_000);
    const { ms, result } = await terminate(slow);
    expect(result.code, result.stderr).toBe(0);
    expect(ms).toBeLessThan(STOP_BOUND_MS + STOP_SLACK_MS);
    expect(result.stderr).toContain("taken over by another worker once its lock expires");

    await redis.start();
    const fast = startWorker(dir, redis.url, "lost", 0);
    const collected = await runCli(["collect", runId, ...queue, "-o", "collected.json", "--wait", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(collected.code, collected.stderr).toBe(0);
    expect(await readFile(join(dir, "collected.json"), "utf8")).toBe(expected);
    expect((await terminate(fast)).result.code).toBe(0);
  }, 120_000);
});

describe.skipIf(!HAVE_REDIS)("status", () => {
  it("gives an ETA while a worker is on the queue, and none once no worker is left", async () => {
    const dir = await tempDir("news-moe-status-eta-");
    const items = Array.from({ length: 40 }, (_, i) => ({ id: `e${i}`, content: `Story ${i}: the side won again and the fans sang.` }));
    const input = join(dir, "news.json");
    await writeFile(input, JSON.stringify(items));
    const redis = await redisServer(dir);
    const db = redis.client();
    const queue = ["--redis", redis.url, "--queue", "eta"];
    const submitted = await runCli(["submit", input, ...queue, "--chunk-size", "8"], { cwd: dir, env: isolatedEnv(dir) });
    expect(submitted.code, submitted.stderr).toBe(0);
    const runId = submitted.stdout.trim();
    // 8 items at 600 ms each, in batches of 4: a job takes about 5 s; five of them, so the run is
    // far from complete when the worker stops (it finishes or hands back the job in hand).
    const worker = startWorker(dir, redis.url, "eta", 600);
    await waitFor("the first job stored", async () => (await db.hlen(`news-moe:eta:${runId}:records`)) >= 8);
    const running = await runCli(["status", runId, ...queue], { cwd: dir, env: isolatedEnv(dir) });
    expect(running.stdout).toMatch(/1 workers on the queue; [\d.]+ items\/s; ETA \d+s\n$/);
    expect((await terminate(worker)).result.code).toBe(0);

    const text = await runCli(["status", runId, ...queue], { cwd: dir, env: isolatedEnv(dir) });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/; 0 workers on the queue; [\d.]+ items\/s; no ETA: no worker is on the queue\n$/);
    const json = JSON.parse((await runCli(["status", runId, ...queue, "--json"], { cwd: dir, env: isolatedEnv(dir) })).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ workers: 0, complete: false, etaSeconds: null });
    expect(json["rate"]).toBeGreaterThan(0);
    db.disconnect();
  }, 90_000);
});

describe("submit, status and collect against an unreachable Redis", () => {
  it("say so in one line and exit 69, at once", async () => {
    const dir = await tempDir("news-moe-redis-down-");
    const url = `redis://127.0.0.1:${await freePort()}`;
    const input = join(dir, "news.json");
    await writeFile(input, JSON.stringify([{ id: "a", content: "One item." }]));
    const env = isolatedEnv(dir);
    for (const args of [
      ["submit", input],
      ["status", "0123456789abcdef"],
      ["collect", "0123456789abcdef", "-o", "out.json"],
      ["collect", "0123456789abcdef", "-o", "out.json", "--wait"],
    ]) {
      const started = Date.now();
      const result = await runCli([...args, "--redis", url], { cwd: dir, env });
      expectUserFailure(result, 69, `news-moe: cannot connect to Redis at ${url}: connection refused\n`);
      expect(result.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      // Process start included; ioredis's retries took 4 s and more before.
      expect(Date.now() - started, args.join(" ")).toBeLessThan(8_000);
    }
    // A password in the URL is not repeated.
    const withPassword = await runCli(["status", "0123456789abcdef", "--redis", url.replace("//", "//:hunter2@")], { cwd: dir, env });
    expectUserFailure(withPassword, 69, "cannot connect to Redis at redis://:***@127.0.0.1:");
    expect(withPassword.stderr).not.toContain("hunter2");
  }, 60_000);
});

describe.skipIf(!HAVE_REDIS)("submit stopped by SIGTERM while it waits for room", () => {
  it("exits 130 saying how many jobs it queued; submitting the same file again queues the rest, and the run completes as analyze", async () => {
    const dir = await tempDir("news-moe-submit-stop-");
    const { input, expected } = await smallRun(dir);
    const redis = await redisServer(dir);
    const db = redis.client();
    const queue = ["--redis", redis.url, "--queue", "stopped"];
    const env = isolatedEnv(dir, { SLOW_TAGGER_MS: "0" });
    // 16 items in 8 jobs of 2, at most 3 waiting: with no worker, submit queues 3 and waits.
    const submitting = startCli(["submit", input, ...queue, "--chunk-size", "2", "--max-waiting", "3"], { cwd: dir, env });
    track(submitting.child);
    await waitFor("3 waiting jobs", async () => (await db.llen("bull:stopped:wait")) === 3);
    const stopped = await terminate(submitting);
    const runId = stopped.result.stdout.trim();
    expectUserFailure(
      stopped.result,
      130,
      `news-moe: interrupted; 3 of run ${runId}'s 8 jobs were queued by this submit; workers take those as usual, and submitting the same file again queues the rest\n`,
    );
    expect(stopped.ms).toBeLessThan(STOP_SLACK_MS);
    expect(await db.llen("bull:stopped:wait")).toBe(3);

    const worker = startWorker(dir, redis.url, "stopped", 0);
    const again = await runCli(["submit", input, ...queue, "--chunk-size", "2", "--max-waiting", "3"], { cwd: dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(runId);
    const collected = await runCli(["collect", runId, ...queue, "-o", "collected.json", "--wait"], { cwd: dir, env });
    expect(collected.code, collected.stderr).toBe(0);
    expect(await readFile(join(dir, "collected.json"), "utf8")).toBe(expected);
    await terminate(worker);
    db.disconnect();
  }, 90_000);
});
