/**
 * Fault injection for the long-running commands (serve has its own, with the HTTP server): analyze,
 * worker and collect --wait get SIGTERM or SIGKILL at seeded random points (a delay from the start,
 * which can land while the CLI is still loading, or once a seeded number of records is done); a
 * worker's Redis is stopped and restarted under it; analyze's output folder becomes read-only
 * mid-run; its disk fills up (a tiny tmpfs where this machine lets the tests mount one, else a
 * file-size limit, `ulimit -f`, whose EFBIG stands in for ENOSPC).
 *
 * After each: the promised result, or the documented exit status with a clear message and no stack
 * trace; then a resume or a re-run gives exactly the records of an undisturbed run, byte for byte
 * (so none is lost, duplicated or out of order). The embedded experts keep it fast.
 */
import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../src/learned-gate/random.js";
import { EXAMPLES, expectUserFailure, isolatedEnv, REPO_ROOT, runCli, startCli, tempDir, type CliResult } from "./helpers/cli.js";
import { CAN_MOUNT_TMPFS, CLI_USER, handOver, makeReadOnly, makeWritable, tinyDisk } from "./helpers/fs-faults.js";
import { endAfterEachTest, HAVE_REDIS } from "./helpers/redis.js";

if (!HAVE_REDIS && process.env.NEWS_MOE_REQUIRE_REDIS) throw new Error("redis-server is not on PATH");

const GENERATOR = join(REPO_ROOT, "scripts/generate-news.mjs");
const SLOW_PLUGIN = join(REPO_ROOT, "test/fixtures/plugins/slow-tagger.mjs");
/** 10 + 6 + 4 = 20 seeded runs. */
const ANALYZE_SEEDS = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
const WORKER_SEEDS = [31, 32, 33, 34, 35, 36];
const COLLECT_SEEDS = [51, 52, 53, 54];


interface Fault {
  signal: "SIGTERM" | "SIGKILL";
  /** Milliseconds after the start, or records done (journal lines, stored records) before the signal. */
  after: { ms: number } | { records: number };
}

/** A seeded fault: either signal, after up to `maxMs` from the start or up to `maxRecords` records. */
function faultFor(seed: number, maxRecords: number, maxMs: number): Fault {
  // The gate trainer's seeded PRNG: every run of the suite injects the same faults.
  const next = seededRandom(seed);
  const signal = next() < 0.5 ? "SIGTERM" : "SIGKILL";
  const after = next() < 0.4 ? { ms: Math.floor(next() * maxMs) } : { records: Math.floor(next() * maxRecords) };
  return { signal, after };
}

const { redisServer, track } = endAfterEachTest();

function start(args: string[], dir: string, extraEnv: Record<string, string> = {}, options: Parameters<typeof startCli>[1] = {}) {
  const started = startCli(args, { cwd: dir, env: isolatedEnv(dir, extraEnv), ...options });
  track(started.child);
  return started;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(25);
  }
  return false;
}

async function lines(file: string): Promise<number> {
  try {
    return (await readFile(file, "utf8")).split("\n").length - 1;
  } catch {
    return 0;
  }
}

/** Sends the fault when due (unless the process ended first); true when it was sent. */
async function inject(child: ChildProcess, fault: Fault, recordsDone: () => Promise<number>): Promise<boolean> {
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const started = Date.now();
  await waitUntil(
    async () => exited() || ("ms" in fault.after ? Date.now() - started >= fault.after.ms : (await recordsDone()) >= fault.after.records),
    60_000,
  );
  if (exited()) return false;
  child.kill(fault.signal);
  return true;
}

/** No stack trace, no "internal error" (the CLI's words for a bug), whatever the outcome. */
function expectNoBug(result: CliResult, what: string): void {
  expect(result.stderr, what).not.toMatch(/internal error/);
  expect(result.stderr, what).not.toMatch(/^\s+at .+[:(]/m);
}

let inputDir: string;
let input: string;
let reference: string;
let total: number;

beforeAll(async () => {
  inputDir = await tempDir("news-moe-faults-");
  input = join(inputDir, "news.json");
  execFileSync(process.execPath, [GENERATOR, "--out", input, "--quiet", "--count", "240", "--seed", "77", "--min-words", "30", "--max-words", "90"]);
  total = (JSON.parse(await readFile(input, "utf8")) as unknown[]).length;
  const ref = await runCli(["analyze", input, "-o", "reference.json", "--experts", "embedded", "--quiet"], { cwd: inputDir, env: isolatedEnv(inputDir) });
  expect(ref.code, ref.stderr).toBe(0);
  reference = await readFile(join(inputDir, "reference.json"), "utf8");
}, 60_000);

describe("analyze under SIGTERM and SIGKILL at seeded random points", () => {
  it(`${ANALYZE_SEEDS.length} seeded runs: each ends as documented, and --resume completes it byte for byte`, async () => {
    const outcomes: string[] = [];
    const one = async (seed: number): Promise<void> => {
      const fault = faultFor(seed, total, 3_000);
      const dir = join(inputDir, `analyze-${seed}`);
      await mkdir(dir);
      const out = join(dir, "out.json");
      const run = start(["analyze", input, "-o", out, "--experts", "embedded", "--quiet"], dir);
      const sent = await inject(run.child, fault, () => lines(`${out}.journal`).then((n) => Math.max(0, n - 1)));
      const result = await run.done;
      const what = `seed ${seed}: ${fault.signal} after ${JSON.stringify(fault.after)}`;
      expectNoBug(result, what);
      if (!sent || (result.code === 0 && existsSync(out))) {
        // It finished first (or the signal came while the output was being put in place): the whole result.
        expect(result.code, what).toBe(0);
        expect(await readFile(out, "utf8"), what).toBe(reference);
        outcomes.push(`${seed}: finished`);
        return;
      }
      if (fault.signal === "SIGTERM") {
        // Interrupted: 130 and one line, saying what was kept.
        expectUserFailure(result, 130, /news-moe: interrupted(; \d+ finished items are kept in .*out\.json\.journal; rerun with --resume| before it started; nothing was done| before any item was finished; run it again to start)\n/);
      } else {
        expect(result.signal, what).toBe("SIGKILL");
      }
      // Written whole or not at all (a SIGKILL between putting the output in place and deleting the journal leaves both).
      if (existsSync(out)) expect(await readFile(out, "utf8"), `${what}: no half output`).toBe(reference);
      if (existsSync(out) && !existsSync(`${out}.journal`)) {
        // The signal came after the run had finished (output in place, journal gone) and before the
        // process exited: the result is whole, and --resume says there is nothing left to do.
        const again = await runCli(["analyze", input, "-o", out, "--experts", "embedded", "--quiet", "--resume"], { cwd: dir, env: isolatedEnv(dir) });
        expectUserFailure(again, 2, /news-moe: nothing to resume: .*out\.json\.journal does not exist and .*out\.json is already complete/);
        expect(await readFile(out, "utf8"), `${what}, after finishing`).toBe(reference);
        outcomes.push(`${seed}: ${fault.signal} after ${JSON.stringify(fault.after)} -> after the run finished`);
        return;
      }
      const resumed = await runCli(["analyze", input, "-o", out, "--experts", "embedded", "--quiet", "--resume"], { cwd: dir, env: isolatedEnv(dir) });
      expectNoBug(resumed, `${what}, resumed`);
      expect(resumed.code, `${what}, resumed: ${resumed.stderr}`).toBe(0);
      expect(await readFile(out, "utf8"), `${what}, resumed`).toBe(reference);
      // Nothing left behind: no journal, no temporary file of the killed run.
      expect((await readdir(dir)).filter((name) => /journal|\.tmp-/.test(name)), what).toEqual([]);
      outcomes.push(`${seed}: ${fault.signal} after ${JSON.stringify(fault.after)} -> ${result.code ?? result.signal}, resumed`);
    };
    // Two runs at a time: each is mostly process start-up on one core, and the machine has two.
    const queue = [...ANALYZE_SEEDS];
    await Promise.all([0, 1].map(async () => {
      for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) await one(seed);
    }));
    process.stderr.write(`analyze faults:\n  ${outcomes.join("\n  ")}\n`);
    // The seeds reach both signals, or the suite tests less than it says.
    expect(outcomes.filter((o) => o.includes("SIGTERM")).length, outcomes.join("\n")).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.includes("SIGKILL")).length, outcomes.join("\n")).toBeGreaterThan(0);
  }, 300_000);
});

describe("analyze stopped while it finishes (output written, models being released)", () => {
  const PLUGIN = join(REPO_ROOT, "test/fixtures/plugins/signal-on-dispose.mjs");
  for (const signal of ["SIGTERM", "SIGINT"]) {
    it(`${signal} then: the exit status is the run's own (1: the example's empty item), not 130 nor death by signal; the output is whole`, async () => {
      const dir = await tempDir("news-moe-finishing-");
      const args = ["--plugin", PLUGIN, "--experts", "embedded,LastWords", "--quiet"];
      const result = await runCli(["analyze", EXAMPLES, "-o", "out.json", ...args], { cwd: dir, env: isolatedEnv(dir, { SIGNAL_ON_DISPOSE: signal }) });
      expectNoBug(result, signal);
      expect(result.signal, result.stderr).toBeNull();
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).not.toMatch(/interrupted/);
      const records = JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as unknown[];
      expect(records).toHaveLength((JSON.parse(await readFile(EXAMPLES, "utf8")) as unknown[]).length);
      expect(existsSync(join(dir, "out.json.journal"))).toBe(false);
    }, 60_000);
  }
});

describe.skipIf(!HAVE_REDIS)("worker and collect --wait under SIGTERM and SIGKILL at seeded random points", () => {
  it(`${WORKER_SEEDS.length} workers and ${COLLECT_SEEDS.length} collects killed; the run completes exactly once`, async () => {
    const dir = join(inputDir, "queue");
    await mkdir(dir);
    const engine = ["--plugin", SLOW_PLUGIN, "--experts", "embedded,SlowTagger"];
    const expected = await runCli(["analyze", input, "-o", "expected.json", ...engine, "--quiet"], { cwd: dir, env: isolatedEnv(dir, { SLOW_TAGGER_MS: "0" }) });
    expect(expected.code, expected.stderr).toBe(0);
    const expectedText = await readFile(join(dir, "expected.json"), "utf8");
    const redis = await redisServer(dir);
    const db = redis.client();
    const queue = ["--redis", redis.url, "--queue", "faults"];
    const submitted = await runCli(["submit", input, ...queue, "--chunk-size", "12"], { cwd: dir, env: isolatedEnv(dir) });
    expect(submitted.code, submitted.stderr).toBe(0);
    const runId = submitted.stdout.trim();
    const stored = () => db.hlen(`news-moe:faults:${runId}:records`);
    /** Records stored since `base`; everything once the run is complete, so no wait outlives the run. */
    const since = (base: number) => async () => {
      const n = await stored();
      return n >= total ? Number.POSITIVE_INFINITY : n - base;
    };
    // 12 items at 20 ms each: a job takes a quarter of a second or so; the whole run several seconds of work.
    const worker = () => start(["worker", ...queue, "--stall-timeout", "2000", "-q", ...engine], dir, { SLOW_TAGGER_MS: "20" });

    const collects: Array<Promise<void>> = [];
    for (const [i, seed] of WORKER_SEEDS.entries()) {
      const fault = faultFor(seed, 36, 4_000);
      const base = await stored();
      const w = worker();
      // A collect --wait beside some of them, killed at its own seeded point (maybe while a later worker runs).
      const collectSeed = COLLECT_SEEDS[i];
      if (collectSeed !== undefined) {
        const file = join(dir, `collected-${collectSeed}.json`);
        const c = start(["collect", runId, ...queue, "-o", file, "--wait", "--quiet"], dir);
        collects.push(
          (async () => {
            const cf = faultFor(collectSeed, 60, 4_000);
            const sent = await inject(c.child, cf, since(base));
            const result = await c.done;
            const what = `collect seed ${collectSeed}: ${cf.signal} after ${JSON.stringify(cf.after)}`;
            expectNoBug(result, what);
            if (!sent || result.code === 0) expect(result.code, what).toBe(0);
            else if (cf.signal === "SIGTERM") {
              expectUserFailure(result, 130, /news-moe: interrupted(; .*collected-\d+\.json is left as it was; collect again to write the run| before it started; nothing was done)\n/);
            } else expect(result.signal, what).toBe("SIGKILL");
            // Written whole or not at all.
            if (existsSync(file)) expect(await readFile(file, "utf8"), what).toBe(expectedText);
            else expect(result.code, what).not.toBe(0);
          })(),
        );
      }
      const startedAt = Date.now();
      const sent = await inject(w.child, fault, since(base));
      const sentAt = Date.now();
      const result = await w.done;
      const what = `worker seed ${seed}: ${fault.signal} after ${JSON.stringify(fault.after)} (${sentAt - startedAt} ms)`;
      expectNoBug(result, what);
      if (sent && fault.signal === "SIGTERM") {
        expect(result.code, `${what}: ${result.stderr}`).toBe(0);
        expect(Date.now() - sentAt, what).toBeLessThan(10_000);
      } else if (sent) {
        expect(result.signal, what).toBe("SIGKILL");
      }
    }

    // One more worker finishes what is left (killed workers' jobs after their locks expire).
    const last = worker();
    const collected = await runCli(["collect", runId, ...queue, "-o", "collected.json", "--wait", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(collected.code, collected.stderr).toBe(0);
    expect(await readFile(join(dir, "collected.json"), "utf8")).toBe(expectedText);
    expect(await stored()).toBe(total);
    await Promise.all(collects);
    last.child.kill("SIGTERM");
    expect((await last.done).code).toBe(0);
    db.disconnect();
  }, 300_000);

  it("Redis stopped and restarted under a worker and a collect --wait: both carry on, nothing lost", async () => {
    const dir = join(inputDir, "restart");
    await mkdir(dir);
    const redis = await redisServer(dir, "always");
    const queue = ["--redis", redis.url, "--queue", "restart"];
    const submitted = await runCli(["submit", input, ...queue, "--chunk-size", "12"], { cwd: dir, env: isolatedEnv(dir) });
    expect(submitted.code, submitted.stderr).toBe(0);
    const runId = submitted.stdout.trim();
    const engine = ["--plugin", SLOW_PLUGIN, "--experts", "embedded,SlowTagger"];
    const expected = await runCli(["analyze", input, "-o", "expected.json", ...engine, "--quiet"], { cwd: dir, env: isolatedEnv(dir, { SLOW_TAGGER_MS: "0" }) });
    const w = start(["worker", ...queue, "--stall-timeout", "2000", ...engine], dir, { SLOW_TAGGER_MS: "20" });
    const c = start(["collect", runId, ...queue, "-o", "collected.json", "--wait", "--quiet"], dir);
    const db = redis.client();
    await waitUntil(async () => (await db.hlen(`news-moe:restart:${runId}:records`).catch(() => 0)) >= 24, 60_000);
    db.disconnect();
    await redis.stop(); // a clean shutdown (SIGTERM): what a restart of the service looks like
    await sleep(1_000);
    await redis.start();
    const collected = await c.done;
    expectNoBug(collected, "collect");
    expect(collected.code, collected.stderr).toBe(0);
    expect(await readFile(join(dir, "collected.json"), "utf8")).toBe(await readFile(join(dir, "expected.json"), "utf8"));
    expect(expected.code).toBe(0);
    expect(w.child.exitCode).toBeNull(); // it waited for Redis instead of dying
    w.child.kill("SIGTERM");
    const worker = await w.done;
    expect(worker.code).toBe(0);
    expectNoBug(worker, "worker");
    expect(worker.stderr).toContain("cannot reach Redis at");
  }, 120_000);
});

describe("analyze when its output folder turns read-only, or its disk fills up, mid-run", () => {
  it("read-only: exit 2 naming the file and the reason, the journal kept; --resume completes it once writable", async () => {
    // A folder of its own (not under the suite's, which only its owner may enter), handed to the CLI's user.
    const dir = await tempDir("news-moe-faults-ro-");
    const outDir = join(dir, "out");
    await mkdir(outDir, { recursive: true });
    const input = join(dir, "news.json"); // where the CLI's user may read it
    await copyFile(join(inputDir, "news.json"), input);
    await handOver(dir);
    const out = join(outDir, "out.json");
    const asUser = CLI_USER ? { user: CLI_USER } : {};
    // Slowed by the plugin so the folder turns read-only mid-run, not after it.
    const engine = ["--plugin", SLOW_PLUGIN, "--experts", "embedded,SlowTagger"];
    const expected = await runCli(["analyze", input, "-o", join(dir, "expected.json"), ...engine, "--quiet"], { cwd: dir, env: isolatedEnv(dir, { SLOW_TAGGER_MS: "0" }), ...asUser });
    expect(expected.code, expected.stderr).toBe(0);
    const run = start(["analyze", input, "-o", out, ...engine, "--quiet"], dir, { SLOW_TAGGER_MS: "10" }, asUser);
    expect(await waitUntil(async () => (await lines(`${out}.journal`)) > 40, 60_000)).toBe(true);
    await makeReadOnly(outDir);
    const result = await run.done;
    expectUserFailure(result, 2, new RegExp(`news-moe: ${out}: cannot write: permission denied \\(EACCES\\)\\n`));
    expect(result.stderr).toMatch(new RegExp(`news-moe: ${total} finished items are kept in ${out}\\.journal; once the output can be written, rerun with --resume\\n`));
    expect(existsSync(out)).toBe(false);

    await makeWritable(outDir);
    const resumed = await runCli(["analyze", input, "-o", out, ...engine, "--quiet", "--resume"], { cwd: dir, env: isolatedEnv(dir, { SLOW_TAGGER_MS: "0" }), ...asUser });
    expectNoBug(resumed, "resumed");
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await readFile(out, "utf8")).toBe(await readFile(join(dir, "expected.json"), "utf8"));
    // The failed run's temporary file was left in the read-only folder; the resumed run removed it.
    expect(await readdir(outDir)).toEqual(["out.json"]);
  }, 120_000);

  it(`disk full (${CAN_MOUNT_TMPFS ? "a 192 KiB tmpfs" : "ulimit -f 192: EFBIG, this machine cannot mount a tmpfs"}): exit 2 naming the file, then --resume with room completes it`, async () => {
    const dir = join(inputDir, "full");
    await mkdir(dir);
    const disk = CAN_MOUNT_TMPFS ? await tinyDisk(192 * 1024) : undefined;
    try {
      const outDir = disk?.dir ?? dir;
      const out = join(outDir, "out.json");
      const limit = disk ? {} : { fileSizeLimitKiB: 192 };
      const full = await runCli(["analyze", input, "-o", out, "--experts", "embedded", "--quiet"], { cwd: dir, env: isolatedEnv(dir), ...limit });
      expectUserFailure(
        full,
        2,
        new RegExp(`news-moe: ${out}(\\.journal|\\.tmp-\\d+)?: cannot (add to the journal|write[^:]*): (no space left on the device|file too large for this process's file-size limit)`),
      );
      expect(full.stderr).toMatch(/finished items are kept in .*out\.json\.journal; once the output can be written, rerun with --resume/);
      expect(existsSync(out)).toBe(false);
      disk?.grow(16 * 1024 * 1024);
      const resumed = await runCli(["analyze", input, "-o", out, "--experts", "embedded", "--quiet", "--resume"], { cwd: dir, env: isolatedEnv(dir) });
      expectNoBug(resumed, "resumed");
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(await readFile(out, "utf8")).toBe(reference);
      expect((await readdir(outDir)).filter((name) => /journal|\.tmp-/.test(name))).toEqual([]);
    } finally {
      await disk?.remove();
    }
  }, 120_000);
});
