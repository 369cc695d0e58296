/**
 * Scaling out on Redis, end to end: a real redis-server of the test's own, real worker processes
 * of the built CLI, and as the expected output what `news-moe analyze` writes for the same input
 * (so the records' shape is whatever the engine makes, never restated here).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/core/analysis-record.js";
import { isolatedEnv, REPO_ROOT, runCli, startCli, tempDir, type CliResult } from "./helpers/cli.js";
import { endAfterEachTest, HAVE_REDIS, type RedisServer } from "./helpers/redis.js";

const GENERATOR = join(REPO_ROOT, "scripts/generate-news.mjs");
const POISON_PLUGIN = join(REPO_ROOT, "test/fixtures/plugins/poison-expert.mjs");
/** Short, so a killed worker's job is taken over within seconds; long enough for a loaded 2-core box. */
const STALL_MS = "2000";

// CI installs redis-server (.ci/run) and sets NEWS_MOE_REQUIRE_REDIS, so there these never skip.
if (!HAVE_REDIS && process.env.NEWS_MOE_REQUIRE_REDIS) throw new Error("redis-server is not on PATH");

const { redisServer, track } = endAfterEachTest();

function generate(dir: string, name: string, args: string[]): string {
  const file = join(dir, name);
  execFileSync(process.execPath, [GENERATOR, "--out", file, "--quiet", ...args]);
  return file;
}

/** A worker process of the built CLI; `engine` are its analyze-style options (default: the embedded experts). */
function startWorker(dir: string, redis: RedisServer, queue: string, engine = ["--experts", "embedded"], env: Record<string, string> = {}) {
  const started = startCli(["worker", "--redis", redis.url, "--queue", queue, "--stall-timeout", STALL_MS, "-q", ...engine], {
    cwd: dir,
    env: isolatedEnv(dir, env),
  });
  track(started.child);
  return started;
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function expectExit(result: CliResult, code: number): void {
  expect(result.code, result.stderr).toBe(code);
}

describe.skipIf(!HAVE_REDIS)("news-moe submit / worker / collect on a real Redis", () => {
  it("5,000 items, two workers, one killed with SIGKILL mid-job: collect equals analyze, byte for byte; submitting twice adds nothing", async () => {
    const dir = await tempDir("news-moe-queue-");
    // Every 997th item is invalid: its error record must still land at its own input position.
    const input = generate(dir, "news.json", ["--count", "5000", "--seed", "13", "--min-words", "20", "--max-words", "120", "--bad-every", "997"]);
    const env = isolatedEnv(dir);
    expectExit(await runCli(["analyze", input, "-o", "expected.json", "--experts", "embedded", "--quiet"], { cwd: dir, env }), 1);
    const expected = await readFile(join(dir, "expected.json"), "utf8");

    const redis = await redisServer(dir);
    const db = redis.client();
    const queue = ["--redis", redis.url, "--queue", "big"];
    const first = await runCli(["submit", input, ...queue], { cwd: dir, env });
    expectExit(first, 0);
    const runId = first.stdout.trim();
    expect(runId).toMatch(/^[0-9a-f]{16}$/);
    const again = await runCli(["submit", input, ...queue], { cwd: dir, env });
    expectExit(again, 0);
    expect(again.stdout.trim()).toBe(runId);
    // Same job ids: the second submit queued nothing new.
    expect(await db.llen("bull:big:wait")).toBe(Math.ceil(5000 / 64));

    const a = startWorker(dir, redis, "big");
    const b = startWorker(dir, redis, "big");
    const records = `news-moe:big:${runId}:records`;
    // A good part is done and both workers are inside a job (each runs one at a time): two chunks
    // started (counted in tries) and not stored yet. Kill one now.
    const inProgress = async () => (await db.hlen(`news-moe:big:${runId}:tries`)) - (await db.scard(`news-moe:big:${runId}:chunks`));
    await waitFor("both workers inside a job after 1,000 records", async () => (await db.hlen(records)) >= 1000 && (await inProgress()) === 2, 300_000);
    a.child.kill("SIGKILL");
    expect((await a.done).signal).toBe("SIGKILL");

    const collected = await runCli(["collect", runId, ...queue, "-o", "collected.json", "--wait", "--quiet"], { cwd: dir, env });
    expectExit(collected, 1); // as analyze: the invalid items failed
    expect(await readFile(join(dir, "collected.json"), "utf8")).toBe(expected);
    // The killed worker's job was started twice and redone by the other worker.
    const tries = await db.hgetall(`news-moe:big:${runId}:tries`);
    expect(Object.entries(tries).filter(([k, v]) => k.startsWith("c") && Number(v) >= 2).length).toBeGreaterThanOrEqual(1);

    const status = await runCli(["status", runId, ...queue, "--json"], { cwd: dir, env });
    expectExit(status, 0);
    const failedExpected = (JSON.parse(expected) as AnalysisRecord[]).filter((r) => r.error !== undefined || Object.values(r.analyses).some((e) => "error" in e)).length;
    expect(JSON.parse(status.stdout)).toMatchObject({ run: runId, total: 5000, done: 5000, missing: 0, failed: failedExpected, complete: true, workers: 1, etaSeconds: 0 });

    // A third submit after the end: every chunk is done, nothing is queued, nothing duplicated.
    const late = await runCli(["submit", input, ...queue], { cwd: dir, env });
    expectExit(late, 0);
    expect(late.stdout.trim()).toBe(runId);
    expect(late.stderr).toContain(`${Math.ceil(5000 / 64)} jobs already done`);
    expect(await db.llen("bull:big:wait")).toBe(0);
    expect(await db.hlen(records)).toBe(5000);
    const jsonl = await runCli(["collect", runId, ...queue, "-o", "-", "--quiet"], { cwd: dir, env });
    expectExit(jsonl, 1);
    expect(jsonl.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as unknown)).toEqual(JSON.parse(expected));

    b.child.kill("SIGTERM");
    expect((await b.done).code).toBe(0);
    db.disconnect();
  });

  it("a Redis killed and restarted with appendfsync always loses no finished record; the worker carries on", async () => {
    const dir = await tempDir("news-moe-queue-aof-");
    const input = generate(dir, "news.jsonl", ["--count", "600", "--seed", "5", "--min-words", "30", "--max-words", "200"]);
    const env = isolatedEnv(dir);
    expectExit(await runCli(["analyze", input, "-o", "expected.jsonl", "--format", "jsonl", "--experts", "embedded", "--quiet"], { cwd: dir, env }), 0);

    const redis = await redisServer(dir, "always");
    const db = redis.client();
    const queue = ["--redis", redis.url, "--queue", "aof"];
    const submitted = await runCli(["submit", input, ...queue, "--chunk-size", "20"], { cwd: dir, env });
    expectExit(submitted, 0);
    const runId = submitted.stdout.trim();
    const worker = startWorker(dir, redis, "aof");
    const records = `news-moe:aof:${runId}:records`;
    await waitFor("200 records", async () => (await db.hlen(records)) >= 200);
    const before = await db.hgetall(records);
    db.disconnect();
    await redis.kill();
    await sleep(500);
    await redis.start();

    const after = redis.client();
    const survived = await after.hgetall(records);
    for (const [position, line] of Object.entries(before)) expect(survived[position], `record ${position}`).toBe(line);
    const collected = await runCli(["collect", runId, ...queue, "-o", "collected.jsonl", "--format", "jsonl", "--wait", "--quiet"], { cwd: dir, env });
    expectExit(collected, 0);
    expect(await readFile(join(dir, "collected.jsonl"), "utf8")).toBe(await readFile(join(dir, "expected.jsonl"), "utf8"));
    expect(worker.child.exitCode).toBeNull(); // it waited for Redis instead of dying
    after.disconnect();
  });

  it("an item that crashes its worker ends as its own error record after --attempts; the rest complete", async () => {
    const dir = await tempDir("news-moe-queue-poison-");
    const input = generate(dir, "news.json", ["--count", "60", "--seed", "21", "--min-words", "30", "--max-words", "120"]);
    const items = JSON.parse(await readFile(input, "utf8")) as Array<{ id: string; headline: string; url: string }>;
    const poison = items[23]!;
    const engine = ["--plugin", POISON_PLUGIN, "--experts", "embedded,PoisonExpert"];
    // The expected records: the same plugin, without the poison.
    expectExit(await runCli(["analyze", input, "-o", "expected.json", ...engine, "--quiet"], { cwd: dir, env: isolatedEnv(dir) }), 0);
    const expected = JSON.parse(await readFile(join(dir, "expected.json"), "utf8")) as AnalysisRecord[];

    const redis = await redisServer(dir);
    const queue = ["--redis", redis.url, "--queue", "poison"];
    const submitted = await runCli(["submit", input, ...queue, "--chunk-size", "10", "--attempts", "2"], { cwd: dir, env: isolatedEnv(dir) });
    expectExit(submitted, 0);
    const runId = submitted.stdout.trim();

    // A supervisor's job (systemd Restart=always, a Kubernetes Deployment): one worker, restarted whenever it dies.
    let deaths = 0;
    let finished = false;
    const supervise = (async () => {
      while (!finished) {
        const worker = startWorker(dir, redis, "poison", engine, { POISON_ID: poison.id });
        const exit = await Promise.race([worker.done, waitFor("the run", async () => finished, 600_000).then(() => null)]);
        if (exit === null) break;
        expect(exit.signal).toBe("SIGKILL");
        deaths++;
      }
    })();
    const collected = await runCli(["collect", runId, ...queue, "-o", "collected.json", "--wait", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    finished = true;
    await supervise;
    expectExit(collected, 1);
    const records = JSON.parse(await readFile(join(dir, "collected.json"), "utf8")) as AnalysisRecord[];
    expect(records).toHaveLength(60);
    // As analyze writes an item that never reached an expert: the error, also under each tutorial
    // key of the run's tasks (README, "The tutorial's keys always hold the answer").
    const givenUp = `item 23 (id ${JSON.stringify(poison.id)}): given up after 2 tries: the worker process died each time while analysing it`;
    expect(records[23]).toEqual({
      id: poison.id,
      headline: poison.headline,
      url: poison.url,
      analyses: { NewsSummarizationLLMExpert: { error: givenUp }, SentimentAnalysisLLMExpert: { error: givenUp } },
      routing: null,
      error: givenUp,
    });
    for (let i = 0; i < 60; i++) if (i !== 23) expect(records[i], `item ${i}`).toEqual(expected[i]);
    // Once with its whole job, then twice alone: --attempts 2, then the error record.
    expect(deaths).toBe(3);
    // Four worker processes start and load their engine one after another: minutes on a busy machine.
  }, 300_000);

  it("SIGTERM lets a worker finish the job in hand, store it, and exit 0", async () => {
    const dir = await tempDir("news-moe-queue-term-");
    const input = generate(dir, "news.json", ["--count", "3000", "--seed", "8", "--min-words", "30", "--max-words", "200"]);
    const redis = await redisServer(dir);
    const db = redis.client();
    const queue = ["--redis", redis.url, "--queue", "term"];
    const submitted = await runCli(["submit", input, ...queue, "--chunk-size", "100"], { cwd: dir, env: isolatedEnv(dir) });
    expectExit(submitted, 0);
    const runId = submitted.stdout.trim();
    const worker = startWorker(dir, redis, "term");
    const records = `news-moe:term:${runId}:records`;
    await waitFor("a job in hand after the first", async () => (await db.hlen(records)) >= 100 && (await db.llen("bull:term:active")) === 1);
    worker.child.kill("SIGTERM");
    expectExit(await worker.done, 0);
    expect(await db.llen("bull:term:active")).toBe(0);
    const stored = await db.hlen(records);
    expect(stored % 100).toBe(0); // whole jobs only
    expect(stored).toBeLessThan(3000); // it stopped instead of draining the queue
    // Every job it started is stored: the one in hand at SIGTERM was finished, not abandoned.
    const started = Object.keys(await db.hgetall(`news-moe:term:${runId}:tries`)).map((k) => Number(k.slice(1)));
    expect((await db.smembers(`news-moe:term:${runId}:chunks`)).map(Number).sort((x, y) => x - y)).toEqual(started.sort((x, y) => x - y));
    expect(started.length).toBe(stored / 100);

    // collect while the run is unfinished: what is done, in input order, and exit 75 (not yet complete).
    const partial = await runCli(["collect", runId, ...queue, "-o", "partial.json"], { cwd: dir, env: isolatedEnv(dir) });
    expectExit(partial, 75);
    expect(partial.stderr).toContain(`${3000 - stored} items are not done yet`);
    const items = JSON.parse(await readFile(input, "utf8")) as Array<{ id: string }>;
    const positions = (await db.hkeys(records)).map(Number).sort((x, y) => x - y);
    const written = JSON.parse(await readFile(join(dir, "partial.json"), "utf8")) as AnalysisRecord[];
    expect(written.map((r) => r.id)).toEqual(positions.map((p) => items[p]!.id));
    db.disconnect();
  });

  it("submit --max-waiting keeps only a window of the input in Redis; collect --delete removes the run once written", async () => {
    const dir = await tempDir("news-moe-queue-window-");
    const input = generate(dir, "news.json", ["--count", "300", "--seed", "3", "--min-words", "30", "--max-words", "120"]);
    const env = isolatedEnv(dir);
    expectExit(await runCli(["analyze", input, "-o", "expected.json", "--experts", "embedded", "--quiet"], { cwd: dir, env }), 0);
    const redis = await redisServer(dir);
    const db = redis.client();
    const queue = ["--redis", redis.url, "--queue", "window"];
    const submitting = startCli(["submit", input, ...queue, "--chunk-size", "10", "--max-waiting", "4"], { cwd: dir, env });
    // No worker yet: submit fills the window and waits.
    await waitFor("4 waiting jobs", async () => (await db.llen("bull:window:wait")) === 4);
    await sleep(1500);
    expect(submitting.child.exitCode).toBeNull();
    expect(await db.llen("bull:window:wait")).toBe(4);
    // The documented rule: the run id is the first 16 hex digits of the SHA-256 of the file's bytes.
    // The run can be followed while submit waits.
    const earlyId = createHash("sha256").update(await readFile(input)).digest("hex").slice(0, 16);
    const early = await runCli(["status", earlyId, ...queue, "--json"], { cwd: dir, env });
    expectExit(early, 0);
    expect(JSON.parse(early.stdout)).toMatchObject({ total: 300, done: 0, missing: 300, complete: false, workers: 0, etaSeconds: null });
    startWorker(dir, redis, "window");
    const submitted = await submitting.done;
    expectExit(submitted, 0);
    const runId = submitted.stdout.trim();
    expect(runId).toBe(earlyId);
    expect(submitted.stderr).toContain("waiting for workers");
    const collected = await runCli(["collect", runId, ...queue, "-o", "collected.json", "--wait", "--delete"], { cwd: dir, env });
    expectExit(collected, 0);
    expect(collected.stderr).toContain("deleted from Redis");
    expect(await readFile(join(dir, "collected.json"), "utf8")).toBe(await readFile(join(dir, "expected.json"), "utf8"));
    expect(await db.keys(`news-moe:window:${runId}:*`)).toEqual([]);
    const gone = await runCli(["status", runId, ...queue], { cwd: dir, env });
    expectExit(gone, 2);
    expect(gone.stderr).toContain(`no run ${runId} on queue window`);
    db.disconnect();
  });

  it("a worker with options the engine refuses exits 2 before taking any job", async () => {
    const dir = await tempDir("news-moe-queue-bad-");
    const redis = await redisServer(dir);
    const db = redis.client();
    const input = generate(dir, "news.json", ["--count", "5", "--seed", "1"]);
    expectExit(await runCli(["submit", input, "--redis", redis.url, "--queue", "bad"], { cwd: dir, env: isolatedEnv(dir) }), 0);
    const worker = startWorker(dir, redis, "bad", ["--experts", "NoSuchExpert"]);
    const result = await worker.done;
    expectExit(result, 2);
    expect(result.stderr).toContain("NoSuchExpert");
    expect(await db.llen("bull:bad:wait")).toBe(1); // the job is still there for a worker that can do it

    // A file cut short: submit names it and queues nothing, not even the items before the error.
    await writeFile(join(dir, "cut.json"), '[{"id": "a", "content": "Whole item."}, {"id": "b", "cont');
    const cut = await runCli(["submit", "cut.json", "--redis", redis.url, "--queue", "cut"], { cwd: dir, env: isolatedEnv(dir) });
    expectExit(cut, 2);
    expect(cut.stderr).toContain("cut.json");
    expect(await db.keys("*cut*")).toEqual([]);
    db.disconnect();
  });
});
