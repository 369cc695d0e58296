import { WaitingError, Worker, type Job } from "bullmq";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { Task } from "../core/expert.js";
import type { ChunkJobData } from "./job-data.js";
import { failRemaining, JobHandedBackError, processChunk, type AnalyzeSlice } from "./job-processor.js";
import { RunStore } from "./run-store.js";

export interface QueueWorkerOptions {
  /** A connection that retries forever (connectRedis(url)): a Redis restart pauses the worker. */
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
 * How a stop ended: `finished` when the jobs in hand (if any) finished and were stored in time;
 * `handed-back` when they were stopped and put back on the queue as never started; `left-to-stall`
 * when Redis could not be reached or a job did not stop in time, so the jobs in hand keep their
 * locks, which expire, and another worker redoes them (as after a crash: nothing is lost).
 */
export type StopOutcome = "finished" | "handed-back" | "left-to-stall";

/** How long a stop waits for the jobs in hand to finish, and then for the stopped ones to be handed back. */
export interface StopGrace {
  finishMs: number;
  handBackMs: number;
}

export interface QueueWorker {
  worker: Worker<ChunkJobData>;
  /**
   * Stops taking jobs; lets the jobs in hand finish for `finishMs`, then stops them and hands them
   * back to the queue, waiting `handBackMs` more at most. A Redis that does not answer is not waited for.
   */
  stop(grace: StopGrace): Promise<StopOutcome>;
}

/**
 * A queue worker: takes chunk jobs, analyses them with `analyze` (the engine, with models loaded
 * once by the caller) and stores their records. `stop()` ends it within a bounded time, losing nothing.
 */
export function startQueueWorker(options: QueueWorkerOptions): QueueWorker {
  const stall = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const log = options.onLog ?? (() => {});
  const processor = async (job: Job<ChunkJobData>, token?: string, signal?: AbortSignal) => {
    const store = new RunStore(options.redis, options.queue, job.data.run);
    try {
      await processChunk(job, store, options.analyze, options.tasks, signal);
    } catch (error) {
      if (error instanceof JobHandedBackError) {
        // Back to waiting without spending an attempt: BullMQ reads WaitingError as "moved, not failed".
        await job.moveToWait(token);
        throw new WaitingError();
      }
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
  const stop = async ({ finishMs, handBackMs }: StopGrace): Promise<StopOutcome> => {
    // Without Redis nothing can be stored, handed back or waited for: the locks will expire instead.
    if (options.redis.status !== "ready") {
      void worker.close(true).catch(() => undefined);
      return "left-to-stall";
    }
    // Stops taking jobs; resolves once the jobs in hand have ended, stored or handed back.
    const closed = worker.close().then(
      () => true,
      () => true,
    );
    if (await Promise.race([closed, sleep(finishMs, false)])) return "finished";
    worker.cancelAllJobs("the worker is stopping");
    return (await Promise.race([closed, sleep(handBackMs, false)])) ? "handed-back" : "left-to-stall";
  };
  return { worker, stop };
}
