import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  finalizeFromJournal,
  Journal,
  JournalCorruptError,
  JournalExistsError,
  JournalInputMismatchError,
  journalPathFor,
} from "../src/io/journal.js";
import type { AnalysisRecord } from "../src/io/output-record.js";
import { finished, spawnFixture, waitForLine } from "./fixtures/io/child-process.js";
import { idFor } from "./fixtures/io/journal-items.js";

let dir: string;
let input: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "news-moe-io-journal-"));
  input = path.join(dir, "news.json");
  fs.writeFileSync(input, "[]");
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function freshJournalPath(): string {
  counter += 1;
  return journalPathFor(path.join(dir, `out-${counter}.json`));
}

function record(id: string | null, note = ""): AnalysisRecord {
  return { id, headline: `H ${id}`, url: null, analyses: { E: { note } }, routing: null };
}

function lines(file: string): string[] {
  return fs.readFileSync(file, "utf8").split("\n");
}

async function journalWith(entries: Array<[AnalysisRecord, number]>): Promise<string> {
  const file = freshJournalPath();
  const journal = await Journal.open(file, { resume: false, input });
  for (const [entry, index] of entries) journal.append(entry, index);
  journal.close();
  return file;
}

describe("Journal", () => {
  it("starts with a header and has each record on disk as soon as append returns", async () => {
    const file = freshJournalPath();
    const journal = await Journal.open(file, { resume: false, input });
    expect(journal.header).toMatchObject({ newsMoeJournal: 1, input: path.resolve(input), inputBytes: 2, pid: process.pid });
    journal.append(record("a"), 0);
    // Read by another file descriptor before close: the line is already there.
    expect(lines(file).slice(1)).toEqual([JSON.stringify({ index: 0, record: record("a") }), ""]);
    expect(journal.count).toBe(1);
    journal.close();
    journal.close();
    expect(() => journal.append(record("b"), 1)).toThrow(`${file}: the journal is closed`);
  });

  it("refuses to start over a journal with finished items unless told to overwrite", async () => {
    const file = await journalWith([
      [record("a"), 0],
      [record("b"), 1],
    ]);
    const refusal = Journal.open(file, { resume: false, input });
    await expect(refusal).rejects.toBeInstanceOf(JournalExistsError);
    await expect(refusal).rejects.toThrow(
      `${file} holds 2 finished items from an interrupted run; resume that run or overwrite it to start over`,
    );
    const fresh = await Journal.open(file, { resume: false, input, overwrite: true });
    fresh.close();
    expect(lines(file)).toHaveLength(2);
    // A journal without items loses nothing when replaced.
    const again = await Journal.open(file, { resume: false, input });
    again.close();
  });

  it("resumes by id as a multiset, and by index for items without an id", async () => {
    const file = await journalWith([
      [record("dup"), 0],
      [record("x"), 1],
      [record(null), 2],
      [record("dup"), 4],
    ]);
    const journal = await Journal.open(file, { resume: true, input });
    expect(journal.resumedCount).toBe(4);
    const skip = journal.resumeFilter();
    const inputItems = [
      { index: 0, id: "dup" },
      { index: 1, id: "x" },
      { index: 2, id: null },
      { index: 3, id: null },
      { index: 4, id: "dup" },
      { index: 5, id: "dup" },
      { index: 6, id: "#2" },
    ];
    expect(inputItems.filter((item) => skip(item)).map((item) => item.index)).toEqual([0, 1, 2, 4]);
    journal.append(record("dup"), 5);
    expect(journal.count).toBe(5);
    journal.close();
  });

  it("matches id-less records journaled without an index to id-less input items in order", async () => {
    const file = freshJournalPath();
    const journal = await Journal.open(file, { resume: false, input });
    // As the orchestrator emits them: in input order, index not passed.
    journal.append(record("a"));
    journal.append(record(null));
    journal.append(record(null));
    journal.close();
    const resumed = await Journal.open(file, { resume: true, input });
    const skip = resumed.resumeFilter();
    const inputItems = [
      { index: 0, id: "a" },
      { index: 1, id: null },
      { index: 2, id: "b" },
      { index: 3, id: null },
      { index: 4, id: null },
    ];
    expect(inputItems.filter((item) => skip(item)).map((item) => item.index)).toEqual([0, 1, 3]);
    resumed.close();
  });

  it("truncates a torn last line (a write cut short) and keeps appending cleanly", async () => {
    const file = await journalWith([
      [record("a"), 0],
      [record("b"), 1],
    ]);
    const completeSize = fs.statSync(file).size;
    fs.appendFileSync(file, JSON.stringify({ index: 2, record: record("c") }).slice(0, 25));
    const journal = await Journal.open(file, { resume: true, input });
    expect(journal.resumedCount).toBe(2);
    expect(fs.statSync(file).size).toBe(completeSize);
    journal.append(record("c"), 2);
    journal.close();
    const output = path.join(dir, "torn-out.jsonl");
    expect(await finalizeFromJournal(file, output, "jsonl")).toEqual({ records: 3, failed: 0 });
    expect(lines(output).filter(Boolean).map((line) => (JSON.parse(line) as AnalysisRecord).id)).toEqual(["a", "b", "c"]);
  });

  it("keeps a complete last line that only lacks its newline", async () => {
    const file = await journalWith([[record("a"), 0]]);
    fs.appendFileSync(file, JSON.stringify({ index: 1, record: record("b") }));
    const journal = await Journal.open(file, { resume: true, input });
    expect(journal.resumedCount).toBe(2);
    journal.append(record("c"), 2);
    journal.close();
    expect(lines(file).slice(1).map((line) => (line ? (JSON.parse(line) as { index: number }).index : "end"))).toEqual([0, 1, 2, "end"]);
  });

  it("stops at a corrupt line in the middle, naming it", async () => {
    const file = await journalWith([
      [record("a"), 0],
      [record("b"), 1],
    ]);
    const content = lines(file);
    content[2] = '{"index": 1, "record": {"id": "b", "analy';
    fs.writeFileSync(file, content.join("\n"));
    fs.appendFileSync(file, `${JSON.stringify({ index: 2, record: record("c") })}\n`);
    const opening = Journal.open(file, { resume: true, input });
    await expect(opening).rejects.toBeInstanceOf(JournalCorruptError);
    await expect(opening).rejects.toThrow(`${file}:3: not a journal entry (invalid JSON)`);
  });

  it("will not resume a run on another input, and starts fresh when there is nothing to resume", async () => {
    const file = await journalWith([[record("a"), 0]]);
    const other = path.join(dir, "other.json");
    await expect(Journal.open(file, { resume: true, input: other })).rejects.toBeInstanceOf(JournalInputMismatchError);
    const nothing = freshJournalPath();
    const journal = await Journal.open(nothing, { resume: true, input: "-" });
    expect([journal.resumedCount, journal.header.input, journal.header.inputBytes]).toEqual([0, "-", null]);
    journal.close();
  });
});

describe("finalizeFromJournal", () => {
  it("writes each journaled record once, in journal order, counts the failed ones, then deletes the journal", async () => {
    const invalid: AnalysisRecord = { ...record(null), analyses: {}, error: "item 2: id: missing, expected a non-empty string or a number" };
    const records = [record("b", "second in input"), invalid, { ...record("a"), analyses: { E: { error: "model missing" } } }];
    const file = await journalWith([
      [records[0] as AnalysisRecord, 1],
      [records[1] as AnalysisRecord, 2],
      [records[2] as AnalysisRecord, 0],
    ]);
    const output = path.join(dir, "final.json");
    expect(await finalizeFromJournal(file, output, "json")).toEqual({ records: 3, failed: 2 });
    expect(JSON.parse(fs.readFileSync(output, "utf8"))).toEqual(records);
    expect(fs.existsSync(file)).toBe(false);
  });

  it("keeps the journal and the old output when the journal is damaged", async () => {
    const file = await journalWith([[record("a"), 0]]);
    fs.appendFileSync(file, "not json\n");
    const output = path.join(dir, "kept.json");
    fs.writeFileSync(output, "old");
    await expect(finalizeFromJournal(file, output, "json")).rejects.toThrow(`${file}:3: not a journal entry (invalid JSON)`);
    expect(fs.readFileSync(output, "utf8")).toBe("old");
    expect(fs.existsSync(file)).toBe(true);
  });
});

describe("kill -9 and resume, with real processes", () => {
  it("loses no finished item and duplicates none across several SIGKILLs", async () => {
    const file = freshJournalPath();
    const total = 600;
    const killDelays: number[] = [];
    const runChild = (resume: boolean) =>
      spawnFixture("journal-writer.ts", [file, input, String(total), "3", ...(resume ? ["--resume"] : [])]);

    for (let round = 0; round < 4; round += 1) {
      const child = runChild(round > 0);
      const exit = finished(child);
      await waitForLine(child, "ready");
      const delay = 100 + Math.floor(Math.random() * 300);
      killDelays.push(delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.kill("SIGKILL");
      const outcome = await exit;
      expect(outcome.signal, `kills after ${killDelays.join(", ")} ms; stderr: ${outcome.stderr}`).toBe("SIGKILL");
      const reportedAppended = outcome.stdout
        .split("\n")
        .filter((line) => line.startsWith("appended "))
        .map((line) => Number(line.slice("appended ".length)));
      expect(reportedAppended.length).toBeGreaterThan(0);

      // What the killed process left: a header and whole entry lines (write(2) of a line to the
      // page cache is not interrupted by SIGKILL), each input index at most once.
      const text = fs.readFileSync(file, "utf8");
      expect(text.endsWith("\n")).toBe(true);
      const indices = text.trim().split("\n").slice(1).map((line) => (JSON.parse(line) as { index: number }).index);
      expect(new Set(indices).size).toBe(indices.length);
      // Every append the child saw return is in the file, though the child died right after.
      expect(reportedAppended.filter((index) => !indices.includes(index))).toEqual([]);

      // A power loss can still cut a line short; simulate one on some rounds: the next resume
      // (in the next child) must cut it away rather than choke on it.
      if (round % 2 === 1) fs.appendFileSync(file, '{"index": 599, "record": {"id": "item-599", "head');
    }

    // Reopen here too: the torn line goes, and the filter skips exactly the journaled items.
    const reopened = await Journal.open(file, { resume: true, input });
    const journaled = fs.readFileSync(file, "utf8").trim().split("\n").slice(1).map((line) => (JSON.parse(line) as { index: number }).index);
    expect(reopened.resumedCount).toBe(journaled.length);
    expect(journaled.length, `kills after ${killDelays.join(", ")} ms`).toBeGreaterThan(0);
    expect(journaled.length).toBeLessThan(total);
    const skip = reopened.resumeFilter();
    const skipped = Array.from({ length: total }, (_, index) => index).filter((index) => skip({ index, id: idFor(index) }));
    expect(skipped).toEqual([...journaled].sort((a, b) => a - b));
    reopened.close();

    const last = runChild(true);
    const outcome = await finished(last);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toContain(`done ${total}`);

    const output = path.join(dir, "crash-final.json");
    expect(await finalizeFromJournal(file, output, "json")).toEqual({ records: total, failed: 0 });
    const final = JSON.parse(fs.readFileSync(output, "utf8")) as AnalysisRecord[];
    const finalIndices = final.map((entry) => (entry.analyses.CrashTestExpert as { index: number }).index);
    expect([...finalIndices].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, index) => index));
    expect(final.every((entry, position) => entry.id === idFor(finalIndices[position] as number))).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
  });
});
