import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/io/output-record.js";
import {
  OutputWriteError,
  temporaryPathFor,
  writeJsonArrayAtomically,
  writeJsonLinesAtomically,
  writeJsonLinesToStream,
  writeJsonlLine,
} from "../src/io/output-writer.js";
import { finished, spawnFixture } from "./fixtures/io/child-process.js";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "news-moe-io-output-"));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function* from<T>(values: T[]): AsyncGenerator<T> {
  for (const value of values) yield value;
}

const tutorialRecord: AnalysisRecord = {
  id: "bbc-1",
  headline: "Zverev – « très content »",
  url: "https://www.bbc.com/sport/tennis/1",
  analyses: {
    NewsSummarizationLLMExpert: { summary: "Zverev beat Sinner in Turin. 日本の錦織も出場。" },
    SentimentAnalysisLLMExpert: { sentiment_label: "POSITIVE", sentiment_score: 0.9998, probabilities: { POSITIVE: 0.9998, NEGATIVE: 0.0002 } },
  },
  routing: {
    router: "all",
    experts: [
      { expert: "NewsSummarizationLLMExpert", task: "summarization", weight: 1, reason: "all experts run" },
      { expert: "SentimentAnalysisLLMExpert", task: "sentiment", weight: 1, reason: "all experts run" },
    ],
  },
};

const failedRecord: AnalysisRecord = {
  id: null,
  headline: null,
  url: null,
  analyses: {},
  routing: null,
  error: 'item 4: id: missing, expected a non-empty string or a number',
};

describe("writeJsonArrayAtomically", () => {
  it("lays records out like Python's json.dump(indent=4, ensure_ascii=False), fields in published order", async () => {
    const target = path.join(dir, "analyzed.json");
    // Built in scrambled order: the writer must still put id, headline, url, analyses, routing first.
    const scrambled = { error: "partial", mixture: { sentiment: { label: "POSITIVE" } }, routing: null, analyses: {}, url: null, headline: "H", id: "7" };
    expect(await writeJsonArrayAtomically(target, from([tutorialRecord, scrambled as AnalysisRecord]))).toBe(2);
    const text = fs.readFileSync(target, "utf8");
    expect(text.split("\n").slice(0, 8)).toEqual([
      "[",
      "    {",
      '        "id": "bbc-1",',
      '        "headline": "Zverev – « très content »",',
      '        "url": "https://www.bbc.com/sport/tennis/1",',
      '        "analyses": {',
      '            "NewsSummarizationLLMExpert": {',
      '                "summary": "Zverev beat Sinner in Turin. 日本の錦織も出場。"',
    ]);
    expect(Object.keys((JSON.parse(text) as Array<Record<string, unknown>>)[1] as object)).toEqual([
      "id",
      "headline",
      "url",
      "analyses",
      "routing",
      "mixture",
      "error",
    ]);
    expect(text.endsWith("\n    }\n]\n")).toBe(true);
  });

  const python = spawnSync("python3", ["--version"]).status === 0;
  it.runIf(python)("matches real python3 json.dumps(indent=4, ensure_ascii=False) byte for byte (but the final newline)", async () => {
    const target = path.join(dir, "compare.json");
    await writeJsonArrayAtomically(target, from<AnalysisRecord>([
      tutorialRecord,
      failedRecord,
      // Empty object and empty array: Python prints them as {} and [] even with indent.
      { ...tutorialRecord, analyses: { Empty: {} }, routing: [] as unknown as AnalysisRecord["routing"] },
    ]));
    const script = "import json,sys; print(json.dumps(json.load(open(sys.argv[1], encoding='utf-8')), indent=4, ensure_ascii=False))";
    const dumped = spawnSync("python3", ["-c", script, target], { encoding: "utf8", env: { ...process.env, PYTHONIOENCODING: "utf-8" } });
    expect(dumped.stderr).toBe("");
    expect(fs.readFileSync(target, "utf8")).toBe(dumped.stdout);
  });

  it("writes [] for no records", async () => {
    const target = path.join(dir, "empty.json");
    expect(await writeJsonArrayAtomically(target, from([]))).toBe(0);
    expect(fs.readFileSync(target, "utf8")).toBe("[]\n");
  });

  it("never shows a half-written target: the old content stays until the rename", async () => {
    const target = path.join(dir, "swap.json");
    fs.writeFileSync(target, "old content");
    const seenDuringWrite: string[] = [];
    async function* records(): AsyncGenerator<AnalysisRecord> {
      for (let index = 0; index < 3000; index += 1) {
        if (index === 2999) {
          seenDuringWrite.push(fs.readFileSync(target, "utf8"));
          seenDuringWrite.push(String(fs.existsSync(temporaryPathFor(target))));
        }
        yield { ...tutorialRecord, id: `n-${index}` };
      }
    }
    await writeJsonArrayAtomically(target, records());
    expect(seenDuringWrite).toEqual(["old content", "true"]);
    const written = JSON.parse(fs.readFileSync(target, "utf8")) as AnalysisRecord[];
    expect(written.map((record) => record.id)).toEqual(Array.from({ length: 3000 }, (_, index) => `n-${index}`));
    expect(fs.existsSync(temporaryPathFor(target))).toBe(false);
  });

  it("leaves the old target untouched and no temporary file when the records fail midway", async () => {
    const target = path.join(dir, "keep.json");
    fs.writeFileSync(target, "previous run");
    async function* failing(): AsyncGenerator<AnalysisRecord> {
      // Enough records to have flushed part of the file to disk before failing.
      for (let index = 0; index < 2000; index += 1) yield tutorialRecord;
      throw new Error("expert crashed");
    }
    await expect(writeJsonArrayAtomically(target, failing())).rejects.toThrow("expert crashed");
    expect(fs.readFileSync(target, "utf8")).toBe("previous run");
    expect(fs.readdirSync(dir).filter((name) => name.startsWith("keep.json"))).toEqual(["keep.json"]);
  });

  it("names the file when the target cannot be written", async () => {
    const target = path.join(dir, "no-such-dir", "out.json");
    const failure = writeJsonArrayAtomically(target, from([tutorialRecord]));
    await expect(failure).rejects.toBeInstanceOf(OutputWriteError);
    await expect(failure).rejects.toThrow(`${target}: cannot create ${target}.tmp-${process.pid}: ENOENT`);
  });
});

describe("JSON Lines output", () => {
  it("writes one compact record per line, atomically", async () => {
    const target = path.join(dir, "out.jsonl");
    expect(await writeJsonLinesAtomically(target, from([tutorialRecord, failedRecord]))).toBe(2);
    const lines = fs.readFileSync(target, "utf8").split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe("");
    expect(JSON.parse(lines[1] as string)).toEqual(failedRecord);
    expect(lines[1]).toBe('{"id":null,"headline":null,"url":null,"analyses":{},"routing":null,"error":"item 4: id: missing, expected a non-empty string or a number"}');
  });

  it("streams to a writable with backpressure", async () => {
    const target = path.join(dir, "stream.jsonl");
    const stream = fs.createWriteStream(target, { highWaterMark: 1024 });
    const records = Array.from({ length: 500 }, (_, index) => ({ ...tutorialRecord, id: `s-${index}` }));
    const result = await writeJsonLinesToStream(stream, from(records));
    await new Promise<void>((resolve) => stream.end(resolve));
    expect(result).toEqual({ written: 500, consumerClosed: false });
    const ids = fs.readFileSync(target, "utf8").trim().split("\n").map((line) => (JSON.parse(line) as AnalysisRecord).id);
    expect(ids).toEqual(records.map((record) => record.id));
  });

  it("writes single lines and reports a stream that can take no more", async () => {
    const target = path.join(dir, "single.jsonl");
    const stream = fs.createWriteStream(target);
    expect(await writeJsonlLine(stream, tutorialRecord)).toBe(true);
    await new Promise<void>((resolve) => stream.end(resolve));
    expect(JSON.parse(fs.readFileSync(target, "utf8"))).toEqual(tutorialRecord);
    const gone = fs.createWriteStream(path.join(dir, "gone.jsonl"));
    gone.destroy();
    expect(await writeJsonlLine(gone, tutorialRecord)).toBe(false);
  });

  it("ends quietly when the reader of stdout goes away (| head)", async () => {
    const resultFile = path.join(dir, "epipe-result.json");
    const child = spawnFixture("write-stdout.ts", ["200000", resultFile]);
    const done = finished(child);
    // Read the first line, then close our end of the pipe as `head -n 1` would.
    await new Promise<void>((resolve) => {
      child.stdout.once("data", () => {
        child.stdout.destroy();
        resolve();
      });
    });
    const outcome = await done;
    expect(outcome.stderr).toBe("");
    expect(outcome.code).toBe(0);
    const result = JSON.parse(fs.readFileSync(resultFile, "utf8")) as { written: number; consumerClosed: boolean };
    expect(result.consumerClosed).toBe(true);
    expect(result.written).toBeLessThan(200000);
  });
});
