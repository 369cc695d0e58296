import type { AnalysisRecord } from "../core/analysis-record.js";
import { AsyncQueue } from "../core/concurrency.js";
import type { RunStats } from "../core/orchestrator.js";
import type { Sink } from "../core/sink.js";
import { run, RunAbortedError, type RunInput, type RunOptions, type RunSummary } from "./run.js";

export interface AnalyzeOptions extends Omit<RunOptions, "input"> {
  /** Receives the run's statistics when the stream ends. */
  onStats?: (stats: RunStats) => void;
  /** Receives the whole run summary when the stream ends. */
  onSummary?: (summary: RunSummary) => void;
}

/**
 * Analyses news items as a stream: records come out in input order while later items are still
 * being read, so any input size runs in bounded memory (the run waits while the consumer is busy).
 * `input` is a file path (JSON array or JSON Lines, `-` for stdin) or any (async) iterable of raw
 * items, which are validated here. This is `run()` with the caller as one more sink: with a
 * `journal`, a resumed run yields the interrupted run's records first, so the stream is the whole
 * output. Stopping early (`break`) stops the run, and keeps its journal.
 */
export async function* analyzeStream(input: RunInput, options: AnalyzeOptions = {}): AsyncGenerator<AnalysisRecord> {
  const queue = new AsyncQueue<AnalysisRecord>();
  const taken: Array<(more: boolean) => void> = [];
  let consumerGone = false;
  const channel: Sink = {
    name: "analyzeStream",
    write(record) {
      if (consumerGone) return false;
      queue.push(record);
      return new Promise<boolean>((resolve) => taken.push(resolve));
    },
    async close() {},
  };
  // A library caller who listens to nothing still hears about an expert that could not load.
  const quietByDefault = options.onNotice === undefined && options.onEvent === undefined;
  const finished = run({
    ...options,
    ...(quietByDefault ? { onNotice: (message: string) => void process.stderr.write(`news-moe: ${message}\n`) } : {}),
    input,
    sinks: [...(options.sinks ?? []), channel],
  }).then(
    (summary) => {
      options.onStats?.(summary.stats);
      options.onSummary?.(summary);
      queue.close();
    },
    (error: unknown) => {
      // A stopped run still reports what it did, with `aborted: true`; the error follows.
      if (error instanceof RunAbortedError && error.summary) {
        options.onStats?.(error.summary.stats);
        options.onSummary?.(error.summary);
      }
      queue.fail(error);
    },
  );
  try {
    for await (const record of queue) {
      yield record;
      taken.shift()?.(true);
    }
  } finally {
    consumerGone = true;
    for (const resolve of taken.splice(0)) resolve(false);
    await finished;
  }
}

/** Analyses every item and returns the records in input order. For large inputs prefer `analyzeStream`. */
export async function analyze(input: RunInput, options: AnalyzeOptions = {}): Promise<AnalysisRecord[]> {
  const records: AnalysisRecord[] = [];
  for await (const record of analyzeStream(input, options)) records.push(record);
  return records;
}
