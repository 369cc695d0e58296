/**
 * Issue 9: the promises users rely on, each checked through the real CLI (or the library) on what
 * a user would do. Items 1, 4, 5, 6, 7, 9 and 10 of the issue.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyze, RunAbortedError, type RunSummary } from "../src/index.js";
import type { AnalysisRecord } from "../src/io/output-record.js";
import { decideSentiment } from "../src/experts/neural/sentiment-decision.js";
import { EXAMPLES, REPO_ROOT, isolatedEnv, runCli, tempDir } from "./helpers/cli.js";

const EMBEDDED = ["--experts", "embedded", "-q"];

function items(prefix: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({ id: `${prefix}-${i}`, headline: `${prefix} ${i}`, content: `Report ${prefix} ${i}: the home side won a tight match.` }));
}

/** A file whose first `good` items parse and then breaks: the run journals those and stops (exit 2). */
function brokenAfter(list: object[]): string {
  return `${JSON.stringify(list, null, 2).slice(0, -2)},\n  {"id": oops}\n]`;
}

describe("resume never mixes two inputs (item 1)", () => {
  it("refuses --resume when the input was regenerated, and --overwrite analyses it as it is now", async () => {
    const dir = await tempDir("news-moe-identity-");
    const input = join(dir, "news.json");
    const out = join(dir, "out.json");
    const env = isolatedEnv(dir);
    await writeFile(input, brokenAfter(items("old", 5)));
    expect((await runCli(["analyze", input, "-o", out, ...EMBEDDED], { cwd: dir, env })).code).toBe(2);
    expect(existsSync(`${out}.journal`)).toBe(true);

    // The scraper rewrites the file with other items: resuming would mix the two.
    await writeFile(input, JSON.stringify(items("new", 8)));
    const refused = await runCli(["analyze", input, "-o", out, ...EMBEDDED, "--resume"], { cwd: dir, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/news\.json has changed since the run that .*out\.json\.journal belongs to started: item 0 \(id "old-0"\) is not the one that was analysed/);
    expect(refused.stderr).toMatch(/pass --overwrite/);
    expect(refused.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(existsSync(out)).toBe(false);

    const fresh = await runCli(["analyze", input, "-o", out, ...EMBEDDED, "--overwrite"], { cwd: dir, env });
    expect(fresh.code).toBe(0);
    const records = JSON.parse(await readFile(out, "utf8")) as AnalysisRecord[];
    expect(records.map((r) => r.id)).toEqual(items("new", 8).map((item) => item.id));
  }, 60_000);

  it("still resumes a malformed file fixed after the error: the finished items are unchanged", async () => {
    const dir = await tempDir("news-moe-identity-");
    const input = join(dir, "news.json");
    const out = join(dir, "out.json");
    const env = isolatedEnv(dir);
    const all = items("n", 7);
    await writeFile(input, brokenAfter(all.slice(0, 4)));
    expect((await runCli(["analyze", input, "-o", out, ...EMBEDDED], { cwd: dir, env })).code).toBe(2);
    await writeFile(input, JSON.stringify(all, null, 2));
    const resumed = await runCli(["analyze", input, "-o", out, "--experts", "embedded", "--resume"], { cwd: dir, env });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resuming: 4 items already done/);
    const records = JSON.parse(await readFile(out, "utf8")) as AnalysisRecord[];
    expect(records.map((r) => r.id)).toEqual(all.map((item) => item.id));
  }, 60_000);
});

describe("resuming a stream (item 1, stdin)", () => {
  it("says that a stream's identity cannot be checked and matches its items by id", async () => {
    const dir = await tempDir("news-moe-stdin-resume-");
    const env = isolatedEnv(dir);
    const all = items("s", 6);
    expect((await runCli(["analyze", "-", "-o", "out.json", ...EMBEDDED], { cwd: dir, env, stdin: brokenAfter(all.slice(0, 3)) })).code).toBe(2);
    const resumed = await runCli(["analyze", "-", "-o", "out.json", ...EMBEDDED, "--resume"], { cwd: dir, env, stdin: JSON.stringify(all) });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resuming a run on stdin: a stream cannot be checked for changes before it is read/);
    const records = JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as AnalysisRecord[];
    expect(records.map((r) => r.id)).toEqual(all.map((item) => item.id));
  }, 30_000);
});

describe("errors known before the work are reported before it, in a line or two (items 4-7)", () => {
  async function setup() {
    const dir = await tempDir("news-moe-preflight-");
    return { dir, env: isolatedEnv(dir) };
  }

  function expectShortFatal(result: { code: number | null; stderr: string }, pattern: RegExp) {
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(result.stderr.trim().split("\n").length).toBeLessThanOrEqual(2);
    // Nothing was analysed: no progress line, no summary.
    expect(result.stderr).not.toMatch(/items (done|analysed)/);
  }

  it("-o naming a directory, a missing folder, or the input itself", async () => {
    const { dir, env } = await setup();
    await mkdir(join(dir, "results"));
    const inDir = await runCli(["analyze", EXAMPLES, "-o", "results", "--experts", "embedded"], { cwd: dir, env });
    expectShortFatal(inDir, /results: is a directory; name a file/);
    expect(existsSync(join(dir, "results.journal"))).toBe(false);

    const missing = await runCli(["analyze", EXAMPLES, "-o", "nowhere/out.json", "--experts", "embedded"], { cwd: dir, env });
    expectShortFatal(missing, /nowhere\/out\.json: cannot write here: the folder .*nowhere does not exist/);

    const input = join(dir, "news.json");
    const original = JSON.stringify(items("x", 3));
    await writeFile(input, original);
    const same = await runCli(["analyze", input, "-o", input, "--experts", "embedded"], { cwd: dir, env });
    expectShortFatal(same, /-o .*news\.json is the input file; choose another output path/);
    expect(await readFile(input, "utf8")).toBe(original);
  }, 60_000);

  it("--stats naming a directory or a missing folder fails before any item is analysed", async () => {
    const { dir, env } = await setup();
    await mkdir(join(dir, "stats"));
    const inDir = await runCli(["analyze", EXAMPLES, "-o", "out.json", "--stats", "stats", "--experts", "embedded"], { cwd: dir, env });
    expectShortFatal(inDir, /stats: is a directory; name a file/);
    const missing = await runCli(["analyze", EXAMPLES, "-o", "out.json", "--stats", "nowhere/stats.json", "--experts", "embedded"], { cwd: dir, env });
    expectShortFatal(missing, /nowhere\/stats\.json: cannot write here: the folder .*nowhere does not exist/);
    expect(existsSync(join(dir, "out.json"))).toBe(false);
    expect(existsSync(join(dir, "out.json.journal"))).toBe(false);
  }, 60_000);

  it("NEWS_MOE_DEBUG=1 adds the stack to a user-facing error, after the same message", async () => {
    const { dir, env } = await setup();
    await mkdir(join(dir, "results"));
    const args = ["analyze", EXAMPLES, "-o", "results", "--experts", "embedded"];
    const plain = await runCli(args, { cwd: dir, env });
    const debug = await runCli(args, { cwd: dir, env: { ...env, NEWS_MOE_DEBUG: "1" } });
    expect(debug.code).toBe(2);
    const firstLine = plain.stderr.trim().split("\n")[0]!;
    expect(debug.stderr.startsWith(firstLine)).toBe(true);
    expect(debug.stderr).toMatch(/OutputWriteError: .*results: is a directory[\s\S]*\n\s+at /);
  }, 60_000);

  it("an unreadable input leaves no journal behind", async () => {
    const { dir, env } = await setup();
    const result = await runCli(["analyze", "missing.json", "-o", "out.json", "--experts", "embedded"], { cwd: dir, env });
    expectShortFatal(result, /missing\.json: cannot read the input: no such file/);
    expect(existsSync(join(dir, "out.json.journal"))).toBe(false);
  }, 30_000);

  it("--resume on a finished output with no journal refuses instead of recomputing", async () => {
    const { dir, env } = await setup();
    expect((await runCli(["analyze", EXAMPLES, "-o", "out.json", ...EMBEDDED], { cwd: dir, env })).code).toBe(1);
    const before = await readFile(join(dir, "out.json"), "utf8");
    const again = await runCli(["analyze", EXAMPLES, "-o", "out.json", "--experts", "embedded", "--resume"], { cwd: dir, env });
    expectShortFatal(again, /nothing to resume: .*out\.json\.journal does not exist and .*out\.json is already complete/);
    expect(await readFile(join(dir, "out.json"), "utf8")).toBe(before);
  }, 60_000);
});

describe("`experts` tells ready, downloadable and unavailable apart (item 9)", () => {
  it("a neural expert whose model is not cached is unavailable when the hub cannot be reached", async () => {
    const dir = await tempDir("news-moe-experts-");
    // Online as far as the switches go, but the hub endpoint is a closed local port.
    const env = { ...isolatedEnv(dir), HF_HUB_OFFLINE: "", HF_ENDPOINT: "http://127.0.0.1:9" };
    const result = await runCli(["experts", "--json"], { cwd: dir, env });
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as Array<{ name: string; status: string }>;
    const status = (name: string) => rows.find((r) => r.name === name)?.status;
    expect(status("LexiconSentimentExpert")).toBe("ready");
    expect(status("NewsSummarizationLLMExpert")).toMatch(/^unavailable: its model is not cached and http:\/\/127\.0\.0\.1:9 cannot be reached/);
    const offline = JSON.parse((await runCli(["experts", "--json"], { cwd: dir, env: isolatedEnv(dir) })).stdout) as typeof rows;
    expect(offline.find((r) => r.name === "SentimentAnalysisLLMExpert")?.status).toMatch(/^unavailable: .*offline mode is on/);
  }, 30_000);
});

describe("library: aborting a run (item 10)", () => {
  it("throws RunAbortedError, and the statistics say the run was aborted", async () => {
    const controller = new AbortController();
    let summary: RunSummary | undefined;
    const many = Array.from({ length: 300 }, (_, i) => ({ id: `n${i}`, content: `Item ${i}: the home side won a big match today. `.repeat(10) }));
    const outcome = analyze(many, {
      experts: ["embedded"],
      signal: controller.signal,
      onNotice: () => {},
      onEvent: (event) => {
        if (event.type === "record" && event.index === 2) controller.abort(new Error("enough"));
      },
      onSummary: (s) => (summary = s),
    });
    const error = await outcome.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RunAbortedError);
    expect((error as RunAbortedError).summary?.aborted).toBe(true);
    expect(summary?.aborted).toBe(true);
    expect(summary?.stats.items).toBeLessThan(300);
    // Already aborted before the start: the same error, not the signal's reason.
    await expect(analyze(many, { experts: ["embedded"], signal: AbortSignal.abort(new Error("no")) })).rejects.toBeInstanceOf(RunAbortedError);
  }, 30_000);
});

describe("progress counts items (item 8)", () => {
  it("without a terminal, reports items done of the item total, not a share of bytes", async () => {
    const dir = await tempDir("news-moe-progress-");
    const result = await runCli(["analyze", EXAMPLES, "-o", "out.json", "--experts", "embedded"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/news-moe: 16 of 16 items done, 1 with errors/);
    expect(result.stderr).not.toMatch(/% of input/);
  }, 30_000);
});

describe("progress during a long batch (item 8)", () => {
  it("without a terminal, a heartbeat line says which expert is working and how far it has got", async () => {
    const dir = await tempDir("news-moe-heartbeat-");
    const input = join(dir, "news.json");
    await writeFile(input, JSON.stringify(items("n", 3)));
    const plugin = join(REPO_ROOT, "test/fixtures/plugins/progress-tagger.mjs");
    const env = isolatedEnv(dir, { NEWS_MOE_PROGRESS_EVERY: "0.3" });
    const result = await runCli(["analyze", input, "-o", "out.json", "--plugin", plugin, "--experts", "ProgressTagger"], { cwd: dir, env });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/news-moe: 0 of 3 items done, .*; working, .* since the last item finished \(ProgressTagger: batch of 3 items, \d+\/15 steps\)/);
    expect(result.stderr).toMatch(/news-moe: 3 of 3 items done/);
  }, 30_000);
});

describe("smaller usage promises (item 11)", () => {
  it("-o x.jsonl writes JSON Lines; --min-length above --max-length and a bad value are one line plus a hint", async () => {
    const dir = await tempDir("news-moe-usage-");
    const env = isolatedEnv(dir);
    expect((await runCli(["analyze", EXAMPLES, "-o", "out.jsonl", ...EMBEDDED], { cwd: dir, env })).code).toBe(1);
    const lines = (await readFile(join(dir, "out.jsonl"), "utf8")).trim().split("\n");
    expect(lines).toHaveLength(16);
    expect((JSON.parse(lines[0] as string) as AnalysisRecord).id).toBe("c4xr9m2kq7vo");

    const lengths = await runCli(["analyze", EXAMPLES, "--min-length", "50", "--max-length", "20"], { cwd: dir, env });
    expect(lengths.code).toBe(2);
    expect(lengths.stderr.trim()).toBe("news-moe: --min-length 50 is above --max-length 20; a summary cannot be both");

    const bad = await runCli(["analyze", EXAMPLES, "--concurrency", "0"], { cwd: dir, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toEqual([expect.stringMatching(/--concurrency must be a whole number/), "(add --help for usage)"]);

    const memory = await runCli(["analyze", EXAMPLES, "--summary-memory", "0.5"], { cwd: dir, env });
    expect(memory.code).toBe(2);
    expect(memory.stderr.trim().split("\n")).toEqual([expect.stringMatching(/--summary-memory must be a whole number/), "(add --help for usage)"]);
  }, 30_000);
});

describe("serve and worker check the engine options as analyze does (one module, cli/engine-options.ts)", () => {
  it("--min-length above --max-length, a bad value and an unknown expert stop them with exit 2 before any model, port or Redis", async () => {
    const dir = await tempDir("news-moe-engine-options-");
    const env = isolatedEnv(dir);
    // No Redis is running and no port is opened: each refusal comes before either is needed.
    for (const command of [["serve", "--port", "0"], ["worker", "--redis", "redis://127.0.0.1:1"]]) {
      const lengths = await runCli([...command, "--min-length", "50", "--max-length", "20"], { cwd: dir, env });
      expect(lengths.code, command[0]).toBe(2);
      expect(lengths.stderr.trim()).toBe("news-moe: --min-length 50 is above --max-length 20; a summary cannot be both");

      const bad = await runCli([...command, "--threads", "0"], { cwd: dir, env });
      expect(bad.code, command[0]).toBe(2);
      expect(bad.stderr.trim().split("\n")).toEqual([expect.stringMatching(/--threads must be a whole number/), "(add --help for usage)"]);

      const unknown = await runCli([...command, "--experts", "NoSuchExpert"], { cwd: dir, env });
      expect(unknown.code, command[0]).toBe(2);
      expect(unknown.stderr).toMatch(/unknown expert "NoSuchExpert"/);
    }
  }, 60_000);
});

describe("smaller explanation promises (item 11)", () => {
  it("a topK rule is named in the routing reason; a --plugin expert left out by --experts gets a notice", async () => {
    const dir = await tempDir("news-moe-explain-");
    const env = isolatedEnv(dir);
    const rules = join(dir, "rules.json");
    await writeFile(rules, JSON.stringify({ rules: [{ name: "two-opinions", when: { words: { gt: 0 } }, then: { topK: { sentiment: 2 } } }] }));
    const input = join(dir, "news.json");
    await writeFile(input, JSON.stringify(items("n", 2)));
    const result = await runCli(["analyze", input, "-o", "out.json", "--rules", rules, "--experts", "embedded", "-q"], { cwd: dir, env });
    expect(result.code).toBe(0);
    const records = JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as AnalysisRecord[];
    const sentiment = records[0]?.routing?.experts.find((c) => c.task === "sentiment");
    expect(sentiment?.reason).toMatch(/rule "two-opinions" \(.*\) keeps 2 sentiment experts/);

    const plugin = join(REPO_ROOT, "test/fixtures/plugins/slow-tagger.mjs");
    const left = await runCli(["analyze", input, "-o", "out2.json", "--plugin", plugin, "--experts", "embedded", "-q"], { cwd: dir, env: { ...env, SLOW_TAGGER_MS: "0" } });
    expect(left.code).toBe(0);
    expect(left.stderr).toMatch(/SlowTagger \(from --plugin\) is not used: --experts embedded leaves it out/);
  }, 30_000);

  it("a neural NEUTRAL under a high threshold carries a confidence of at least 0.5, not 0.04", () => {
    const decision = decideSentiment([0.97, 0.03], ["NEGATIVE", "POSITIVE"], 0.98);
    expect(decision.label).toBe("NEUTRAL");
    expect(decision.score).toBeGreaterThanOrEqual(0.5);
    // The default threshold keeps the documented 1 − |P(POSITIVE) − P(NEGATIVE)|.
    expect(decideSentiment([0.4, 0.6], ["NEGATIVE", "POSITIVE"], 0.75).score).toBeCloseTo(0.8, 12);
  });
});
