import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { RunMeta, RunStore } from "./run-store.js";

export interface RunStatus {
  run: string;
  queue: string;
  input: string;
  total: number;
  done: number;
  /** Done items whose record has an item or expert error. */
  failed: number;
  missing: number;
  complete: boolean;
  /** Workers connected to the queue now (any run's). */
  workers: number;
  /** Items per second since a worker first took a job of this run (until the last record when complete); null before any. */
  rate: number | null;
  /** Seconds left at that rate; 0 when complete; null when unknown, and when no worker is on the queue (nothing moves). */
  etaSeconds: number | null;
}

/** Where a run stands, from what is stored: counts come from the records themselves. */
export async function runStatus(redis: Redis, store: RunStore, meta: RunMeta, now = Date.now()): Promise<RunStatus> {
  const { done, failed } = await store.counts();
  const queue = new Queue(meta.queue, { connection: redis });
  let workers: number;
  try {
    workers = await queue.getWorkersCount();
  } finally {
    await queue.close();
  }
  const complete = done >= meta.total;
  const end = complete && meta.lastStoredAt !== undefined ? meta.lastStoredAt : now;
  const elapsed = meta.startedAt !== undefined ? (end - meta.startedAt) / 1000 : 0;
  const rate = elapsed > 0 && done > 0 ? done / elapsed : null;
  const missing = Math.max(0, meta.total - done);
  return {
    run: meta.runId,
    queue: meta.queue,
    input: meta.input,
    total: meta.total,
    done,
    failed,
    missing,
    complete,
    workers,
    rate,
    // A rate measured while workers ran says nothing once none is left: no ETA, rather than a wrong one.
    etaSeconds: complete ? 0 : rate && workers > 0 ? missing / rate : null,
  };
}
