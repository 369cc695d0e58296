import * as fs from "node:fs";
import * as path from "node:path";
import type { Writable } from "node:stream";
import { recordToJsonLine, recordToPrettyArrayElement, type AnalysisRecord } from "./output-record.js";

export type OutputFormat = "json" | "jsonl";

/** Writing the output failed; the message names the file. The previous target, if any, is intact. */
export class OutputWriteError extends Error {
  constructor(
    readonly file: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options);
    this.name = "OutputWriteError";
  }
}

/**
 * Checks, before any work, that `targetPath` can become an output file: not a directory, in a
 * folder that exists and that this process may write to (the temporary file and the rename happen
 * there; a read-only file system counts). Every command that writes a file calls it before it
 * starts, so a run of hours never ends in "cannot write". Throws {@link OutputWriteError} saying
 * what is wrong; `what` names the content in the message (default "the results").
 */
export async function checkOutputTarget(targetPath: string, what = "the results"): Promise<void> {
  const target = await fs.promises.stat(targetPath).catch(() => undefined);
  if (target?.isDirectory()) throw new OutputWriteError(targetPath, `is a directory; name a file to write ${what} to`);
  const folder = path.dirname(path.resolve(targetPath));
  const parent = await fs.promises.stat(folder).catch((error: NodeJS.ErrnoException) => error);
  if (parent instanceof Error) {
    // Only a folder that is not there is "does not exist"; one this user may not reach says so.
    if (parent.code === "ENOENT" || parent.code === "ENOTDIR") throw new OutputWriteError(targetPath, `cannot write here: the folder ${folder} does not exist`);
    throw new OutputWriteError(targetPath, `cannot write ${what} here: ${reasonOf(parent)} on ${folder}`, { cause: parent });
  }
  if (!parent.isDirectory()) throw new OutputWriteError(targetPath, `cannot write here: ${folder} is not a folder`);
  try {
    await fs.promises.access(folder, fs.constants.W_OK);
  } catch (error) {
    throw new OutputWriteError(targetPath, `cannot write ${what} here: ${reasonOf(error)} on ${folder}`, { cause: error });
  }
}

/** Strings are gathered up to this size before each write(2): fewer syscalls, bounded memory. */
const WRITE_BUFFER_CHARS = 256 * 1024;

/** The temporary file a target is written to before the rename: next to it, so rename is atomic. */
export function temporaryPathFor(targetPath: string): string {
  return `${targetPath}.tmp-${process.pid}`;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temporary files of `targetPath` left by writers that were killed (`kill -9` of a run
 * writing its output as it goes): those whose process is gone. Best effort.
 */
export async function removeStaleTemporaries(targetPath: string): Promise<void> {
  const directory = path.dirname(path.resolve(targetPath));
  const prefix = `${path.basename(targetPath)}.tmp-`;
  let names: string[];
  try {
    names = await fs.promises.readdir(directory);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || processIsAlive(pid)) continue;
    await fs.promises.rm(path.join(directory, name), { force: true });
  }
}

/**
 * Writes a file so that readers see either the old content or the complete new one, never a
 * prefix: the text goes to `<target>.tmp-<pid>`, is fsynced, then renamed over the target, and the
 * directory is fsynced so the rename itself survives a power loss. On any failure the temporary
 * file is removed and the target left as it was.
 */
class AtomicFileWriter {
  private readonly temporaryPath: string;
  private handle: fs.promises.FileHandle | undefined;
  private pending: string[] = [];
  private pendingChars = 0;

  private constructor(private readonly targetPath: string) {
    this.temporaryPath = temporaryPathFor(targetPath);
  }

  static async open(targetPath: string): Promise<AtomicFileWriter> {
    const writer = new AtomicFileWriter(targetPath);
    try {
      writer.handle = await fs.promises.open(writer.temporaryPath, "w");
    } catch (error) {
      throw new OutputWriteError(targetPath, `cannot create ${writer.temporaryPath}: ${reasonOf(error)}`, { cause: error });
    }
    return writer;
  }

  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= WRITE_BUFFER_CHARS) await this.flush();
  }

  async commit(): Promise<void> {
    const handle = this.handle as fs.promises.FileHandle;
    try {
      await this.flush();
      await handle.sync();
      await handle.close();
      this.handle = undefined;
      await fs.promises.rename(this.temporaryPath, this.targetPath);
    } catch (error) {
      await this.abort();
      throw new OutputWriteError(this.targetPath, `cannot write: ${reasonOf(error)}`, { cause: error });
    }
    await syncDirectoryOf(this.targetPath);
  }

  async abort(): Promise<void> {
    await this.handle?.close().catch(() => {});
    this.handle = undefined;
    // Best effort: in a folder that became read-only the temporary file stays, and the next run on
    // this output removes it (removeStaleTemporaries). The error that led here is the one to report.
    await fs.promises.rm(this.temporaryPath, { force: true }).catch(() => {});
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = this.pending.join("");
    this.pending = [];
    this.pendingChars = 0;
    try {
      await (this.handle as fs.promises.FileHandle).write(text);
    } catch (error) {
      throw new OutputWriteError(this.targetPath, `cannot write ${this.temporaryPath}: ${reasonOf(error)}`, { cause: error });
    }
  }
}

/** Makes a rename or unlink in the directory durable. Best effort: some filesystems refuse it. */
export async function syncDirectoryOf(filePath: string): Promise<void> {
  let directory: fs.promises.FileHandle | undefined;
  try {
    directory = await fs.promises.open(path.dirname(path.resolve(filePath)), "r");
    await directory.sync();
  } catch {
    // Not supported here (e.g. some network filesystems); the data itself was already synced.
  } finally {
    await directory?.close().catch(() => {});
  }
}

/** How records are laid out in a file: what goes around and between them. */
interface FileLayout {
  start: string;
  separator: string;
  end: string;
  /** The whole file when there are no records. */
  empty: string;
  element(record: AnalysisRecord): string;
}

const PRETTY_JSON_ARRAY: FileLayout = {
  start: "[\n",
  separator: ",\n",
  end: "\n]\n",
  empty: "[]\n",
  element: recordToPrettyArrayElement,
};

const JSON_LINES: FileLayout = {
  start: "",
  separator: "",
  end: "",
  empty: "",
  element: (record) => `${recordToJsonLine(record)}\n`,
};

/**
 * A records file being written atomically: records go to a temporary file next to the target as
 * they come, `commit()` makes the target appear complete, `abort()` leaves it as it was.
 */
export interface RecordFileWriter {
  write(record: AnalysisRecord): Promise<void>;
  /** Finishes the file and renames it into place; returns how many records it holds. */
  commit(): Promise<number>;
  abort(): Promise<void>;
}

/** Opens `targetPath` for records in `format` (see {@link writeRecordsAtomically} for the layouts). */
export async function openRecordFile(targetPath: string, format: OutputFormat): Promise<RecordFileWriter> {
  const layout = format === "json" ? PRETTY_JSON_ARRAY : JSON_LINES;
  const writer = await AtomicFileWriter.open(targetPath);
  let count = 0;
  return {
    async write(record) {
      await writer.write((count === 0 ? layout.start : layout.separator) + layout.element(record));
      count += 1;
    },
    async commit() {
      try {
        await writer.write(count === 0 ? layout.empty : layout.end);
      } catch (error) {
        await writer.abort();
        throw error;
      }
      await writer.commit();
      return count;
    },
    abort: () => writer.abort(),
  };
}

/**
 * Writes a whole text file atomically (a report, a gate, the routing statistics): readers see the
 * old file or the complete new one, and a failure (a full disk, a read-only folder) is an
 * {@link OutputWriteError} naming the file, with the target left as it was.
 */
export async function writeTextFileAtomically(targetPath: string, text: string): Promise<void> {
  const writer = await AtomicFileWriter.open(targetPath);
  try {
    await writer.write(text);
  } catch (error) {
    await writer.abort();
    throw error;
  }
  await writer.commit();
}

async function writeAtomically(targetPath: string, records: AsyncIterable<AnalysisRecord>, format: OutputFormat): Promise<number> {
  const file = await openRecordFile(targetPath, format);
  try {
    for await (const record of records) await file.write(record);
  } catch (error) {
    await file.abort();
    throw error;
  }
  return file.commit();
}

/**
 * Streams records into a pretty JSON array at `targetPath`, laid out like the tutorial's
 * `json.dump(results, f, indent=4, ensure_ascii=False)` (plus a final newline), atomically.
 * Holds one record at a time. Returns how many records were written. If `records` throws, the
 * error is rethrown and the target is untouched.
 */
export function writeJsonArrayAtomically(targetPath: string, records: AsyncIterable<AnalysisRecord>): Promise<number> {
  return writeAtomically(targetPath, records, "json");
}

/** Streams records into a JSON Lines file at `targetPath`, one compact record per line, atomically. */
export function writeJsonLinesAtomically(targetPath: string, records: AsyncIterable<AnalysisRecord>): Promise<number> {
  return writeAtomically(targetPath, records, "jsonl");
}

/** Either writer, by format. */
export function writeRecordsAtomically(
  targetPath: string,
  records: AsyncIterable<AnalysisRecord>,
  format: OutputFormat,
): Promise<number> {
  return format === "json" ? writeJsonArrayAtomically(targetPath, records) : writeJsonLinesAtomically(targetPath, records);
}

export interface StreamWriteResult {
  written: number;
  /** The reader went away (EPIPE, as in `news-moe ... -o - | head`); the caller should stop the run. */
  consumerClosed: boolean;
}

/** How a reader going away shows up: EPIPE on a pipe; writes after that find the stream destroyed. */
const READER_GONE = new Set(["EPIPE", "ERR_STREAM_DESTROYED"]);

interface StreamHealth {
  readerGone: boolean;
  failure: Error | undefined;
}

const watchedStreams = new WeakMap<Writable, StreamHealth>();

/**
 * Listens to a stream's errors once and for good. A write error arrives as an event after the
 * write returned, possibly after the caller is done with the stream; without a listener it would
 * be an uncaught exception with a stack trace, which is what `| head` must not produce.
 */
function healthOf(stream: Writable): StreamHealth {
  let health = watchedStreams.get(stream);
  if (health === undefined) {
    const watched: StreamHealth = { readerGone: false, failure: undefined };
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (READER_GONE.has(error.code ?? "")) watched.readerGone = true;
      else watched.failure ??= error;
    });
    watchedStreams.set(stream, watched);
    health = watched;
  }
  return health;
}

function roomOrEnd(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      stream.off("error", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
    stream.on("error", done);
  });
}

/**
 * Writes one record as a JSON line, waiting for the stream to drain when its buffer is full.
 * Resolves to false, without writing, once the reader has gone (EPIPE): the caller should stop
 * producing. Other stream errors are thrown (on this call or the next, as they arrive).
 */
export async function writeJsonlLine(stream: Writable, record: AnalysisRecord): Promise<boolean> {
  const health = healthOf(stream);
  if (health.failure) throw health.failure;
  if (health.readerGone || stream.destroyed) return false;
  if (!stream.write(`${recordToJsonLine(record)}\n`)) await roomOrEnd(stream);
  if (health.failure) throw health.failure;
  return !health.readerGone;
}

/**
 * Streams records as JSON Lines to a writable stream, honouring backpressure. A closed pipe
 * (EPIPE) is not an error: it ends the writing quietly with `consumerClosed: true`, so that
 * `| head` does not produce a stack trace. Other stream errors are thrown.
 */
export async function writeJsonLinesToStream(
  stream: Writable,
  records: AsyncIterable<AnalysisRecord>,
): Promise<StreamWriteResult> {
  let written = 0;
  for await (const record of records) {
    if (!(await writeJsonlLine(stream, record))) {
      // The record may or may not have reached the reader; it is not counted as written.
      return { written, consumerClosed: true };
    }
    written += 1;
  }
  return { written, consumerClosed: false };
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EACCES" || code === "EPERM") return `permission denied (${code})`;
  if (code === "EROFS") return "read-only file system (EROFS)";
  if (code === "ENOSPC") return "no space left on the device (ENOSPC)";
  if (code === "EDQUOT") return "disk quota exceeded (EDQUOT)";
  if (code === "EFBIG") return "file too large for this process's file-size limit (EFBIG)";
  return error instanceof Error ? error.message : String(error);
}
