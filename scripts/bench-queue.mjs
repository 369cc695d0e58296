#!/usr/bin/env node
// Overhead of the Redis queue path (submit -> one worker -> collect --wait) against `analyze`, per
// item, on the same generated input with the embedded experts, alternating the two for --rounds;
// then what Redis holds per item (queued items, stored records). Needs redis-server on PATH and a
// build (npm run build).
//   node scripts/bench-queue.mjs [--count N] [--chunk-size N] [--rounds N]   (default 3000, 64, 2)
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const count = option("--count", 3000);
const chunkSize = option("--chunk-size", 64);
const rounds = option("--rounds", 2);
const root = new URL("..", import.meta.url).pathname;
const cli = join(root, "dist/cli/main.js");
const dir = mkdtempSync(join(tmpdir(), "news-moe-bench-queue-"));
const env = { ...process.env, HF_HOME: join(dir, "hf"), HF_HUB_OFFLINE: "1" };

function cliRun(argv) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, ...argv], { cwd: dir, env, encoding: "utf8" });
  if (result.status !== 0 && result.status !== 1) throw new Error(`news-moe ${argv[0]} exited ${result.status}: ${result.stderr}`);
  return { seconds: (performance.now() - started) / 1000, stdout: result.stdout };
}

const port = await new Promise((resolve) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const { port: free } = server.address();
    server.close(() => resolve(free));
  });
});
const redisServer = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" });
const url = `redis://127.0.0.1:${port}`;
const redis = new Redis(url);
redis.on("error", () => {});
await new Promise((resolve) => redis.once("ready", resolve));
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info("memory"))[1]);

async function startWorker(queue) {
  const worker = spawn(process.execPath, [cli, "worker", "--redis", url, "--queue", queue, "--experts", "embedded"], { cwd: dir, env, stdio: ["ignore", "ignore", "pipe"] });
  await new Promise((resolve) => worker.stderr.on("data", (text) => String(text).includes("ready on queue") && resolve()));
  return async () => {
    worker.kill("SIGTERM");
    await new Promise((resolve) => worker.once("exit", resolve));
  };
}

const perItemMs = (s) => ((s * 1000) / count).toFixed(2);
try {
  const input = join(dir, "news.json");
  spawnSync(process.execPath, [join(root, "scripts/generate-news.mjs"), "--count", String(count), "--out", input, "--quiet"], { stdio: "inherit" });
  const bytes = readFileSync(input).length;
  console.log(`${count} generated items (${(bytes / 1e6).toFixed(1)} MB), chunk size ${chunkSize}, one worker (started and ready before submit), embedded experts`);

  const best = { analyze: Infinity, queue: Infinity };
  for (let round = 1; round <= rounds; round++) {
    const analyze = cliRun(["analyze", input, "-o", join(dir, "analyze.json"), "--experts", "embedded", "--quiet"]);
    // A fresh queue per round, so the round's submit is not a resubmission.
    const queue = `bench${round}`;
    const stop = await startWorker(queue);
    const submit = cliRun(["submit", input, "--redis", url, "--queue", queue, "--chunk-size", String(chunkSize)]);
    const collect = cliRun(["collect", submit.stdout.trim(), "--redis", url, "--queue", queue, "-o", join(dir, "queue.json"), "--wait", "--quiet"]);
    await stop();
    const same = readFileSync(join(dir, "analyze.json"), "utf8") === readFileSync(join(dir, "queue.json"), "utf8");
    const queuePath = submit.seconds + collect.seconds;
    best.analyze = Math.min(best.analyze, analyze.seconds);
    best.queue = Math.min(best.queue, queuePath);
    console.log(
      `round ${round}: analyze ${analyze.seconds.toFixed(2)} s (${perItemMs(analyze.seconds)} ms/item); ` +
        `queue ${queuePath.toFixed(2)} s (${perItemMs(queuePath)} ms/item: submit ${submit.seconds.toFixed(2)} s, then worker + collect ${collect.seconds.toFixed(2)} s); ` +
        `overhead ${perItemMs(queuePath - analyze.seconds)} ms/item; identical output: ${same}`,
    );
  }
  // The fastest round of each is the one least disturbed by whatever else the machine was doing.
  console.log(
    `best of ${rounds}: analyze ${perItemMs(best.analyze)} ms/item, queue path ${perItemMs(best.queue)} ms/item: ` +
      `overhead ${perItemMs(best.queue - best.analyze)} ms/item (${(((best.queue / best.analyze) - 1) * 100).toFixed(0)}%)`,
  );

  // Memory: the records of the last round are stored; queue the input once more with no worker.
  await redis.flushdb();
  const empty = await usedMemory();
  cliRun(["submit", input, "--redis", url, "--queue", "memory", "--chunk-size", String(chunkSize), "--max-waiting", "0"]);
  const queued = await usedMemory();
  await redis.flushdb();
  const stop = await startWorker("records");
  const runId = cliRun(["submit", input, "--redis", url, "--queue", "records", "--chunk-size", String(chunkSize)]).stdout.trim();
  cliRun(["collect", runId, "--redis", url, "--queue", "records", "-o", join(dir, "queue.json"), "--wait", "--quiet"]);
  await stop();
  const stored = await usedMemory();
  console.log(`redis, queued items:  ${((queued - empty) / count).toFixed(0)} bytes/item (the input has ${(bytes / count).toFixed(0)} bytes/item)`);
  console.log(`redis, stored records: ${((stored - empty) / count).toFixed(0)} bytes/item (until collect --delete)`);
} finally {
  redis.disconnect();
  redisServer.kill("SIGTERM");
  await new Promise((resolve) => redisServer.once("exit", resolve));
  rmSync(dir, { recursive: true, force: true });
}
