import type { AnalysisRecord } from "./analysis-record.js";
import type { LoadContext } from "./expert.js";

/** How a record reaches a sink. */
export interface SinkWrite {
  /** The item's 0-based position in the input; null when a resumed journal did not record it. */
  index: number | null;
  /**
   * The item's place in the order this run took items from its input (0-based, every item counted);
   * absent for records replayed from a journal. With `recordOrder: "completion"` it is how a sink
   * tells which item a record belongs to.
   */
  sequence?: number;
  /**
   * True for records finished by an earlier, interrupted run and handed out again when resuming
   * (in the order they were finished, before any new record). A sink that delivered them before
   * the interruption (a queue, stdout) skips them; a sink that builds one complete output (a file)
   * takes them.
   */
  replayed: boolean;
}

/** What a sink's `close()` learns about the run it received. */
export interface SinkSummary {
  /** Records written to the sink, replayed ones included. */
  records: number;
}

/**
 * Where finished records go: a file, stdout, a database table, a queue, an HTTP response. The
 * engine hands every record to every sink in input order (replayed ones first on resume; a run
 * with `recordOrder: "completion"` hands them over as they finish), then
 * calls `close()` when the run finished, or `abort()` when it did not (interrupted, input error):
 * a sink that builds its output atomically throws away what it has in `abort()`.
 */
export interface Sink {
  readonly name: string;
  /** Opens the destination; called once before the first record. */
  open?(context: LoadContext): Promise<void>;
  /**
   * Takes one record. Returning `false` says the destination has gone away for good (the reader
   * of a pipe closed it): the run then stops quietly, as `news-moe ... | head` expects.
   */
  write(record: AnalysisRecord, info: SinkWrite): void | boolean | Promise<void | boolean>;
  /** The run finished: make the output complete and durable. */
  close(summary: SinkSummary): Promise<void>;
  /** The run did not finish; leave no half-made output behind. */
  abort?(error: unknown): Promise<void>;
}
