// Open-loop load on a running `news-moe serve`: requests arrive on a seeded Poisson schedule whatever
// the server's progress (as independent users would), so queueing shows up in the latency instead of
// slowing the senders down. Also the two reference points the open-loop figures are read against:
// one article on an idle server (solo latency) and the server's saturated throughput (capacity).

/** A seeded uniform [0, 1) generator (mulberry32 over a 32-bit FNV-1a hash of the seed). */
export function seededRandom(seed) {
  let h = 0x811c9dc5;
  for (const ch of String(seed)) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Arrival times (ms from the start) of a Poisson process of `rate` per second over `durationS`
 * seconds: exponential gaps of mean 1/rate, at most `maxRequests` of them.
 */
export function poissonSchedule({ rate, durationS, maxRequests, random }) {
  const times = [];
  let t = 0;
  for (;;) {
    t += -Math.log(1 - random()) / rate;
    if (t > durationS || times.length >= maxRequests) return times;
    times.push(t * 1000);
  }
}

/** A copy of `items` in a seeded random order (Fisher-Yates). */
export function shuffled(items, random) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The q-th percentile (0..100), linear between closest ranks (NumPy's default); NaN when empty. */
export function percentile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (q / 100) * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/** Posts one article as a one-item request; resolves with the HTTP status (0: no answer) and the time taken. */
async function postOne(url, item, signal) {
  const sent = performance.now();
  try {
    const response = await fetch(`${url}/v1/analyze`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify([item]),
      signal,
    });
    await response.arrayBuffer();
    return { status: response.status, ms: performance.now() - sent };
  } catch {
    return { status: 0, ms: performance.now() - sent };
  }
}

/**
 * Sends request i at `schedule[i]` ms after the start, with article `articles[i % articles.length]`,
 * and waits for the answers, giving up on those still open `drainS` seconds after the last arrival.
 * Latency counts from the planned arrival, so a late send never hides queueing.
 */
export async function openLoop(url, schedule, articles, { drainS, idPrefix }) {
  const start = performance.now() + 200;
  const giveUpAt = start + (schedule.at(-1) ?? 0) + drainS * 1000;
  const outcomes = await Promise.all(
    schedule.map(
      (offset, i) =>
        new Promise((resolveOutcome) => {
          setTimeout(async () => {
            const item = { ...articles[i % articles.length], id: `${idPrefix}-${i}` };
            const { status } = await postOne(url, item, AbortSignal.timeout(Math.max(1, Math.ceil(giveUpAt - performance.now()))));
            const done = performance.now();
            resolveOutcome({ status, latencyMs: done - (start + offset), doneMs: done - start });
          }, Math.max(0, start + offset - performance.now()));
        }),
    ),
  );
  const ok = outcomes.filter((o) => o.status === 200);
  const statuses = {};
  for (const o of outcomes) if (o.status !== 200) statuses[o.status === 0 ? "no answer" : o.status] = (statuses[o.status === 0 ? "no answer" : o.status] ?? 0) + 1;
  const lastDoneS = Math.max(0, ...ok.map((o) => o.doneMs)) / 1000;
  const latencies = ok.map((o) => o.latencyMs);
  return {
    sent: outcomes.length,
    ok: ok.length,
    failed: outcomes.length - ok.length,
    statuses,
    // Answered requests over the time from the first planned arrival to the last answer.
    throughput: lastDoneS > 0 ? ok.length / lastDoneS : Number.NaN,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    mean: latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : Number.NaN,
  };
}

/** One article at a time on an otherwise idle server: each request's latency (ms), failures left out. */
export async function soloLatencies(url, articles, { count, idPrefix, timeoutS }) {
  const latencies = [];
  for (let i = 0; i < count; i++) {
    const { status, ms } = await postOne(url, { ...articles[i % articles.length], id: `${idPrefix}-${i}` }, AbortSignal.timeout(timeoutS * 1000));
    if (status === 200) latencies.push(ms);
  }
  return latencies;
}

/**
 * The server's throughput when it is never short of work: `clients` closed loops, each posting one
 * article as soon as its last was answered, for `warmupS + durationS` seconds. Counts the answers that
 * came after the warm-up (the first calls fill the batch and pay one-off costs) and within the window,
 * over the window's length; work still in flight at its end is not counted (a slight underestimate).
 */
export async function closedLoopCapacity(url, articles, { clients, warmupS, durationS, idPrefix }) {
  const started = performance.now();
  const from = started + warmupS * 1000;
  const until = from + durationS * 1000;
  let next = 0;
  let answered = 0;
  let failed = 0;
  const client = async () => {
    while (performance.now() < until) {
      const i = next++;
      const { status } = await postOne(url, { ...articles[i % articles.length], id: `${idPrefix}-${i}` }, AbortSignal.timeout(Math.max(1, Math.ceil(until - performance.now()))));
      const now = performance.now();
      if (now < from || now >= until) continue;
      if (status === 200) answered++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return { answered, failed, perSecond: answered / durationS };
}

/** Waits until the server holds no items (its queue-depth gauge reads 0), at most `timeoutS` seconds. */
export async function waitIdle(url, timeoutS) {
  const giveUpAt = performance.now() + timeoutS * 1000;
  while (performance.now() < giveUpAt) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith("newsmoe_queue_depth"));
    if (!line || Number(line.split(" ").pop()) === 0) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}
