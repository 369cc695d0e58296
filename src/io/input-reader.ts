import * as fs from "node:fs";
import * as path from "node:path";
import { hasUtf16Bom, sniffLayout, utf8BomLength, type SniffedLayout } from "./format-sniffer.js";
import { displayNameOf, InputFormatError } from "./input-error.js";
import { INVALID_UTF8_PROBLEM, JsonStreamParser, JsonSyntaxError, type JsonStreamShape } from "./json-stream-parser.js";
import { splitLines, type Line } from "./line-splitter.js";
import { TextPositionTracker } from "./text-position.js";
import { findInvalidUtf8 } from "./utf8.js";

export { InputFormatError } from "./input-error.js";

export type InputFormat = "json" | "jsonl";

/** One item as it stands in the input, before validation. */
export interface RawInputItem {
  /** 0-based position among the input's items (blank JSON Lines lines do not count). */
  index: number;
  value: unknown;
  /** 1-based line the item is on, for JSON Lines input. */
  line?: number;
}

export interface OpenInputOptions {
  /** `auto` (default) decides from the file extension and the first bytes; see {@link openInput}. */
  format?: "auto" | InputFormat;
}

export interface InputReader extends AsyncIterable<RawInputItem> {
  /** The source as given (`-` for stdin). */
  readonly source: string;
  /** The source as messages name it (`<stdin>` for `-`). */
  readonly displayName: string;
  /** Bytes parsed so far, BOM included; compare with `totalBytes` for progress. */
  readonly bytesRead: number;
  /** The file's size; undefined for stdin and pipes. */
  readonly totalBytes: number | undefined;
  /** Items parsed so far (read ahead of the analysis); with `bytesRead` it estimates the item total. */
  readonly itemsRead: number;
  /** True once the whole input has been parsed: `itemsRead` is then the exact item total. */
  readonly finished: boolean;
  /**
   * The layout, once known: at once for regular files and explicit formats, otherwise after
   * iteration has looked at the first bytes. Stays undefined if the input turns out invalid.
   */
  readonly format: InputFormat | undefined;
}

const CHUNK_BYTES = 64 * 1024;
/** Strict like the JSON path (the streaming parser refuses malformed UTF-8 too). */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const JSON_LINES_EXTENSIONS = new Set([".jsonl", ".ndjson"]);

/**
 * Opens news items for streaming: `source` is a file path or `-` for stdin. Nothing is held
 * beyond the item being parsed, so multi-GB inputs read in constant memory.
 *
 * Layout rules (`format: "auto"`):
 * - a `.jsonl` / `.ndjson` extension means JSON Lines: one item per line; blank lines are skipped;
 * - otherwise the first non-blank byte decides: `[` is a JSON array whose elements are the items;
 *   `{` followed by more on its line is JSON Lines; `{` alone on its line is pretty-printed JSON,
 *   read as one or more top-level objects, each an item (so a single pretty object is one item);
 * - an empty (or all-blank) input is zero items of JSON Lines, as `cat /dev/null |` expects,
 *   except for a `.json` file, where emptiness most likely means a scrape that never finished, and
 *   is an error.
 * `format: "json"` reads `[...]` as an array and anything starting with `{` as top-level objects,
 * and rejects empty input; `format: "jsonl"` reads lines whatever the first byte.
 * A UTF-8 BOM is skipped; CRLF line endings are accepted; UTF-16 is rejected with a hint.
 *
 * Throws {@link InputFormatError} (with `code`) here when a file cannot be opened, and during
 * iteration for syntax errors, after yielding every item that came before the error.
 */
export function openInput(source: string, options: OpenInputOptions = {}): InputReader {
  return new StreamingInputReader(source, options.format ?? "auto");
}

type Plan = { read: "json"; shape: JsonStreamShape } | { read: "jsonl" } | { read: "nothing" };

class StreamingInputReader implements InputReader {
  readonly displayName: string;
  readonly totalBytes: number | undefined;
  private consumed = 0;
  private knownFormat: InputFormat | undefined;
  private started = false;

  constructor(
    readonly source: string,
    private readonly requested: "auto" | InputFormat,
  ) {
    this.displayName = displayNameOf(source);
    if (requested !== "auto") this.knownFormat = requested;
    else if (this.linesForSure()) this.knownFormat = "jsonl";
    if (source === "-") return;
    const stats = statInput(source, this.displayName);
    if (stats.isDirectory()) {
      throw new InputFormatError(this.displayName, "is a directory, not a file of news items", undefined, {
        code: "EISDIR",
      });
    }
    // Only a regular file has a size and can be peeked at without consuming it (a FIFO cannot).
    if (stats.isFile()) {
      this.totalBytes = stats.size;
      this.knownFormat ??= this.peekFormat();
    }
  }

  get bytesRead(): number {
    return this.consumed;
  }

  get format(): InputFormat | undefined {
    return this.knownFormat;
  }

  itemsRead = 0;
  finished = false;

  [Symbol.asyncIterator](): AsyncIterator<RawInputItem> {
    if (this.started) throw new Error(`${this.displayName}: an input can be iterated only once`);
    this.started = true;
    return this.counted();
  }

  private async *counted(): AsyncGenerator<RawInputItem> {
    for await (const item of this.readItems()) {
      this.itemsRead++;
      yield item;
    }
    this.finished = true;
  }

  private async *readItems(): AsyncGenerator<RawInputItem> {
    const chunks = this.openChunks()[Symbol.asyncIterator]();
    try {
      const { head, ended } = await readHead(chunks, this.linesForSure());
      if (hasUtf16Bom(head)) {
        throw new InputFormatError(this.displayName, "is UTF-16 encoded; convert it to UTF-8 (e.g. with iconv)");
      }
      const bomLength = utf8BomLength(head);
      const plan = this.plan(head.subarray(bomLength), ended, bomLength);
      this.knownFormat = plan.read === "json" ? "json" : "jsonl";
      const body = replayThenRest(head.subarray(bomLength), ended ? undefined : chunks);
      this.consumed = bomLength;
      if (plan.read === "json") yield* this.readJson(body, plan.shape, bomLength);
      else if (plan.read === "jsonl") yield* this.readJsonLines(body, bomLength);
      else this.consumed = head.length;
    } finally {
      // Stops the file stream (or stdin) when the consumer leaves early.
      await chunks.return?.();
    }
  }

  private plan(afterBom: Uint8Array, ended: boolean, bomLength: number): Plan {
    if (this.linesForSure()) return { read: "jsonl" };
    // readHead stops only once the sniffer can decide or the input ended, so this is defined.
    const sniffed = sniffLayout(afterBom, ended) as SniffedLayout;
    return this.planFor(sniffed, afterBom, bomLength);
  }

  /** JSON Lines by request or by extension: no sniffing needed. */
  private linesForSure(): boolean {
    if (this.requested === "jsonl") return true;
    return this.requested === "auto" && JSON_LINES_EXTENSIONS.has(path.extname(this.source).toLowerCase());
  }

  private planFor(sniffed: SniffedLayout, afterBom: Uint8Array, bomLength: number): Plan {
    const wantsJson = this.requested === "json";
    switch (sniffed.layout) {
      case "json-array":
        return { read: "json", shape: "array-elements" };
      case "json-values":
        return { read: "json", shape: "top-level-values" };
      case "jsonl":
        return wantsJson ? { read: "json", shape: "top-level-values" } : { read: "jsonl" };
      case "empty":
        if (wantsJson || (this.requested === "auto" && path.extname(this.source).toLowerCase() === ".json")) {
          throw new InputFormatError(this.displayName, "is empty (expected a JSON array of news items)");
        }
        return { read: "nothing" };
      case "unexpected": {
        const tracker = new TextPositionTracker();
        tracker.push(afterBom);
        const { line, column } = tracker.positionOf(sniffed.offset);
        const shown = JSON.stringify(new TextDecoder().decode(afterBom.subarray(sniffed.offset, sniffed.offset + 1)));
        const expected = wantsJson ? 'expected a JSON array "[" or object "{"' : 'expected a JSON array "[" or JSON Lines "{"';
        throw new InputFormatError(this.displayName, `unexpected ${shown} (${expected})`, {
          line,
          column,
          offset: bomLength + sniffed.offset,
        });
      }
    }
  }

  /** Decides the format of a regular file from its first bytes, without consuming the stream. */
  private peekFormat(): InputFormat | undefined {
    const prefix = Buffer.alloc(CHUNK_BYTES);
    let length = 0;
    const fd = fs.openSync(this.source, "r");
    try {
      length = fs.readSync(fd, prefix, 0, prefix.length, 0);
    } finally {
      fs.closeSync(fd);
    }
    const head = prefix.subarray(0, length);
    if (hasUtf16Bom(head)) return undefined;
    const bomLength = utf8BomLength(head);
    const sniffed = sniffLayout(head.subarray(bomLength), length < prefix.length);
    if (sniffed === undefined) return undefined;
    try {
      const plan = this.planFor(sniffed, head.subarray(bomLength), bomLength);
      return plan.read === "json" ? "json" : "jsonl";
    } catch {
      // Reported with full detail when iteration starts, after any items (there are none).
      return undefined;
    }
  }

  private async *readJson(body: AsyncIterable<Uint8Array>, shape: JsonStreamShape, bomLength: number): AsyncGenerator<RawInputItem> {
    const parser = new JsonStreamParser(shape, bomLength);
    const parsed: unknown[] = [];
    const collect = (value: unknown) => parsed.push(value);
    let index = 0;
    for await (const chunk of body) {
      let failure: unknown;
      try {
        parser.write(chunk, collect);
      } catch (error) {
        failure = error;
      }
      this.consumed += chunk.length;
      // Items completed before a syntax error are still handed out: the run keeps what it did.
      for (let i = 0; i < parsed.length; i += 1) {
        const value = parsed[i];
        parsed[i] = undefined;
        yield { index: index++, value };
      }
      parsed.length = 0;
      if (failure !== undefined) throw this.toInputError(failure);
    }
    let failure: unknown;
    try {
      parser.end(collect);
    } catch (error) {
      failure = error;
    }
    for (const value of parsed) yield { index: index++, value };
    if (failure !== undefined) throw this.toInputError(failure);
  }

  private async *readJsonLines(body: AsyncIterable<Uint8Array>, bomLength: number): AsyncGenerator<RawInputItem> {
    let index = 0;
    const lines = splitLines(body, bomLength, (offset) => {
      this.consumed = offset;
    });
    for await (const line of lines) {
      if (isBlank(line.bytes)) continue;
      yield { index: index++, value: this.parseLine(line), line: line.number };
    }
  }

  private parseLine(line: Line): unknown {
    let text: string;
    try {
      text = strictUtf8.decode(line.bytes);
    } catch {
      const at = Math.max(0, findInvalidUtf8(line.bytes));
      const tracker = new TextPositionTracker();
      tracker.push(line.bytes);
      throw new InputFormatError(this.displayName, INVALID_UTF8_PROBLEM, {
        line: line.number,
        column: tracker.positionOf(at).column,
        offset: line.offset + at,
      });
    }
    try {
      // The native parser is several times faster than the streaming one; lines are small.
      return JSON.parse(text);
    } catch (nativeError) {
      throw this.locateLineError(line, nativeError);
    }
  }

  /** Re-reads a bad line with the streaming parser, whose errors say where and what. */
  private locateLineError(line: Line, nativeError: unknown): InputFormatError {
    const parser = new JsonStreamParser("single-value", line.offset, "line");
    const ignore = () => {};
    try {
      parser.write(line.bytes, ignore);
      parser.end(ignore);
    } catch (error) {
      if (error instanceof JsonSyntaxError) {
        return new InputFormatError(this.displayName, error.problem, {
          line: line.number,
          column: error.position.column,
          offset: error.offset,
        });
      }
    }
    // The two parsers disagree (should not happen): keep the native message, minus the echoed line.
    const native = nativeError instanceof Error ? nativeError.message.replace(/, ".*" is not valid JSON$/s, "") : String(nativeError);
    return new InputFormatError(this.displayName, `invalid JSON: ${native}`, {
      line: line.number,
      column: 1,
      offset: line.offset,
    });
  }

  private toInputError(error: unknown): unknown {
    if (!(error instanceof JsonSyntaxError)) return error;
    return new InputFormatError(this.displayName, error.problem, {
      line: error.position.line,
      column: error.position.column,
      offset: error.offset,
    });
  }

  private openChunks(): AsyncIterable<Uint8Array> {
    const stream = this.source === "-" ? process.stdin : fs.createReadStream(this.source, { highWaterMark: CHUNK_BYTES });
    return mapReadErrors(stream, this.displayName);
  }
}

async function* mapReadErrors(stream: AsyncIterable<unknown>, displayName: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) {
      yield typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Uint8Array);
    }
  } catch (error) {
    throw readError(displayName, error);
  }
}

/** Reads chunks until the layout can be decided: the BOM (3 bytes) and the first meaningful bytes. */
async function readHead(
  chunks: AsyncIterator<Uint8Array>,
  linesForSure: boolean,
): Promise<{ head: Buffer; ended: boolean }> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const next = await chunks.next();
    if (next.done) return { head: Buffer.concat(parts), ended: true };
    parts.push(next.value);
    length += next.value.length;
    if (length < 3) continue;
    const head = Buffer.concat(parts);
    if (linesForSure || hasUtf16Bom(head)) return { head, ended: false };
    if (sniffLayout(head.subarray(utf8BomLength(head)), false) !== undefined) return { head, ended: false };
    parts.length = 0;
    parts.push(head);
  }
}

async function* replayThenRest(head: Uint8Array, rest: AsyncIterator<Uint8Array> | undefined): AsyncGenerator<Uint8Array> {
  if (head.length > 0) yield head;
  if (!rest) return;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

function isBlank(bytes: Buffer): boolean {
  for (const byte of bytes) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  }
  return true;
}

function statInput(source: string, displayName: string): fs.Stats {
  try {
    return fs.statSync(source);
  } catch (error) {
    throw readError(displayName, error);
  }
}

function readError(displayName: string, error: unknown): unknown {
  if (error instanceof InputFormatError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== "string") return error;
  const reasons: Record<string, string> = {
    ENOENT: "no such file",
    EACCES: "permission denied",
    EISDIR: "is a directory, not a file of news items",
  };
  const reason = reasons[code] ?? (error as Error).message;
  return new InputFormatError(displayName, `cannot read the input: ${reason} (${code})`, undefined, {
    code,
    cause: error,
  });
}
