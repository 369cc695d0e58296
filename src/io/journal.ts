import * as fs from "node:fs";
import * as path from "node:path";
import {
  emptyScan,
  JOURNAL_FORMAT_VERSION,
  readJournalEntries,
  type JournalHeader,
} from "./journal-reader.js";
import { fingerprintFile, fingerprintItem, type InputFingerprint } from "./input-fingerprint.js";
import { openInput } from "./input-reader.js";
import { inPublishedOrder, recordHasErrors, type AnalysisRecord } from "./output-record.js";
import { OutputWriteError, syncDirectoryOf, writeRecordsAtomically, type OutputFormat } from "./output-writer.js";

export { JournalCorruptError, type JournalHeader } from "./journal-reader.js";

/**
 * The crash-safety log of a run, kept next to the output as `<output>.journal`.
 *
 * Each finished item is appended as one line with a single synchronous write(2) the moment it
 * completes. Once that call returns the line is in the kernel's page cache, so killing the
 * process (even kill -9) cannot lose it; only a power loss or kernel crash can, and fdatasync
 * bounds that window to at most SYNC_EVERY_RECORDS records or SYNC_INTERVAL_MS. A write cut off
 * by a power loss leaves a torn last line, which resuming detects and truncates away.
 */
const SYNC_EVERY_RECORDS = 64;
const SYNC_INTERVAL_MS = 1000;

/** The journal path for an output file. */
export function journalPathFor(outputPath: string): string {
  return `${outputPath}.journal`;
}

export interface JournalOpenOptions {
  /** Continue an interrupted run: load what it finished. Without a journal, starts a fresh one. */
  resume: boolean;
  /** The run's input as the user named it (a path, or "-"). Stored, and checked on resume. */
  input: string;
  /** Without `resume`, discard an existing journal instead of refusing. */
  overwrite?: boolean;
}

/** A journal of an interrupted run exists and the caller asked neither to resume nor to overwrite it. */
export class JournalExistsError extends Error {
  constructor(
    readonly file: string,
    readonly finishedItems: number,
  ) {
    super(
      `${file} holds ${finishedItems} finished item${finishedItems === 1 ? "" : "s"} from an interrupted run; ` +
        "resume that run or overwrite it to start over",
    );
    this.name = "JournalExistsError";
  }
}

/** Resuming with another input than the journal's run would mix two runs' results. */
export class JournalInputMismatchError extends Error {
  constructor(
    readonly file: string,
    readonly journalInput: string,
    readonly requestedInput: string,
  ) {
    super(
      `${file} belongs to a run on ${journalInput}, not ${requestedInput}; ` +
        "resume with the same input, or overwrite the journal to start over",
    );
    this.name = "JournalInputMismatchError";
  }
}

/**
 * The input file has changed since the journal's run started (other size or other bytes): resuming
 * would mix records of the old content with items of the new one.
 */
export class JournalInputChangedError extends Error {
  constructor(
    readonly file: string,
    readonly input: string,
    /** Which finished item no longer matches, in words (`item 3 (id "x") is not the one analysed`). */
    readonly detail: string,
  ) {
    super(`${input} has changed since the run that ${file} belongs to started: ${detail}; resuming would mix old and new items`);
    this.name = "JournalInputChangedError";
  }
}

/** The key of id-less records journaled without their index: matched by order instead. */
const IDLESS_IN_ORDER = "idless-in-order";

/**
 * Identifies an item for resuming: by id, or by position for items without a usable id.
 * Distinct prefixes, so that an id that happens to read "#5" never matches position 5.
 */
function resumeKey(id: string | null, index: number | null): string {
  if (id !== null) return `id:${id}`;
  return index === null ? IDLESS_IN_ORDER : `#${index}`;
}

export class Journal {
  private fd: number | undefined;
  private appended = 0;
  private unsynced = 0;
  private lastSyncAt = Date.now();
  private syncTimer: NodeJS.Timeout | undefined;

  private constructor(
    /** The journal file. */
    readonly path: string,
    fd: number,
    readonly header: JournalHeader,
    /** How many more times each key is to be skipped: a multiset, since ids may repeat. */
    private readonly toSkip: Map<string, number>,
    /** Records found in the journal when it was opened for resuming. */
    readonly resumedCount: number,
  ) {
    this.fd = fd;
  }

  /**
   * Opens the journal at `journalPath` (see {@link journalPathFor}).
   * - `resume: false`: creates a fresh journal. An existing one that holds finished items throws
   *   {@link JournalExistsError} unless `overwrite`; one without items is simply replaced.
   * - `resume: true`: loads an existing journal, truncating a torn last line; corrupt lines
   *   elsewhere throw JournalCorruptError naming the line; another input throws
   *   {@link JournalInputMismatchError}. Without a journal to resume, starts a fresh one
   *   (`resumedCount` is 0).
   */
  static async open(journalPath: string, options: JournalOpenOptions): Promise<Journal> {
    const exists = fs.existsSync(journalPath);
    // The input's identity, read before any work: what the journal stores, and checks on resume.
    const fingerprint = options.input === "-" ? null : await fingerprintOrNull(options.input);
    if (exists && options.resume) {
      const resumed = await Journal.resume(journalPath, options.input, fingerprint);
      if (resumed) return resumed;
    } else if (exists && !options.overwrite) {
      const finished = await countFinishedItems(journalPath);
      if (finished > 0) throw new JournalExistsError(journalPath, finished);
    }
    return Journal.create(journalPath, options.input, fingerprint);
  }

  private static async resume(journalPath: string, input: string, fingerprint: InputFingerprint | null): Promise<Journal | undefined> {
    const scan = emptyScan();
    const toSkip = new Map<string, number>();
    for await (const entry of readJournalEntries(journalPath, scan)) {
      const key = resumeKey(entry.record.id, entry.index);
      toSkip.set(key, (toSkip.get(key) ?? 0) + 1);
    }
    // Empty, or killed while writing the header: nothing was finished, start afresh.
    if (!scan.header) return undefined;
    const requested = describeInput(input);
    if (scan.header.input !== requested) {
      throw new JournalInputMismatchError(journalPath, scan.header.input, requested);
    }
    if (fingerprint) {
      const sameBytes = scan.header.inputSha256 === fingerprint.sha256 && scan.header.inputBytes === fingerprint.bytes;
      // Other bytes: resuming is still right if every finished item is unchanged (a malformed file
      // fixed after the items before the error); otherwise it would mix two inputs.
      if (!sameBytes) await verifyJournaledItems(journalPath, input, requested);
    }
    if (scan.tornTail) fs.truncateSync(journalPath, scan.completeBytes);
    const fd = openForAppend(journalPath);
    if (scan.missingFinalNewline) writeFully(fd, "\n");
    fs.fdatasyncSync(fd);
    return new Journal(journalPath, fd, scan.header, toSkip, scan.entries);
  }

  private static create(journalPath: string, input: string, fingerprint: InputFingerprint | null): Journal {
    const header: JournalHeader = {
      newsMoeJournal: JOURNAL_FORMAT_VERSION,
      input: describeInput(input),
      inputBytes: fingerprint?.bytes ?? null,
      inputSha256: fingerprint?.sha256 ?? null,
      startedAt: new Date().toISOString(),
      pid: process.pid,
    };
    let fd: number;
    try {
      fd = fs.openSync(journalPath, "w");
    } catch (error) {
      throw new OutputWriteError(journalPath, `cannot create the journal: ${describeFsError(error)}`, { cause: error });
    }
    writeFully(fd, `${JSON.stringify(header)}\n`);
    fs.fdatasyncSync(fd);
    return new Journal(journalPath, fd, header, new Map(), 0);
  }

  /** Records in the journal: those found when resuming plus those appended since. */
  get count(): number {
    return this.resumedCount + this.appended;
  }

  /**
   * A predicate telling, for each input item in input order, whether it is already journaled and
   * is to be skipped. Items are matched by id, or by index when they have no usable id (pass the
   * same id the record will carry: the validated id, or the one salvaged from an invalid item).
   * Ids that occur several times are counted: if "x" was journaled twice, its first two
   * occurrences are skipped. Each call consumes a match, so use one predicate per run, calling it
   * once per item; its memory shrinks to nothing as the journaled items are met.
   */
  resumeFilter(): (item: { index: number; id: string | null }) => boolean {
    return ({ index, id }) => {
      if (this.toSkip.size === 0) return false;
      if (this.consume(resumeKey(id, index))) return true;
      return id === null && this.consume(IDLESS_IN_ORDER);
    };
  }

  private consume(key: string): boolean {
    const remaining = this.toSkip.get(key);
    if (remaining === undefined) return false;
    if (remaining === 1) this.toSkip.delete(key);
    else this.toSkip.set(key, remaining - 1);
    return true;
  }

  /**
   * Appends a finished item. Synchronous on purpose: when it returns, the record survives the
   * process being killed.
   *
   * `index` is the item's 0-based position in the input. Records with an id do not need it. An
   * id-less record journaled without it is matched on resume to the first id-less input item not
   * yet matched, which is right when records are appended in input order (as the orchestrator
   * emits them); pass the index whenever it is at hand to be right in any order.
   */
  append(record: AnalysisRecord, index?: number, item?: string): void {
    if (this.fd === undefined) throw new Error(`${this.path}: the journal is closed`);
    const entry = { index: index ?? null, ...(item !== undefined ? { item } : {}), record: inPublishedOrder(record) };
    try {
      // A full disk can leave part of the line: a torn tail, which a resume skips and cuts off.
      writeFully(this.fd, `${JSON.stringify(entry)}\n`);
    } catch (error) {
      throw new OutputWriteError(this.path, `cannot add to the journal: ${describeFsError(error)}`, { cause: error });
    }
    this.appended += 1;
    this.unsynced += 1;
    if (this.unsynced >= SYNC_EVERY_RECORDS || Date.now() - this.lastSyncAt >= SYNC_INTERVAL_MS) {
      this.sync();
    } else if (this.syncTimer === undefined) {
      // Items can be slow (long summaries); do not leave the last ones unsynced until the next.
      this.syncTimer = setTimeout(() => {
        try {
          this.sync();
        } catch {
          // Still unsynced: the next append or the close syncs again and reports the failure to the run.
        }
      }, SYNC_INTERVAL_MS);
      this.syncTimer.unref();
    }
  }

  /** Closes and deletes the journal: its run is complete and delivered. */
  async discard(): Promise<void> {
    this.close();
    await fs.promises.rm(this.path, { force: true });
    await syncDirectoryOf(this.path);
  }

  /** Syncs and closes the file. Idempotent. */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    try {
      this.sync();
    } finally {
      fs.closeSync(fd);
      this.fd = undefined;
    }
  }

  private sync(): void {
    if (this.syncTimer !== undefined) clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    if (this.fd === undefined || this.unsynced === 0) return;
    try {
      fs.fdatasyncSync(this.fd);
    } catch (error) {
      throw new OutputWriteError(this.path, `cannot sync the journal to disk: ${describeFsError(error)}`, { cause: error });
    }
    this.unsynced = 0;
    this.lastSyncAt = Date.now();
  }
}

export interface FinalizeSummary {
  /** Records written to the output. */
  records: number;
  /** Of those, records with an item error or an expert error. */
  failed: number;
}

/**
 * Writes the final output from a (closed) journal: each journaled record once, in journal order,
 * atomically (see the output writers), then deletes the journal.
 * On failure the journal is kept and the target left as it was, so the run can be finalized later.
 */
export async function finalizeFromJournal(journalPath: string, outputPath: string, format: OutputFormat): Promise<FinalizeSummary> {
  let failed = 0;
  async function* records(): AsyncGenerator<AnalysisRecord> {
    for await (const entry of readJournalEntries(journalPath)) {
      if (recordHasErrors(entry.record)) failed += 1;
      yield entry.record;
    }
  }
  const written = await writeRecordsAtomically(outputPath, records(), format);
  await fs.promises.rm(journalPath, { force: true });
  await syncDirectoryOf(journalPath);
  return { records: written, failed };
}

function describeInput(input: string): string {
  return input === "-" ? "-" : path.resolve(input);
}

/**
 * Checks that each journaled record's item is still at its place in the input, by the item
 * fingerprints journaled with them; throws {@link JournalInputChangedError} naming the first that
 * is not. Reads the input only as far as the last journaled position.
 */
async function verifyJournaledItems(journalPath: string, input: string, displayed: string): Promise<void> {
  const expected = new Map<number, { item: string; id: string | null }>();
  for await (const entry of readJournalEntries(journalPath)) {
    if (entry.index === null || entry.item === undefined) {
      // A journal of an earlier version, or a record without its position: nothing to compare by.
      throw new JournalInputChangedError(journalPath, displayed, "its size or bytes differ, and the journal cannot tell which items changed");
    }
    expected.set(entry.index, { item: entry.item, id: entry.record.id });
  }
  if (expected.size === 0) return;
  const last = Math.max(...expected.keys());
  const describe = (index: number) => {
    const id = expected.get(index)?.id;
    return `item ${index}${id !== null && id !== undefined ? ` (id ${JSON.stringify(id)})` : ""}`;
  };
  try {
    for await (const { index, value } of openInput(input)) {
      const wanted = expected.get(index);
      if (wanted && wanted.item !== fingerprintItem(value)) {
        throw new JournalInputChangedError(journalPath, displayed, `${describe(index)} is not the one that was analysed`);
      }
      if (index >= last) return;
    }
  } catch (error) {
    if (error instanceof JournalInputChangedError) throw error;
    throw new JournalInputChangedError(journalPath, displayed, `it cannot be read as far as ${describe(last)} (${(error as Error).message})`);
  }
  throw new JournalInputChangedError(journalPath, displayed, `it ends before ${describe(last)}`);
}

/** The input's fingerprint; null when it is not a regular file (a FIFO, /dev/stdin) and so cannot be read twice. */
async function fingerprintOrNull(file: string): Promise<InputFingerprint | null> {
  try {
    if (!fs.statSync(file).isFile()) return null;
  } catch {
    return null; // the input reader reports a missing input in its own words
  }
  return fingerprintFile(file);
}

/** A file system error in words: "permission denied (EACCES)". */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const words: Record<string, string> = {
    ENOENT: "no such file or folder",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "read-only file system",
    EISDIR: "is a directory",
    ENOTDIR: "a part of the path is not a folder",
    ENOSPC: "no space left on the device",
    EDQUOT: "disk quota exceeded",
    EFBIG: "file too large for this process's file-size limit",
  };
  return code && words[code] ? `${words[code]} (${code})` : (error as Error).message;
}

function openForAppend(journalPath: string): number {
  try {
    return fs.openSync(journalPath, "a");
  } catch (error) {
    throw new OutputWriteError(journalPath, `cannot open the journal: ${describeFsError(error)}`, { cause: error });
  }
}

/** write(2) may write less than asked (rarely, for files); loop so a line is never left half-written. */
function writeFully(fd: number, text: string): void {
  const bytes = Buffer.from(text, "utf8");
  let written = 0;
  while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
}

/** Finished items in a journal, counted from its complete lines, tolerating damage (only for messages). */
async function countFinishedItems(journalPath: string): Promise<number> {
  let newlines = 0;
  for await (const chunk of fs.createReadStream(journalPath) as AsyncIterable<Buffer>) {
    let at = chunk.indexOf(0x0a);
    while (at >= 0) {
      newlines += 1;
      at = chunk.indexOf(0x0a, at + 1);
    }
  }
  // The first line is the header.
  return Math.max(0, newlines - 1);
}
