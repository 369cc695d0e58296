/**
 * Every command that writes a file checks, before any work, that it can (one shared check,
 * cli/output-options.ts): a missing folder or one it may not write to is one line naming the path,
 * exit 2, no stack, and nothing read, trained, waited for or analysed first. And one rule for the
 * format of record outputs: `collect -o x.jsonl` writes JSON Lines as `analyze -o x.jsonl` does.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXAMPLES, expectUserFailure, isolatedEnv, runCli, startCli, tempDir } from "./helpers/cli.js";
import { CLI_USER, handOver, makeReadOnly } from "./helpers/fs-faults.js";
import { writeLabelledNews } from "./helpers/gate-data.js";
import { endAfterEachTest, freePort, HAVE_REDIS } from "./helpers/redis.js";

if (!HAVE_REDIS && process.env.NEWS_MOE_REQUIRE_REDIS) throw new Error("redis-server is not on PATH");

const { redisServer } = endAfterEachTest();

/** A results file for the report (its content does not matter: the output path is refused first). */
async function results(dir: string): Promise<string> {
  const file = join(dir, "results.json");
  await writeFile(file, JSON.stringify([{ id: "a", headline: "A", url: null, analyses: {}, routing: null }]));
  return file;
}

describe("an output path that cannot be written is refused before any work", () => {
  it("report, gate train, gate distill, collect and analyze: a folder that does not exist", async () => {
    const dir = await tempDir("news-moe-paths-");
    const env = isolatedEnv(dir);
    const missing = join(dir, "missing-dir");
    const expectMissing = (result: Parameters<typeof expectUserFailure>[0], file: string) => {
      expectUserFailure(result, 2, `news-moe: ${join(missing, file)}: cannot write here: the folder ${missing} does not exist\n`);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    };

    const report = await runCli(["report", await results(dir), "-o", join(missing, "x.html")], { cwd: dir, env });
    expectMissing(report, "x.html");
    // Checked before the results are read: a results file that does not exist is not what it names.
    expectMissing(await runCli(["report", "no-such-results.json", "-o", join(missing, "x.html")], { cwd: dir, env }), "x.html");

    // gate train: refused before reading or training (nothing is said of training).
    const labelled = await writeLabelledNews(dir, "labelled", 300, 4);
    const train = await runCli(["gate", "train", labelled, "-o", join(missing, "g.json")], { cwd: dir, env });
    expectMissing(train, "g.json");
    expect(train.stdout).toBe("");
    expectMissing(await runCli(["gate", "train", "no-such-data.jsonl", "-o", join(missing, "g.json")], { cwd: dir, env }), "g.json");

    const distill = await runCli(["gate", "distill", "no-such-teacher.json", "--items", EXAMPLES, "-o", join(missing, "l.jsonl")], { cwd: dir, env });
    expectMissing(distill, "l.jsonl");

    // collect: before connecting to Redis (none runs on this port), let alone waiting for the run.
    const collect = await runCli(["collect", "0123456789abcdef", "--redis", `redis://127.0.0.1:${await freePort()}`, "-o", join(missing, "c.json"), "--wait"], { cwd: dir, env });
    expectMissing(collect, "c.json");

    const analyze = await runCli(["analyze", EXAMPLES, "-o", join(missing, "a.json"), "--experts", "embedded"], { cwd: dir, env });
    expectMissing(analyze, "a.json");
  }, 120_000);

  it("a folder this user may not write to: the same one line, naming the folder and the reason", async () => {
    const dir = await tempDir("news-moe-paths-ro-");
    const locked = join(dir, "locked");
    await mkdir(locked);
    const resultsFile = await results(dir);
    await writeFile(join(dir, "labelled.jsonl"), await readFile(await writeLabelledNews(dir, "l", 50, 2)));
    await handOver(dir);
    await makeReadOnly(locked);
    const run = (args: string[]) => runCli(args, { cwd: dir, env: isolatedEnv(dir), ...(CLI_USER ? { user: CLI_USER } : {}) });
    const expectLocked = (result: Parameters<typeof expectUserFailure>[0], file: string, what: string) => {
      expectUserFailure(result, 2, `news-moe: ${join(locked, file)}: cannot write ${what} here: permission denied (EACCES) on ${locked}\n`);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(existsSync(join(locked, file))).toBe(false);
    };
    expectLocked(await run(["report", resultsFile, "-o", join(locked, "r.html")]), "r.html", "the report");
    expectLocked(await run(["gate", "train", "labelled.jsonl", "-o", join(locked, "g.json")]), "g.json", "the gate");
    expectLocked(await run(["analyze", EXAMPLES, "-o", join(locked, "a.json"), "--experts", "embedded"]), "a.json", "the results");
    expectLocked(await run(["analyze", EXAMPLES, "-o", "a.json", "--stats", join(locked, "s.json"), "--experts", "embedded"]), "s.json", "the routing statistics");
    expect(existsSync(join(dir, "a.json"))).toBe(false);
  }, 120_000);
});

describe.skipIf(!HAVE_REDIS)("one rule for the format of record outputs", () => {
  it("collect -o out.jsonl writes JSON Lines, the bytes analyze -o out.jsonl writes", async () => {
    const dir = await tempDir("news-moe-formats-");
    const env = isolatedEnv(dir);
    expect((await runCli(["analyze", EXAMPLES, "-o", "analyzed.jsonl", "--experts", "embedded", "--quiet"], { cwd: dir, env })).code).toBe(1);
    const redis = await redisServer(dir);
    const queue = ["--redis", redis.url, "--queue", "formats"];
    const submitted = await runCli(["submit", EXAMPLES, ...queue], { cwd: dir, env });
    expect(submitted.code, submitted.stderr).toBe(0);
    const runId = submitted.stdout.trim();
    const worker = startCli(["worker", ...queue, "-q", "--experts", "embedded"], { cwd: dir, env });
    try {
      expect((await runCli(["collect", runId, ...queue, "-o", "collected.jsonl", "--wait", "--quiet"], { cwd: dir, env })).code).toBe(1);
    } finally {
      worker.child.kill("SIGTERM");
      await worker.done;
    }
    const jsonl = await readFile(join(dir, "collected.jsonl"), "utf8");
    expect(jsonl.startsWith("{")).toBe(true); // not an indented array
    expect(jsonl).toBe(await readFile(join(dir, "analyzed.jsonl"), "utf8"));
  }, 120_000);
});
