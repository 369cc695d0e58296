import { Queue } from "bullmq";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { openInput, type InputFormat } from "../io/input-reader.js";
import { CHUNK_JOB_NAME, type ChunkJobData } from "./job-data.js";
import { jobIdFor, runIdFromDigest } from "./run-keys.js";
import { RunStore, type RunMeta } from "./run-store.js";

export interface SubmitOptions {
  redis: Redis;
  queue: string;
  /** A file path (stdin cannot be submitted: its bytes name the run, and it is read twice). */
  input: string;
  inputFormat?: "auto" | InputFormat;
  /** Items per job (default 64): enough for workers to fill expert batches, small enough to redo cheaply. */
  chunkSize?: number;
  /** Tries per item before a crashing item gets an error record (default 3). */
  attempts?: number;
  /**
   * Jobs allowed to wait in the queue (default 1000); submit waits for workers to take some before
   * queueing more, so Redis holds a window of the input, not all of it. 0: no limit.
   */
  maxWaiting?: number;
  /** Told the run as soon as it is known, before its items are queued. */
  onRun?: (meta: RunMeta, resubmitted: boolean) => void;
  /** Told how many jobs are queued so far, while submit waits for room. */
  onWait?: (queued: number) => void;
  /**
   * Stops submitting: no more jobs are queued (a batch already sent to Redis completes) and
   * SubmitInterruptedError says what was queued. Submitting the same file again queues the rest.
   */
  signal?: AbortSignal;
}

/** Submitting was stopped by its signal; `meta` is undefined when it stopped before the run existed. */
export class SubmitInterruptedError extends Error {
  constructor(
    readonly meta: RunMeta | undefined,
    /** Jobs this submit had handed to the queue when it stopped. */
    readonly queued: number,
    /** Jobs of the run already done before this submit (a run submitted again). */
    readonly alreadyDone: number,
  ) {
    super(meta ? `interrupted after queueing ${queued} of run ${meta.runId}'s ${meta.chunks} jobs` : "interrupted before the run was created");
    this.name = "SubmitInterruptedError";
  }
}

export interface SubmitResult {
  meta: RunMeta;
  /** True when this run had been submitted before: its settings were kept. */
  resubmitted: boolean;
  /** Chunks handed to the queue now (BullMQ ignores those still queued under the same job id). */
  queued: number;
  /** Chunks skipped because every one of their records is already stored. */
  alreadyDone: number;
}

export const DEFAULT_CHUNK_SIZE = 64;
export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_MAX_WAITING = 1000;
const ROOM_POLL_MS = 500;
/** Jobs per round trip when queueing. */
const JOBS_PER_BULK = 50;

async function sha256OfFile(path: string, signal: AbortSignal | undefined): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) {
    if (signal?.aborted) throw new SubmitInterruptedError(undefined, 0, 0);
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}

/** Reads the whole input once: a syntax error is reported before any job is queued. */
async function countItems(path: string, format: "auto" | InputFormat, signal: AbortSignal | undefined): Promise<number> {
  let count = 0;
  for await (const _ of openInput(path, { format })) {
    if (signal?.aborted) throw new SubmitInterruptedError(undefined, 0, 0);
    count++;
  }
  return count;
}

/**
 * Puts a file's items on the queue in chunks. The run id and the job ids come from the file's
 * bytes and the items' positions (see run-keys.ts), so submitting the same file again is the same
 * run: its settings are kept, chunks already done are skipped and chunks still queued are not
 * queued twice.
 */
export async function submit(options: SubmitOptions): Promise<SubmitResult> {
  const format = options.inputFormat ?? "auto";
  const [digest, total, size] = await Promise.all([
    sha256OfFile(options.input, options.signal),
    countItems(options.input, format, options.signal),
    stat(options.input).then((s) => s.size),
  ]);
  const signal = options.signal;
  if (signal?.aborted) throw new SubmitInterruptedError(undefined, 0, 0);
  const runId = runIdFromDigest(digest);
  const store = new RunStore(options.redis, options.queue, runId);
  const previous = await store.readMeta();
  const chunkSize = previous?.chunkSize ?? options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const attempts = previous?.attempts ?? options.attempts ?? DEFAULT_ATTEMPTS;
  const meta: RunMeta = previous ?? {
    runId,
    queue: options.queue,
    input: options.input,
    bytes: size,
    total,
    chunkSize,
    chunks: Math.ceil(total / chunkSize),
    attempts,
    submittedAt: Date.now(),
  };
  if (!previous) await store.writeMeta(meta);
  options.onRun?.(meta, previous !== undefined);

  const done = await store.doneChunks();
  const stopped = () => new SubmitInterruptedError(meta, queued, done.size);
  const queue = new Queue<ChunkJobData>(options.queue, { connection: options.redis });
  let queued = 0;
  try {
    let pending: Parameters<typeof queue.addBulk>[0] = [];
    const maxWaiting = options.maxWaiting ?? DEFAULT_MAX_WAITING;
    const bulk = maxWaiting > 0 ? Math.min(JOBS_PER_BULK, maxWaiting) : JOBS_PER_BULK;
    const flush = async () => {
      if (pending.length === 0) return;
      if (maxWaiting > 0) {
        while ((await queue.getWaitingCount()) + pending.length > maxWaiting) {
          if (signal?.aborted) throw stopped();
          options.onWait?.(queued);
          await sleep(ROOM_POLL_MS, undefined, signal ? { signal } : {}).catch(() => undefined); // cut short by a stop
        }
      }
      if (signal?.aborted) throw stopped();
      await queue.addBulk(pending);
      queued += pending.length;
      pending = [];
    };
    let chunk: unknown[] = [];
    let start = 0;
    const enqueue = async () => {
      if (!done.has(start)) {
        pending.push({
          name: CHUNK_JOB_NAME,
          data: { run: runId, start, items: chunk, attempts },
          opts: {
            jobId: jobIdFor(runId, start),
            attempts,
            backoff: { type: "exponential", delay: 1000 },
            // The records are the result; a finished job's copy of its items would only take memory.
            removeOnComplete: true,
            removeOnFail: 1000,
          },
        });
        if (pending.length >= bulk) await flush();
      }
      start += chunk.length;
      chunk = [];
    };
    for await (const { value } of openInput(options.input, { format })) {
      if (signal?.aborted) throw stopped();
      chunk.push(value);
      if (chunk.length === chunkSize) await enqueue();
    }
    if (chunk.length > 0) await enqueue();
    await flush();
  } finally {
    await queue.close();
  }
  return { meta, resubmitted: previous !== undefined, queued, alreadyDone: done.size };
}
