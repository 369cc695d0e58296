import type { AnalysisRecord } from "../core/analysis-record.js";
import type { Sink, SinkWrite } from "../core/sink.js";
import { Journal } from "../io/journal.js";
import { readJournalEntries } from "../io/journal-reader.js";

export interface JournalSinkOptions {
  /** Continue the run the journal belongs to; without a journal, start one. */
  resume?: boolean;
  /** Without `resume`, replace a journal holding finished items instead of refusing (JournalExistsError). */
  overwrite?: boolean;
  /** The run's input as the user named it (a path, or "-"); stored, and checked on resume. */
  input: string;
  /** The fingerprint of the input item at a position, journaled with its record (io/input-fingerprint.ts). */
  itemFingerprint?: (index: number) => string | undefined;
}

/**
 * The crash-safety sink: every record is appended to the journal file with one synchronous write
 * the moment it is finished, so a `kill -9` loses nothing finished. The engine writes here before
 * any other sink, asks it which items to skip when resuming and which records to replay, and
 * closes it last: a run that completes deletes its journal, one that does not keeps it.
 */
export class JournalSink implements Sink {
  readonly name: string;
  #journal: Journal | undefined;

  constructor(
    readonly path: string,
    readonly options: JournalSinkOptions,
  ) {
    this.name = `journal ${path}`;
  }

  async open(): Promise<void> {
    this.#journal ??= await Journal.open(this.path, {
      resume: this.options.resume ?? false,
      overwrite: this.options.overwrite ?? false,
      input: this.options.input,
    });
  }

  /** Records finished by the interrupted run being resumed (0 for a fresh run). */
  get resumed(): number {
    return this.#journal?.resumedCount ?? 0;
  }

  /** Records in the journal, resumed and new. */
  get count(): number {
    return this.#journal?.count ?? 0;
  }

  /** Tells, item by item in input order, whether the resumed run already finished it. */
  resumeFilter(): ((item: { index: number; id: string | null }) => boolean) | undefined {
    return this.resumed > 0 ? this.#journal?.resumeFilter() : undefined;
  }

  /** The resumed run's records, in the order they were finished. */
  async *replay(): AsyncGenerator<{ record: AnalysisRecord; index: number | null }> {
    if (this.resumed === 0) return;
    let left = this.resumed;
    for await (const entry of readJournalEntries(this.path)) {
      if (left-- <= 0) return;
      yield { record: entry.record, index: entry.index };
    }
  }

  write(record: AnalysisRecord, info: SinkWrite): void {
    if (info.replayed) return;
    if (!this.#journal) throw new Error(`${this.path}: the journal is not open`);
    const item = info.index !== null ? this.options.itemFingerprint?.(info.index) : undefined;
    this.#journal.append(record, info.index ?? undefined, item);
  }

  /** The run is complete and every other sink has its records: the journal goes. */
  async close(): Promise<void> {
    await this.#journal?.discard();
  }

  /** The run stopped short: the journal stays, synced, for a resume. */
  async abort(): Promise<void> {
    this.#journal?.close();
  }
}
