import { setTimeout as sleep } from "node:timers/promises";
import type { AnalysisRecord } from "../core/analysis-record.js";
import type { Sink } from "../core/sink.js";
import type { RunStore } from "./run-store.js";

export interface CollectResult {
  /** Records written: one per input item that has one, in input order. */
  written: number;
  /** Items without a record yet (the run is still going). */
  missing: number;
  /** Written records with an item or expert error. */
  failed: number;
}

/**
 * Writes a run's records to `sink` (the same file and stream sinks `analyze` writes through), in
 * input order, one per position: the store holds one record per position whatever the number of
 * deliveries. Items not done yet are left out and counted.
 */
export async function collectRecords(
  store: RunStore,
  total: number,
  sink: Sink,
  isFailed: (r: AnalysisRecord) => boolean,
  signal?: AbortSignal,
): Promise<CollectResult> {
  const result: CollectResult = { written: 0, missing: 0, failed: 0 };
  try {
    await sink.open?.(signal ? { signal } : {});
    for await (const { position, line } of store.inOrder(total)) {
      // Stopped midway: the sink is aborted below, so a file output stays as it was.
      signal?.throwIfAborted();
      if (line === undefined) {
        result.missing++;
        continue;
      }
      const record = JSON.parse(line) as AnalysisRecord;
      if (isFailed(record)) result.failed++;
      if ((await sink.write(record, { index: position, replayed: false })) === false) break;
      result.written++;
    }
  } catch (error) {
    await sink.abort?.(error).catch(() => undefined);
    throw error;
  }
  await sink.close({ records: result.written });
  return result;
}

/** Resolves once every item of the run has a record; `onWait` hears how many are done meanwhile. */
export async function waitForCompletion(
  store: RunStore,
  total: number,
  options: { pollMs?: number; onWait?: (done: number) => void; signal?: AbortSignal } = {},
): Promise<void> {
  const pollMs = options.pollMs ?? 1000;
  for (;;) {
    const { done } = await store.counts();
    if (done >= total) return;
    options.onWait?.(done);
    options.signal?.throwIfAborted();
    await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : {});
  }
}
