import { Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Task } from "../core/expert.js";
import type { ChunkJobData } from "./job-data.js";
import { failRemaining, processChunk, type AnalyzeSlice } from "./job-processor.js";
import { RunStore } from "./run-store.js";

export interface QueueWorkerOptions {
  /** A connection that retries forever (connectRedis(url, { blocking: true })): a Redis restart pauses the worker. */
  redis: Redis;
  queue: string;
  analyze: AnalyzeSlice;
  /** The tasks `analyze` has experts for (empty for a dry run): records of given-up items get their tutorial keys. */
  tasks: ReadonlySet<Task>;
  /** Jobs this worker runs at once (default 1). */
  concurrency?: number;
  /**
   * How long a job's lock lasts without renewal before another worker may take the job over, and
   * how often this worker looks for such stalled jobs (default 30 s). A killed worker's job is
   * redone after one to two of these.
   */
  stallTimeoutMs?: number;
  onLog?: (message: string) => void;
}

export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

/**
 * BullMQ gives up on a job that stalled more than this many times. Crashes are bounded by our own
 * per-item counting instead (job-processor.ts), which turns a poison item into an error record
 * after its attempts, so BullMQ's limit only has to be out of the way.
 */
const STALLS_ALLOWED = 1_000_000;

/**
 * A queue worker: takes chunk jobs, analyses them with `analyze` (the engine, with models loaded
 * once by the caller) and stores their records. `close()` finishes the jobs in hand, then stops.
 */
export function startQueueWorker(options: QueueWorkerOptions): { worker: Worker<ChunkJobData>; close(): Promise<void> } {
  const stall = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const log = options.onLog ?? (() => {});
  const processor = async (job: Job<ChunkJobData>) => {
    const store = new RunStore(options.redis, options.queue, job.data.run);
    try {
      await processChunk(job, store, options.analyze, options.tasks);
    } catch (error) {
      const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (!final) throw error;
      log(`job ${job.id}: giving its remaining items error records after ${job.opts.attempts} tries: ${(error as Error).message}`);
      await failRemaining(job.data, store, error, options.tasks);
    }
  };
  const worker = new Worker<ChunkJobData>(options.queue, processor, {
    connection: options.redis,
    concurrency: options.concurrency ?? 1,
    lockDuration: stall,
    stalledInterval: stall,
    maxStalledCount: STALLS_ALLOWED,
  });
  worker.on("failed", (job, error) => log(`job ${job?.id ?? "?"} failed, to be retried: ${error.message}`));
  worker.on("error", (error) => log(`queue: ${error.message}`));
  return {
    worker,
    close: () => worker.close(),
  };
}
