/**
 * The engine's run() as a library caller uses it: the same crash safety as the CLI (journal,
 * kill -9, resume), abort through a signal, and records reaching every sink once.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/core/analysis-record.js";
import type { Sink } from "../src/core/sink.js";
import { ExpertRegistry } from "../src/core/registry.js";
import { analyze } from "../src/engine/analyze.js";
import { enumerate } from "../src/engine/pipeline-input.js";
import { journalPathFor, run, RunAbortedError } from "../src/engine/run.js";
import { createDefaultRegistry } from "../src/engine/assemble-run.js";
import { FileSink } from "../src/sinks/file-sink.js";
import { REPO_ROOT, tempDir } from "./helpers/cli.js";

const PROGRAM = join(REPO_ROOT, "test/fixtures/library/run-analysis.mjs");
const SLOW_TAGGER = join(REPO_ROOT, "test/fixtures/plugins/slow-tagger.mjs");

function journalLines(text: string): number {
  return text.split("\n").filter((line) => line.trim().length > 0).length - 1;
}

function start(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [PROGRAM, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

async function slowTaggerRegistry(): Promise<ExpertRegistry> {
  const module = (await import(SLOW_TAGGER)) as { default: Parameters<ExpertRegistry["register"]>[0] };
  return new ExpertRegistry().register(module.default);
}

describe("the library's run(): crash safety without the CLI", () => {
  it("killed with SIGKILL several times and resumed, ends with every item exactly once", async () => {
    const dir = await tempDir("news-moe-library-");
    const count = 200;
    // Duplicate ids and an id-less item are where "exactly once" is easiest to get wrong.
    const items = Array.from({ length: count }, (_, i) => {
      if (i === 60) return { headline: "no id", content: "An item without an id still gets an entry." };
      return { id: i % 40 === 3 ? "dup" : `item-${i}`, headline: `Item ${i}`, content: `Report number ${i} has a few words in it.` };
    });
    const input = join(dir, "news.json");
    await writeFile(input, JSON.stringify(items));
    const output = join(dir, "out.json");
    const journal = journalPathFor(output);
    const env = { ...process.env, SLOW_TAGGER_MS: "12" };

    const killedAt: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const child = start(attempt === 0 ? [input, output] : [input, output, "resume"], env);
      const before = existsSync(journal) ? journalLines(await readFile(journal, "utf8")) : 0;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        await sleep(50);
        if (existsSync(journal) && journalLines(await readFile(journal, "utf8")) > before) break;
      }
      await sleep(Math.floor(Math.random() * 300));
      child.child.kill("SIGKILL");
      const result = await child.done;
      expect(result.signal).toBe("SIGKILL");
      killedAt.push(journalLines(await readFile(journal, "utf8")));
      expect(existsSync(output)).toBe(false);
    }
    expect(killedAt[0]).toBeGreaterThan(0);
    expect(killedAt.at(-1)).toBeLessThan(count);

    const final = await start([input, output, "resume"], env).done;
    expect(final.code).toBe(0);
    const summary = JSON.parse(final.stdout) as { resumed: number; items: number; failed: number; failedBefore: number };
    expect(summary.resumed + summary.items).toBe(count);
    expect(summary.failed + summary.failedBefore).toBe(1); // the id-less item is invalid
    const records = JSON.parse(await readFile(output, "utf8")) as AnalysisRecord[];
    expect(records).toHaveLength(count);
    expect(records.map((r) => r.headline)).toEqual(items.map((item) => item.headline));
    expect(records.filter((r) => r.id === "dup")).toHaveLength(items.filter((item) => item.id === "dup").length);
    for (const record of records.filter((r) => r.id !== null)) expect(record.analyses.SlowTagger).toEqual({ words: 9 });
    expect(existsSync(journal)).toBe(false);
    // The killed runs' temporary output files are cleaned up by the run that finished.
    expect((await readdir(dir)).sort()).toEqual(["news.json", "out.json"]);
  }, 120_000);

  it("stops on its signal, keeps the journal, and a resumed run hands every sink the whole output", async () => {
    const dir = await tempDir("news-moe-library-");
    const items = Array.from({ length: 60 }, (_, i) => ({ id: `n${i}`, content: `Report ${i} in a few words.` }));
    const output = join(dir, "out.jsonl");
    const journal = journalPathFor(output);
    process.env.SLOW_TAGGER_MS = "10";
    const controller = new AbortController();
    const seen: AnalysisRecord[] = [];
    const stopper: Sink = {
      name: "stopper",
      write(record) {
        seen.push(record);
        if (seen.length === 10) controller.abort(new Error("enough"));
      },
      async close() {},
    };
    const registry = await slowTaggerRegistry();
    const aborted = await run({
      input: items,
      registry,
      sinks: [new FileSink(output, "jsonl"), stopper],
      journal,
      signal: controller.signal,
      onNotice: () => {},
    }).catch((error: unknown) => error);
    expect(aborted).toBeInstanceOf(RunAbortedError);
    const kept = (aborted as RunAbortedError).journal;
    expect(kept?.path).toBe(journal);
    expect(kept?.records).toBe(journalLines(await readFile(journal, "utf8")));
    expect(kept?.records).toBeGreaterThanOrEqual(10);
    expect(existsSync(output)).toBe(false);

    // analyze() is run() with the caller as a sink: resumed, it returns the whole output.
    const records = await analyze(items, { registry, journal, resume: true, sinks: [new FileSink(output, "jsonl")], onNotice: () => {} });
    expect(records.map((r) => r.id).sort()).toEqual(items.map((item) => item.id).sort());
    const lines = (await readFile(output, "utf8")).trim().split("\n");
    expect(lines.map((line) => (JSON.parse(line) as AnalysisRecord).id)).toEqual(records.map((r) => r.id));
    expect(existsSync(journal)).toBe(false);
  }, 60_000);

  it("numbered input: sinks and messages name each item by the caller's number, the records are otherwise a plain run's", async () => {
    const items = [
      { id: "a", headline: "Markets rally", content: "Stocks rose sharply on strong earnings and upbeat forecasts." },
      "not an item",
      { id: "b", headline: "Storm warning", content: "A severe storm is expected to cause flooding and damage." },
    ];
    const collect = async (input: Parameters<typeof run>[0]["input"], numbered: boolean) => {
      const written: Array<{ index: number | null; record: AnalysisRecord }> = [];
      const sink: Sink = { name: "memory", write: (record, info) => void written.push({ index: info.index, record }), close: async () => undefined };
      await run({ input, numbered, registry: createDefaultRegistry(), experts: ["embedded"], sinks: [sink] });
      return written;
    };
    const plain = await collect(items, false);
    // A queue worker's slice: positions 40.. of a larger file.
    const slice = await collect(enumerate(items, 40), true);
    // The server's merged requests: each numbered from 0, so numbers repeat.
    const merged = await collect([{ index: 0, value: items[0] }, { index: 0, value: items[1] }, { index: 1, value: items[2] }], true);

    expect(plain.map((w) => w.index)).toEqual([0, 1, 2]);
    expect(slice.map((w) => w.index)).toEqual([40, 41, 42]);
    expect(merged.map((w) => w.index)).toEqual([0, 0, 1]);
    expect(plain[1]?.record.error).toBe("item 1: expected an object, got string");
    expect(slice[1]?.record.error).toBe("item 41: expected an object, got string");
    expect(merged[1]?.record.error).toBe("item 0: expected an object, got string");
    // Only the bad item's message carries the number: the analysed records are the plain run's.
    for (const i of [0, 2]) {
      expect(slice[i]?.record).toEqual(plain[i]?.record);
      expect(merged[i]?.record).toEqual(plain[i]?.record);
    }
  }, 60_000);
});
