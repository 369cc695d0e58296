import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputFormatError, openInput, type RawInputItem } from "../src/io/input-reader.js";
import { FIXTURES_DIR } from "./fixtures/io/child-process.js";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "news-moe-io-input-"));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: string | Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

/** Reads everything; returns the items and the error that ended the reading, if any. */
async function readAll(source: string, format?: "auto" | "json" | "jsonl") {
  const items: RawInputItem[] = [];
  let error: unknown;
  try {
    for await (const item of openInput(source, { format })) items.push(item);
  } catch (caught) {
    error = caught;
  }
  return { items, error, values: items.map((item) => item.value) };
}

async function errorOf(source: string, format?: "auto" | "json" | "jsonl"): Promise<InputFormatError> {
  const { error } = await readAll(source, format);
  expect(error).toBeInstanceOf(InputFormatError);
  return error as InputFormatError;
}

describe("openInput: JSON arrays", () => {
  it("streams the scraper's array, element by element, with progress counters", async () => {
    const file = path.join(FIXTURES_DIR, "news-sample.json");
    const reader = openInput(file);
    expect(reader.format).toBe("json");
    expect(reader.totalBytes).toBe(fs.statSync(file).size);
    const items: RawInputItem[] = [];
    for await (const item of reader) items.push(item);
    expect(items.map((item) => item.index)).toEqual([0, 1, 2]);
    expect(items.map((item) => item.value)).toEqual(JSON.parse(fs.readFileSync(file, "utf8")));
    expect(reader.bytesRead).toBe(reader.totalBytes);
  });

  it("skips a BOM and accepts CRLF line endings", async () => {
    const file = write("bom-crlf.json", `\uFEFF[\r\n  {"id": "1", "content": "a"},\r\n  {"id": "2", "content": "b"}\r\n]\r\n`);
    const { values, error } = await readAll(file);
    expect(error).toBeUndefined();
    expect(values).toEqual([
      { id: "1", content: "a" },
      { id: "2", content: "b" },
    ]);
  });

  it("reads a pretty-printed single object as one item, and several as several", async () => {
    const one = write("one.json", JSON.stringify({ id: "x", content: "c", topics: ["a"] }, null, 2));
    const reader = openInput(one);
    expect(reader.format).toBe("json");
    expect((await readAll(one)).values).toEqual([{ id: "x", content: "c", topics: ["a"] }]);
    const several = write("several.json", `{\n  "id": "a"\n}\n{\n  "id": "b"\n}\n`);
    expect((await readAll(several)).values).toEqual([{ id: "a" }, { id: "b" }]);
  });

  it("reports a missing value at the line:column counted by hand", async () => {
    // Lines 1-10 take 181 bytes ("[\n" 2, "    {\n" 6, '        "id": "a1",\n' 20,
    // '        "headline": "Fine",\n' 28, the first content line 42, "    },\n" 7, "    {\n" 6,
    // '        "id": "a2",\n' 20, '        "headline": "Broken",\n' 30, '        "content": \n' 20);
    // the "}" on line 11 comes after 4 spaces: column 5, byte 185.
    const file = path.join(FIXTURES_DIR, "malformed-missing-value.json");
    const { items, error } = await readAll(file);
    expect(items.map((item) => (item.value as { id: string }).id)).toEqual(["a1"]);
    expect(error).toBeInstanceOf(InputFormatError);
    const problem = error as InputFormatError;
    expect(problem.message).toBe(`${file}:11:5: unexpected "}" (expected a value) [byte 185]`);
    expect([problem.line, problem.column, problem.offset]).toEqual([11, 5, 185]);
  });

  it("counts columns in characters, not bytes, after non-ASCII text", async () => {
    // `[{"headline": "日本語のニュース", "id": 1 ` is 34 characters (48 bytes + 16 for the 8
    // three-byte characters = 50 bytes); the string after the missing comma starts at column 35.
    const file = write("cjk.json", `[{"headline": "日本語のニュース", "id": 1 "content": "x"}]`);
    const problem = await errorOf(file);
    expect(problem.message).toBe(`${file}:1:35: unexpected string "content" (expected "," or "}") [byte 50]`);
  });

  it("names trailing commas and truncated input", async () => {
    const trailing = write("trailing.json", `[\n  {"id": "1"},\n]`);
    expect((await errorOf(trailing)).message).toBe(
      `${trailing}:3:1: unexpected "]" (expected a value; JSON allows no trailing comma) [byte 17]`,
    );
    const truncated = write("truncated.json", `[{"id": "1", "content": "x"},`);
    expect((await errorOf(truncated)).message).toBe(`${truncated}:1:30: unexpected end of input (expected a value) [byte 29]`);
    const openString = write("open-string.json", `[{"id": "1", "content": "x`);
    expect((await errorOf(openString)).problem).toBe("unexpected end of input inside a string (missing closing quote)");
    const afterArray = write("after-array.json", `[]\nxyz`);
    expect((await errorOf(afterArray)).message).toBe(
      `${afterArray}:2:1: unexpected "x" (expected nothing more after the JSON array) [byte 3]`,
    );
  });

  it("says what is wrong inside strings, numbers and literals", async () => {
    const cases: Array<[string, string]> = [
      ['[1 2]', '1:4: unexpected number 2 (expected "," or "]")'],
      ['[1 2', '1:4: unexpected number 2 (expected "," or "]")'],
      ['["a\tb"]', "1:4: unescaped control character U+0009 inside a string"],
      ['["a\nb"]', "1:4: unescaped line break inside a string"],
      ['["\\q"]', '1:4: invalid escape "\\q" in a string'],
      ['["\\u12G4"]', '1:7: unexpected "G" in a \\u escape (expected 4 hex digits)'],
      ["[1.e5]", '1:4: unexpected "e" in a number'],
      ["[nul]", '1:5: unexpected "]" (expected true, false or null)'],
      ["[{'id': 1}]", `1:3: unexpected "'" (expected a property name in double quotes or "}")`],
      ['[{"id": 1}, {"id": 2} {"id": 3}]', '1:23: unexpected "{" (expected "," or "]")'],
    ];
    for (const [index, [content, expected]] of cases.entries()) {
      const file = write(`case-${index}.json`, content);
      expect((await errorOf(file)).message.replace(/ \[byte \d+\]$/, "")).toBe(`${file}:${expected}`);
    }
  });

  it("locates errors far past the first read chunk, after a string longer than a chunk", async () => {
    const long = "a".repeat(200_000);
    const file = write("far.json", `[\n{"id": "1", "content": "${long}"},\n{"id": "2" "content": ""}\n]\n`);
    const { items, error } = await readAll(file);
    expect(items).toHaveLength(1);
    expect((items[0]?.value as { content: string }).content).toHaveLength(200_000);
    // Line 3 is `{"id": "2" "content": ""}`: the unexpected string starts at column 12.
    const offset = Buffer.byteLength(`[\n{"id": "1", "content": "${long}"},\n{"id": "2" `);
    expect((error as Error).message).toBe(`${file}:3:12: unexpected string "content" (expected "," or "}") [byte ${offset}]`);
  });

  it("refuses invalid UTF-8 and points at the byte", async () => {
    const file = write("latin1.json", Buffer.concat([Buffer.from('[{"id": "1", "content": "caf'), Buffer.from([0xe9]), Buffer.from('"}]')]));
    const problem = await errorOf(file);
    expect(problem.problem).toBe("invalid UTF-8 byte (the input must be UTF-8 encoded)");
    expect([problem.line, problem.column, problem.offset]).toEqual([1, 29, 28]);
  });
});

describe("openInput: JSON Lines", () => {
  it("reads lines with CRLF, blank lines, a BOM and a last line without newline", async () => {
    const file = write("mixed.jsonl", `\uFEFF{"id": "1", "content": "a"}\r\n\r\n  \n{"id": "2", "content": "é"}\r\n{"id": "3", "content": "c"}`);
    const reader = openInput(file);
    expect(reader.format).toBe("jsonl");
    const items: RawInputItem[] = [];
    for await (const item of reader) items.push(item);
    expect(items).toEqual([
      { index: 0, line: 1, value: { id: "1", content: "a" } },
      { index: 1, line: 4, value: { id: "2", content: "é" } },
      { index: 2, line: 5, value: { id: "3", content: "c" } },
    ]);
    expect(reader.bytesRead).toBe(fs.statSync(file).size);
  });

  it("detects JSON Lines from content when the extension says nothing", async () => {
    const file = write("feed.txt", `{"id": "1"}\n{"id": "2"}\n`);
    expect(openInput(file).format).toBe("jsonl");
    expect((await readAll(file)).values).toEqual([{ id: "1" }, { id: "2" }]);
  });

  it("names the line of a broken line, after yielding the lines before it", async () => {
    const file = path.join(FIXTURES_DIR, "unterminated-string.jsonl");
    const { items, error } = await readAll(file);
    expect(items.map((item) => item.index)).toEqual([0, 1]);
    // Line 4, `{"id": "3", "content": "missing quote}`, is 38 characters long; it starts after
    // 29 + 29 + 1 bytes of lines 1-3, so its end (column 39) is byte 59 + 38 = 97.
    expect((error as Error).message).toBe(
      `${file}:4:39: unexpected end of line inside a string (missing closing quote) [byte 97]`,
    );
  });

  it("points at the column of a syntax error inside a line", async () => {
    const file = write("comma.jsonl", `{"id": 1}\n{"id": 2, "x": [1,]}\n`);
    expect((await errorOf(file)).message).toBe(
      `${file}:2:19: unexpected "]" (expected a value; JSON allows no trailing comma) [byte 28]`,
    );
    const twoValues = write("two.jsonl", `{"id": 1} {"id": 2}\n`);
    expect((await errorOf(twoValues)).message).toBe(
      `${twoValues}:1:11: unexpected "{" (expected nothing more after the JSON value) [byte 10]`,
    );
  });

  it("forces JSON Lines for .jsonl/.ndjson, so a pretty object there is an error on line 1", async () => {
    const file = write("pretty.ndjson", `{\n  "id": "a"\n}\n`);
    expect(openInput(file).format).toBe("jsonl");
    expect((await errorOf(file)).message).toBe(
      `${file}:1:2: unexpected end of line (expected a property name in double quotes or "}") [byte 1]`,
    );
  });

  it("refuses invalid UTF-8 in a line, naming line and column", async () => {
    const file = write("bad.jsonl", Buffer.concat([Buffer.from('{"id": "1"}\n{"id": "\u00e9'), Buffer.from([0xff]), Buffer.from('"}\n')]));
    const problem = await errorOf(file);
    // Line 1 is 12 bytes; on line 2, `{"id": "é` is 9 characters in 10 bytes: column 10, byte 22.
    expect([problem.line, problem.column, problem.offset]).toEqual([2, 10, 22]);
    expect(problem.problem).toContain("invalid UTF-8");
  });
});

describe("openInput: what is not news input", () => {
  it("treats empty input as zero JSON Lines items, but an empty .json file as an error", async () => {
    expect((await readAll(write("empty.jsonl", ""))).items).toEqual([]);
    const unnamed = write("empty-feed", "\n  \n");
    expect(openInput(unnamed).format).toBe("jsonl");
    expect((await readAll(unnamed)).items).toEqual([]);
    const json = write("empty.json", "  \n");
    expect((await errorOf(json)).message).toBe(`${json}: is empty (expected a JSON array of news items)`);
    expect((await errorOf(unnamed, "json")).problem).toBe("is empty (expected a JSON array of news items)");
  });

  it("rejects a top level that is neither an array nor an object, at its position", async () => {
    const file = write("number.json", "\n\n  42\n");
    const problem = await errorOf(file);
    expect(problem.message).toBe(`${file}:3:3: unexpected "4" (expected a JSON array "[" or JSON Lines "{") [byte 4]`);
  });

  it("rejects UTF-16 with a hint", async () => {
    const file = write("utf16.json", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("[]", "utf16le")]));
    expect((await errorOf(file)).message).toBe(`${file}: is UTF-16 encoded; convert it to UTF-8 (e.g. with iconv)`);
  });

  it("fails at open for a missing file or a directory, with the system code", () => {
    const missing = path.join(dir, "nope.json");
    let caught: unknown;
    try {
      openInput(missing);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputFormatError);
    expect((caught as InputFormatError).code).toBe("ENOENT");
    expect((caught as Error).message).toBe(`${missing}: cannot read the input: no such file (ENOENT)`);
    expect(() => openInput(dir)).toThrow(expect.objectContaining({ code: "EISDIR" }));
  });

  it("is iterated once, and stops reading when the consumer stops", async () => {
    const file = write("many.jsonl", `${JSON.stringify({ id: "x", content: "y".repeat(1000) })}\n`.repeat(2000));
    const reader = openInput(file);
    for await (const item of reader) {
      expect(item.index).toBe(0);
      break;
    }
    expect(reader.bytesRead).toBeLessThan(reader.totalBytes as number);
    expect(() => reader[Symbol.asyncIterator]()).toThrow(/only once/);
  });
});
