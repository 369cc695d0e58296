import * as fs from "node:fs";
import { splitLines } from "./line-splitter.js";
import { looksLikeAnalysisRecord, type AnalysisRecord } from "./output-record.js";

/**
 * The journal file format, version 1: JSON Lines.
 * Line 1 is a {@link JournalHeader}; every further line is one finished item,
 * `{"index": <0-based input position, or null when the caller did not give it>, "record":
 * <AnalysisRecord>}`, written with a single write(2) as soon as the item completes.
 */
export const JOURNAL_FORMAT_VERSION = 1;

export interface JournalHeader {
  newsMoeJournal: typeof JOURNAL_FORMAT_VERSION;
  /** The input of the run: an absolute path, or "-" for stdin. Resuming checks it. */
  input: string;
  /** The input file's size when the run started (null for stdin). Resuming checks it. */
  inputBytes: number | null;
  /**
   * SHA-256 (hex) of the input file's bytes when the run started (null for stdin and other
   * streams, absent in journals of earlier versions). Resuming checks it: see io/input-fingerprint.ts.
   */
  inputSha256?: string | null;
  /** When the run that created the journal started (ISO 8601). */
  startedAt: string;
  /** The process that created it, to tell runs apart in logs. */
  pid: number;
}

export interface JournalEntry {
  index: number | null;
  /** Fingerprint of the input item the record belongs to (io/input-fingerprint.ts); absent in older journals. */
  item?: string;
  record: AnalysisRecord;
  /** 1-based line in the journal file. */
  line: number;
}

/** What reading a journal found besides its entries; filled in once reading has finished. */
export interface JournalScan {
  /** Undefined when the file is empty or holds only a torn header: nothing was journaled. */
  header: JournalHeader | undefined;
  entries: number;
  /** Length of the file's part made of complete lines; a torn tail lies beyond it. */
  completeBytes: number;
  /** The last line was cut off mid-write (kill -9, power loss) and is not an entry. */
  tornTail: boolean;
  /** The last line is complete but lacks its newline, which must be added before appending. */
  missingFinalNewline: boolean;
}

/** A line in the middle of a journal is not what news-moe writes: reading stops, nothing is guessed. */
export class JournalCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    problem: string,
  ) {
    super(`${file}:${line}: ${problem}; the journal is damaged (move it away to start over)`);
    this.name = "JournalCorruptError";
  }
}

export function isJournalHeader(value: unknown): value is JournalHeader {
  if (typeof value !== "object" || value === null) return false;
  const header = value as Record<string, unknown>;
  return header.newsMoeJournal === JOURNAL_FORMAT_VERSION && typeof header.input === "string";
}

function parseLine(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}

function isEntry(value: unknown): value is { index: number | null; record: AnalysisRecord } {
  if (typeof value !== "object" || value === null) return false;
  const entry = value as Record<string, unknown>;
  const indexOk = entry.index === null || (Number.isSafeInteger(entry.index) && (entry.index as number) >= 0);
  return indexOk && looksLikeAnalysisRecord(entry.record);
}

/**
 * Streams a journal's entries in file order. A last line without its newline that does not parse
 * is a torn write and is skipped (reported in `scan.tornTail`); any other bad line throws
 * {@link JournalCorruptError} with its line number. `scan` is filled in as reading goes and is
 * final once the iteration has finished.
 */
export async function* readJournalEntries(
  journalPath: string,
  scan: JournalScan = emptyScan(),
): AsyncGenerator<JournalEntry> {
  const stream = fs.createReadStream(journalPath, { highWaterMark: 64 * 1024 });
  for await (const line of splitLines(stream)) {
    if (line.number > 1 && line.bytes.length === 0 && line.terminated) {
      scan.completeBytes = line.end;
      continue;
    }
    const value = parseLine(line.bytes);
    const valid = line.number === 1 ? isJournalHeader(value) : isEntry(value);
    if (!valid) {
      if (!line.terminated && value === undefined) {
        scan.tornTail = true;
        return;
      }
      const what = line.number === 1 ? "not a news-moe journal header" : "not a journal entry";
      throw new JournalCorruptError(journalPath, line.number, value === undefined ? `${what} (invalid JSON)` : what);
    }
    scan.completeBytes = line.end;
    scan.missingFinalNewline = !line.terminated;
    if (line.number === 1) {
      scan.header = value as JournalHeader;
      continue;
    }
    scan.entries += 1;
    const entry = value as { index: number | null; item?: unknown; record: AnalysisRecord };
    yield {
      index: entry.index,
      ...(typeof entry.item === "string" ? { item: entry.item } : {}),
      record: entry.record,
      line: line.number,
    };
  }
}

export function emptyScan(): JournalScan {
  return { header: undefined, entries: 0, completeBytes: 0, tornTail: false, missingFinalNewline: false };
}
