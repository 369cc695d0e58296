#!/usr/bin/env node
// Overhead of the Redis queue path (submit -> one worker -> collect) against `analyze`, per item,
// on the same generated input with the embedded experts, in one run; plus what Redis holds per
// item (queued items, then stored records). Needs redis-server on PATH and a build (npm run build).
//   node scripts/bench-queue.mjs [--count N] [--chunk-size N]
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

try {
  const input = join(dir, "news.json");
  spawnSync(process.execPath, [join(root, "scripts/generate-news.mjs"), "--count", String(count), "--out", input, "--quiet"], { stdio: "inherit" });

  const analyze = cliRun(["analyze", input, "-o", join(dir, "analyze.json"), "--experts", "embedded", "--quiet"]);

  const worker = spawn(process.execPath, [cli, "worker", "--redis", url, "--experts", "embedded"], { cwd: dir, env, stdio: ["ignore", "ignore", "pipe"] });
  await new Promise((resolve) => worker.stderr.on("data", (text) => String(text).includes("ready on queue") && resolve()));
  const empty = await usedMemory();
  const submit = cliRun(["submit", input, "--redis", url, "--chunk-size", String(chunkSize)]);
  const queued = await usedMemory();
  const runId = submit.stdout.trim();
  const collect = cliRun(["collect", runId, "--redis", url, "-o", join(dir, "queue.json"), "--wait", "--quiet"]);
  const stored = await usedMemory();
  worker.kill("SIGTERM");
  await new Promise((resolve) => worker.once("exit", resolve));

  const same = readFileSync(join(dir, "analyze.json"), "utf8") === readFileSync(join(dir, "queue.json"), "utf8");
  const queuePath = submit.seconds + collect.seconds;
  const perItemMs = (s) => ((s * 1000) / count).toFixed(3);
  const bytes = readFileSync(input).length;
  console.log(`items ${count} (${(bytes / 1e6).toFixed(1)} MB), chunk size ${chunkSize}, one worker, embedded experts; outputs identical: ${same}`);
  console.log(`analyze:            ${analyze.seconds.toFixed(2)} s  (${perItemMs(analyze.seconds)} ms/item)`);
  console.log(`submit:             ${submit.seconds.toFixed(2)} s`);
  console.log(`worker + collect:   ${collect.seconds.toFixed(2)} s  (collect --wait from the end of submit)`);
  console.log(`queue path:         ${queuePath.toFixed(2)} s  (${perItemMs(queuePath)} ms/item)`);
  console.log(`overhead:           ${perItemMs(queuePath - analyze.seconds)} ms/item (${(((queuePath / analyze.seconds) - 1) * 100).toFixed(0)}%)`);
  console.log(`redis while queued: ${((queued - empty) / count).toFixed(0)} bytes/item (input ${(bytes / count).toFixed(0)} bytes/item)`);
  console.log(`redis when done:    ${((stored - empty) / count).toFixed(0)} bytes/item (records kept until deleted)`);
} finally {
  redis.disconnect();
  redisServer.kill("SIGTERM");
  await new Promise((resolve) => redisServer.once("exit", resolve));
  rmSync(dir, { recursive: true, force: true });
}
