#!/usr/bin/env node
// Load test of `news-moe serve` on loopback: starts the real server (dist/, so build first),
// keeps a fixed number of clients posting small requests for a bounded time, and prints
// throughput, p50/p95 request latency and the mean expert batch size the server reached.
// Runs the embedded experts and the tiny neural fixtures (test/fixtures/models) by default.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const USAGE = `Usage: npm run load -- [options]

Options:
  --duration S        seconds each setup sends requests (default 8)
  --clients N         concurrent clients (default 16)
  --items K           items per request (default 4)
  --only NAME         run one setup: embedded or neural
  -h, --help          this text
`;

const ROOT = resolve(new URL("..", import.meta.url).pathname);
const CLI = join(ROOT, "dist/cli/main.js");
const TINY = join(ROOT, "test/fixtures/models");
const SETUPS = {
  embedded: ["--experts", "embedded"],
  neural: [
    "--summarizer-model", join(TINY, "tiny-distilbart-cnn-6-6"),
    "--sentiment-model", join(TINY, "tiny-distilbert-sst2"),
    "--offline", "--max-length", "40", "--min-length", "5",
  ],
};

function parseArgs(argv) {
  const opts = { duration: 8, clients: 16, items: 4, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const number = (min) => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n < min) fail(`${arg} needs a number >= ${min}`);
      return n;
    };
    if (arg === "--duration") opts.duration = number(1);
    else if (arg === "--clients") opts.clients = Math.floor(number(1));
    else if (arg === "--items") opts.items = Math.floor(number(1));
    else if (arg === "--only") {
      opts.only = argv[++i];
      if (!(opts.only in SETUPS)) fail(`--only takes ${Object.keys(SETUPS).join(" or ")}`);
    } else if (arg === "-h" || arg === "--help") {
      process.stdout.write(USAGE);
      process.exit(0);
    } else fail(`unknown option ${arg}`);
  }
  return opts;
}

function fail(message) {
  process.stderr.write(`load: ${message}\n${USAGE}`);
  process.exit(2);
}

/** Starts `news-moe serve` on a free loopback port; resolves once /readyz says ready. */
async function startServer(args, dir) {
  const child = spawn(process.execPath, [CLI, "serve", "--host", "127.0.0.1", "--port", "0", "--quiet", ...args], {
    cwd: dir,
    env: { ...process.env, HF_HOME: join(dir, "hf"), HF_HUB_OFFLINE: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolveExit) => child.on("close", (code) => resolveExit(code)));
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearInterval(timer);
        resolveUrl(match[1]);
      }
    }, 20);
    exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`serve exited (${code}):\n${stderr}`));
    });
  });
  for (;;) {
    const ready = await fetch(`${url}/readyz`).catch(() => undefined);
    if (ready?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function metricSum(text, name) {
  let sum = 0;
  for (const line of text.split("\n")) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(" ").pop());
  return sum;
}

/** `clients` loops, each posting `items` items per request until the time is up. */
async function drive(url, pool, opts) {
  const latencies = [];
  let next = 0;
  let items = 0;
  let failed = 0;
  const started = performance.now();
  const until = started + opts.duration * 1000;
  const client = async () => {
    while (performance.now() < until) {
      const batch = [];
      for (let i = 0; i < opts.items; i++) batch.push({ ...pool[next++ % pool.length], id: `load-${next}` });
      const sent = performance.now();
      const response = await fetch(`${url}/v1/analyze`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(batch) });
      await response.arrayBuffer();
      if (response.status !== 200) {
        failed++;
        continue;
      }
      latencies.push(performance.now() - sent);
      items += batch.length;
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, client));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { seconds, items, requests: latencies.length, failed, p50: percentile(latencies, 50), p95: percentile(latencies, 95) };
}

const opts = parseArgs(process.argv.slice(2));
const pool = JSON.parse(readFileSync(join(ROOT, "examples/news-data.json"), "utf8")).filter((item) => item.content.trim() !== "");
const dir = mkdtempSync(join(tmpdir(), "news-moe-load-"));
process.stdout.write(
  `news-moe serve load test: ${opts.clients} clients x ${opts.items} items per request, ${opts.duration}s per setup, loopback\n` +
    `CPU: ${cpus()[0]?.model ?? "unknown"} (${cpus().length} logical cores); items: examples/news-data.json (non-empty), reused\n\n`,
);
try {
  for (const [name, args] of Object.entries(SETUPS)) {
    if (opts.only && opts.only !== name) continue;
    const server = await startServer(args, dir);
    try {
      // A short warm-up, so the first batches' one-off costs (worker start, graph build) do not count.
      await drive(server.url, pool, { ...opts, duration: 1 });
      const before = await (await fetch(`${server.url}/metrics`)).text();
      const result = await drive(server.url, pool, opts);
      const after = await (await fetch(`${server.url}/metrics`)).text();
      const batchItems = metricSum(after, "newsmoe_expert_batch_items_sum") - metricSum(before, "newsmoe_expert_batch_items_sum");
      const batches = metricSum(after, "newsmoe_expert_batch_items_count") - metricSum(before, "newsmoe_expert_batch_items_count");
      process.stdout.write(
        `${name.padEnd(9)} ${(result.items / result.seconds).toFixed(1).padStart(8)} items/s  ` +
          `${(result.requests / result.seconds).toFixed(1).padStart(7)} requests/s  ` +
          `p50 ${result.p50.toFixed(0).padStart(6)} ms  p95 ${result.p95.toFixed(0).padStart(6)} ms  ` +
          `mean expert batch ${(batches ? batchItems / batches : 0).toFixed(1)} items  ` +
          `(${result.items} items in ${result.seconds.toFixed(1)}s${result.failed ? `, ${result.failed} requests failed` : ""})\n`,
      );
    } finally {
      await server.stop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
