#!/usr/bin/env node
// Load test of `news-moe serve` on loopback: starts the real server (dist/, so build first).
// Default (closed loop): a fixed number of clients keep posting small requests for a bounded time;
// prints throughput, p50/p95 request latency and the mean expert batch size the server reached, on
// the embedded experts and the tiny neural fixtures (test/fixtures/models).
// --neural --arrivals poisson (open loop): single-article requests on a seeded Poisson schedule, on the
// full-size realistic-length model (tools/make-realistic-model.sh), against a server with static and
// then one with continuous decoder batching; prints p50/p95/p99 latency, throughput and the solo
// latency (one article on an idle server) of each.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startServer } from "./load/serve-process.mjs";
import { closedLoopCapacity, openLoop, percentile as interpolatedPercentile, poissonSchedule, seededRandom, shuffled, soloLatencies, waitIdle } from "./load/open-loop.mjs";

const USAGE = `Usage: npm run load -- [options]
       npm run load -- --neural --arrivals poisson (--rate R | --rate-fraction F) [options]

Closed loop (default; embedded experts and the tiny neural fixtures):
  --duration S        seconds each setup sends requests (default 8)
  --clients N         concurrent clients (default 16)
  --items K           items per request (default 4)
  --only NAME         run one setup: embedded or neural

Open loop (--neural --arrivals poisson; full-size realistic-length models, one article a request):
  --rate R            arrivals per second
  --rate-fraction F   instead of --rate: first measure the continuous server's capacity (closed
                      loop), then send at F times it (e.g. 0.7)
  --duration S        seconds of arrivals (default 60)
  --seed S            seeds the arrival times and the article order (default 1)
  --max-requests N    at most N arrivals per server (default 300)
  --drain S           seconds to wait for answers after the last arrival (default 180)
  --solo N            requests sent one at a time on the idle server, for the solo latency (default 5)
  --capacity-clients N, --capacity-warmup S, --capacity-duration S
                      the capacity measurement's closed loop: 16 clients; answers counted
                      over 90 s after a 30 s warm-up (defaults)
  --batching LIST     servers to run (default continuous,static; continuous runs first)
  --summarizer-model DIR, --sentiment-model DIR, --dtype fp32|q8
                      (default .cache/models/onnx/distilbart-cnn-6-6-realistic and distilbert-sst2, fp32)
  --articles FILE     request bodies' articles (default bench/articles-realistic.json, those of
                      at most 600 words: the bench's common phase)
  --out FILE          also write the figures as JSON
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
  const opts = {
    duration: undefined, clients: 16, items: 4, only: undefined,
    neural: false, arrivals: undefined, rate: undefined, rateFraction: undefined, seed: "1", maxRequests: 300, drain: 180, solo: 5,
    capacityClients: 16, capacityWarmup: 30, capacityDuration: 90, batching: ["continuous", "static"],
    summarizerModel: join(ROOT, ".cache/models/onnx/distilbart-cnn-6-6-realistic"), sentimentModel: join(ROOT, ".cache/models/onnx/distilbert-sst2"),
    dtype: "fp32", articles: join(ROOT, "bench/articles-realistic.json"), out: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const number = (min) => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n < min) fail(`${arg} needs a number >= ${min}`);
      return n;
    };
    const text = () => {
      const value = argv[++i];
      if (value === undefined || value === "") fail(`${arg} needs a value`);
      return value;
    };
    if (arg === "--duration") opts.duration = number(1);
    else if (arg === "--clients") opts.clients = Math.floor(number(1));
    else if (arg === "--items") opts.items = Math.floor(number(1));
    else if (arg === "--only") {
      opts.only = argv[++i];
      if (!(opts.only in SETUPS)) fail(`--only takes ${Object.keys(SETUPS).join(" or ")}`);
    } else if (arg === "--neural") opts.neural = true;
    else if (arg === "--arrivals") {
      opts.arrivals = text();
      if (opts.arrivals !== "poisson") fail(`--arrivals takes poisson, got ${opts.arrivals}`);
    } else if (arg === "--rate") opts.rate = number(0.001);
    else if (arg === "--rate-fraction") {
      opts.rateFraction = number(0.01);
      if (opts.rateFraction > 1) fail("--rate-fraction must be at most 1");
    } else if (arg === "--seed") opts.seed = text();
    else if (arg === "--max-requests") opts.maxRequests = Math.floor(number(1));
    else if (arg === "--drain") opts.drain = number(1);
    else if (arg === "--solo") opts.solo = Math.floor(number(1));
    else if (arg === "--capacity-clients") opts.capacityClients = Math.floor(number(1));
    else if (arg === "--capacity-duration") opts.capacityDuration = number(1);
    else if (arg === "--capacity-warmup") opts.capacityWarmup = number(0);
    else if (arg === "--batching") {
      opts.batching = text().split(",").map((b) => b.trim()).filter(Boolean);
      for (const b of opts.batching) if (b !== "static" && b !== "continuous") fail(`--batching takes static and/or continuous, got ${b}`);
    } else if (arg === "--summarizer-model") opts.summarizerModel = resolve(text());
    else if (arg === "--sentiment-model") opts.sentimentModel = resolve(text());
    else if (arg === "--dtype") {
      opts.dtype = text();
      if (opts.dtype !== "fp32" && opts.dtype !== "q8") fail(`--dtype takes fp32 or q8, got ${opts.dtype}`);
    } else if (arg === "--articles") opts.articles = resolve(text());
    else if (arg === "--out") opts.out = resolve(text());
    else if (arg === "-h" || arg === "--help") {
      process.stdout.write(USAGE);
      process.exit(0);
    } else fail(`unknown option ${arg}`);
  }
  if (opts.neural !== (opts.arrivals !== undefined)) fail("--neural and --arrivals poisson go together (the open-loop run on the full-size models)");
  if (opts.arrivals) {
    if ((opts.rate === undefined) === (opts.rateFraction === undefined)) fail("give one of --rate R or --rate-fraction F");
    if (opts.rateFraction !== undefined && !opts.batching.includes("continuous")) fail("--rate-fraction measures the continuous server's capacity: keep continuous in --batching");
    opts.duration ??= 60;
  } else opts.duration ??= 8;
  return opts;
}

function fail(message) {
  process.stderr.write(`load: ${message}\n${USAGE}`);
  process.exit(2);
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

/** CPU model and the vector extensions int8 and fp32 speed depend on. */
function cpuLine() {
  let flags = [];
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("flags"));
    flags = line ? line.split(":")[1].trim().split(/\s+/) : [];
  } catch {
    // no /proc: leave the extensions unnamed
  }
  const vector = ["avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8"].filter((f) => flags.includes(f));
  return `${cpus()[0]?.model ?? "unknown"} (${vector.length ? vector.join(" ") : "vector extensions unknown"}; ${cpus().length} logical cores)`;
}

async function closedLoop(opts, dir) {
  const pool = JSON.parse(readFileSync(join(ROOT, "examples/news-data.json"), "utf8")).filter((item) => item.content.trim() !== "");
  process.stdout.write(
    `news-moe serve load test: ${opts.clients} clients x ${opts.items} items per request, ${opts.duration}s per setup, loopback\n` +
      `CPU: ${cpuLine()}; items: examples/news-data.json (non-empty), reused\n\n`,
  );
  for (const [name, args] of Object.entries(SETUPS)) {
    if (opts.only && opts.only !== name) continue;
    const server = await startServer(CLI, args, dir);
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
}

const seconds = (ms) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "–");

/**
 * The open-loop run: per batching mode a fresh server (one after the other, never two at once), a
 * warm-up request, the solo latency, for --rate-fraction the capacity (continuous server only), then
 * the same seeded Poisson schedule with the same articles in the same order.
 */
async function openLoopRun(opts, dir) {
  for (const [what, path] of [["summariser", opts.summarizerModel], ["sentiment model", opts.sentimentModel]]) {
    if (!existsSync(join(path, "config.json"))) {
      fail(`no ${what} at ${path}${what === "summariser" ? " (build it: tools/make-full-models.sh, then tools/make-realistic-model.sh)" : " (tools/make-full-models.sh)"}`);
    }
  }
  const words = (a) => a.content.split(/\s+/).filter(Boolean).length;
  const common = JSON.parse(readFileSync(opts.articles, "utf8")).filter((a) => typeof a.content === "string" && words(a) > 0 && words(a) <= 600);
  if (common.length === 0) fail(`no article of 1-600 words in ${opts.articles}`);
  const articles = shuffled(common, seededRandom(`${opts.seed}:articles`));
  const order = [...opts.batching].sort((a, b) => (a === "continuous" ? -1 : b === "continuous" ? 1 : 0));
  process.stdout.write(
    `news-moe serve, open loop: one article a request, Poisson arrivals (seed ${opts.seed}) for ${opts.duration} s, at most ${opts.maxRequests} requests, loopback\n` +
      `CPU: ${cpuLine()}\nmodels: ${opts.summarizerModel} + ${opts.sentimentModel}, ${opts.dtype}; ` +
      `articles: ${common.length} of ${opts.articles} (<= 600 words), seeded order\n`,
  );
  const deadlineS = Math.ceil(opts.duration + opts.drain + 60);
  const results = { cpu: cpuLine(), seed: opts.seed, duration_s: opts.duration, dtype: opts.dtype, models: [opts.summarizerModel, opts.sentimentModel], servers: [] };
  let rate = opts.rate;
  let schedule;
  for (const batching of order) {
    const server = await startServer(
      CLI,
      ["--experts", "neural", "--summarizer-model", opts.summarizerModel, "--sentiment-model", opts.sentimentModel, "--offline", "--dtype", opts.dtype, "--batching", batching, "--deadline", String(deadlineS)],
      dir,
    );
    try {
      // Warm-up: the first request pays one-off costs (sessions' first runs, page faults of the weights).
      await soloLatencies(server.url, articles, { count: 1, idPrefix: `${batching}-warm`, timeoutS: 600 });
      const solo = await soloLatencies(server.url, articles, { count: opts.solo, idPrefix: `${batching}-solo`, timeoutS: 300 });
      const soloP50 = interpolatedPercentile(solo, 50);
      const entry = { batching, solo_ms: solo, solo_p50_ms: soloP50 };
      if (rate === undefined) {
        const capacity = await closedLoopCapacity(server.url, articles, {
          clients: opts.capacityClients,
          warmupS: opts.capacityWarmup,
          durationS: opts.capacityDuration,
          idPrefix: `${batching}-cap`,
        });
        rate = capacity.perSecond * opts.rateFraction;
        entry.capacity = capacity;
        process.stdout.write(
          `capacity (${batching}): ${capacity.perSecond.toFixed(3)} articles/s (${capacity.answered} answered in ${opts.capacityDuration} s after a ${opts.capacityWarmup} s warm-up, ` +
            `${opts.capacityClients} clients in a closed loop${capacity.failed ? `, ${capacity.failed} failed` : ""}) -> rate ${rate.toFixed(3)}/s (${opts.rateFraction} of it)\n`,
        );
        if (!(rate > 0)) throw new Error(`no request was answered within the ${opts.capacityDuration} s capacity window: no rate to send at (a longer --capacity-duration?)`);
        if (!(await waitIdle(server.url, opts.drain))) process.stdout.write(`(the server was still busy ${opts.drain} s after the capacity run)\n`);
      }
      schedule ??= poissonSchedule({ rate, durationS: opts.duration, maxRequests: opts.maxRequests, random: seededRandom(`${opts.seed}:arrivals`) });
      if (results.servers.length === 0) {
        process.stdout.write(`arrivals: ${schedule.length} at ${rate.toFixed(3)}/s\n\n`);
        process.stdout.write(`${"batching".padEnd(11)} ${"solo p50".padStart(9)} ${"requests".padStart(9)} ${"answered".padStart(9)} ${"throughput".padStart(11)} ${"p50".padStart(9)} ${"p95".padStart(9)} ${"p99".padStart(9)}  p95 / solo\n`);
      }
      const load = await openLoop(server.url, schedule, articles, { drainS: opts.drain, idPrefix: batching });
      Object.assign(entry, { rate, ...load });
      results.servers.push(entry);
      const failures = Object.entries(load.statuses).map(([status, n]) => `${n} x ${status}`).join(", ");
      process.stdout.write(
        `${batching.padEnd(11)} ${seconds(soloP50).padStart(9)} ${String(load.sent).padStart(9)} ${String(load.ok).padStart(9)} ` +
          `${`${load.throughput.toFixed(3)}/s`.padStart(11)} ${seconds(load.p50).padStart(9)} ${seconds(load.p95).padStart(9)} ${seconds(load.p99).padStart(9)}  ` +
          `${Number.isFinite(load.p95 / soloP50) ? `${(load.p95 / soloP50).toFixed(2)}x` : "–"}${failures ? `  (not answered: ${failures})` : ""}\n`,
      );
    } finally {
      await server.stop();
    }
  }
  process.stdout.write(
    "\nlatency: from each request's planned arrival to its answer; throughput: answered requests over the time from the first arrival to the last answer;\n" +
      `solo: the median of ${opts.solo} requests sent one at a time to the idle server (after one warm-up request)\n`,
  );
  if (opts.out) {
    writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`wrote ${opts.out}\n`);
  }
}

const opts = parseArgs(process.argv.slice(2));
const dir = mkdtempSync(join(tmpdir(), "news-moe-load-"));
try {
  if (opts.arrivals) await openLoopRun(opts, dir);
  else await closedLoop(opts, dir);
} catch (error) {
  process.stderr.write(`load: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
