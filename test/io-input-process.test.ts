import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runFixture } from "./fixtures/io/child-process.js";

// Real processes: stdin is a real pipe, fed in pieces, and memory is measured in a child whose
// heap is capped, so holding the whole input would crash it rather than merely look bad.

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "news-moe-io-process-"));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function parseLines(stdout: string): unknown[] {
  return stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

describe("openInput('-') in a real process", () => {
  it("reads a JSON array piped in pieces that split a multi-byte character and a token", async () => {
    const text = `[{"id": "1", "content": "日本語"}, {"id": 2, "content": "ok"}]`;
    const bytes = Buffer.from(text);
    const splitInsideCharacter = bytes.indexOf(Buffer.from("本")) + 1;
    const splitInsideKey = bytes.indexOf("content", splitInsideCharacter) + 3;
    expect(splitInsideKey).toBeGreaterThan(splitInsideCharacter);
    const result = await runFixture("read-input.ts", ["-"], {
      stdin: [bytes.subarray(0, splitInsideCharacter), bytes.subarray(splitInsideCharacter, splitInsideKey), bytes.subarray(splitInsideKey)],
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(parseLines(result.stdout)).toEqual([
      { index: 0, value: { id: "1", content: "日本語" } },
      { index: 1, value: { id: 2, content: "ok" } },
    ]);
  });

  it("reads JSON Lines from stdin with a line split across writes", async () => {
    const result = await runFixture("read-input.ts", ["-"], {
      stdin: ['{"id": "a", "content": "x"}\r\n{"id": "b", ', '"content": "y"}\n'],
    });
    expect(result.code).toBe(0);
    expect(parseLines(result.stdout)).toEqual([
      { index: 0, line: 1, value: { id: "a", content: "x" } },
      { index: 1, line: 2, value: { id: "b", content: "y" } },
    ]);
  });

  it("names <stdin> in syntax errors and exits 2, after the items before the error", async () => {
    const result = await runFixture("read-input.ts", ["-"], { stdin: ['[\n{"id": "1"},\n{"id" "2"}\n]\n'] });
    expect(result.code).toBe(2);
    expect(parseLines(result.stdout)).toEqual([{ index: 0, value: { id: "1" } }]);
    expect(result.stderr).toBe(`<stdin>:3:7: unexpected string "2" (expected ":" after the property name) [byte 21]\n`);
  });

  it("reads empty stdin as zero items", async () => {
    const result = await runFixture("read-input.ts", ["-"], { stdin: [] });
    expect(result).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });
});

describe("memory", () => {
  it("streams 200,000 items (about 110 MB) through a child whose heap is capped at 64 MB", async () => {
    const file = path.join(dir, "big.json");
    const count = 200_000;
    const content = "Lorem ipsum dolor sit amet, consectetur adipiscing elit; “quoted” 日本語 text. ".repeat(5);
    const out = fs.openSync(file, "w");
    const pieces: string[] = ["["];
    for (let index = 0; index < count; index += 1) {
      const item = { id: `n-${index}`, headline: `Headline ${index}`, content, topics: ["a", "b"] };
      pieces.push(`${index === 0 ? "" : ","}\n${JSON.stringify(item, null, 4)}`);
      if (pieces.length >= 1000) fs.writeSync(out, pieces.splice(0).join(""));
    }
    pieces.push("\n]\n");
    fs.writeSync(out, pieces.join(""));
    fs.closeSync(out);
    const size = fs.statSync(file).size;
    expect(size).toBeGreaterThan(100_000_000);

    const result = await runFixture("read-input.ts", [file, "auto", "--memory"], { nodeFlags: ["--max-old-space-size=64"] });
    expect(result.stderr).toBe("");
    const summary = JSON.parse(result.stdout) as { count: number; maxHeapUsed: number; format: string; bytesRead: number };
    expect(summary).toMatchObject({ count, format: "json", bytesRead: size });
    // Holding the items would take well over 100 MB; streaming stays at a few MB.
    expect(summary.maxHeapUsed).toBeLessThan(40_000_000);
  });
});
