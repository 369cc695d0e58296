/**
 * The built-in sinks on real files and streams, and analyzeStream stopping its run when the caller
 * stops reading.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/core/analysis-record.js";
import { analyzeStream } from "../src/engine/analyze.js";
import { journalPathFor } from "../src/engine/run.js";
import { FileSink } from "../src/sinks/file-sink.js";
import { StreamSink } from "../src/sinks/stream-sink.js";
import { tempDir } from "./helpers/cli.js";

function record(id: string): AnalysisRecord {
  return { id, headline: null, url: null, analyses: { E: { n: id } }, routing: null };
}

describe("FileSink", () => {
  it("makes the file appear complete on close, and leaves nothing behind on abort", async () => {
    const dir = await tempDir("news-moe-sinks-");
    const target = join(dir, "out.json");
    const sink = new FileSink(target, "json");
    await sink.open();
    await sink.write(record("a"), { index: 0, replayed: true });
    await sink.write(record("b"), { index: 1, replayed: false });
    expect(existsSync(target)).toBe(false);
    await sink.close();
    expect(JSON.parse(await readFile(target, "utf8"))).toEqual([record("a"), record("b")]);

    const other = new FileSink(join(dir, "other.jsonl"), "jsonl");
    await other.open();
    await other.write(record("c"), { index: 0, replayed: false });
    await other.abort();
    expect((await readdir(dir)).sort()).toEqual(["out.json"]);
  });
});

describe("StreamSink", () => {
  it("writes JSON Lines as records come and skips records replayed from a resumed run", async () => {
    const stream = new PassThrough();
    let text = "";
    stream.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
    const sink = new StreamSink(stream);
    expect(await sink.write(record("old"), { index: 0, replayed: true })).toBe(true);
    expect(await sink.write(record("new"), { index: 1, replayed: false })).toBe(true);
    await sink.close();
    expect(text).toBe(`${JSON.stringify(record("new"))}\n`);
  });
});

describe("analyzeStream", () => {
  it("stops the run when the caller stops reading, and keeps the journal for a resume", async () => {
    const dir = await tempDir("news-moe-sinks-");
    const journal = journalPathFor(join(dir, "out.json"));
    const items = Array.from({ length: 300 }, (_, i) => ({ id: `n${i}`, content: `Report ${i}: the home side won the derby again.` }));
    const seen: string[] = [];
    for await (const item of analyzeStream(items, { experts: ["embedded"], journal, onNotice: () => {} })) {
      seen.push(item.id ?? "");
      if (seen.length === 5) break;
    }
    expect(seen).toEqual(["n0", "n1", "n2", "n3", "n4"]);
    const lines = (await readFile(journal, "utf8")).trim().split("\n");
    expect(lines.length - 1).toBeGreaterThanOrEqual(5);
    expect(lines.length - 1).toBeLessThan(items.length);
  });
});
