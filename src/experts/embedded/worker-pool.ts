/**
 * Worker threads for the embedded experts, so they use every core.
 *
 * The embedded experts are pure CPU work on one item at a time, and the orchestrator runs on one
 * thread; without this a 2-core machine kept one core idle. Each expert's batch is split into one
 * chunk per worker, plus a smaller one for the calling thread, and the chunks go to a pool shared
 * by both experts.
 *
 * Size: `NEWS_MOE_EMBEDDED_WORKERS` when set (0 = no workers, everything inline), otherwise one
 * fewer than `os.availableParallelism()`, because the calling thread analyses a share of each
 * batch itself (half a worker's; it also reads, routes and writes); on a single core the work
 * stays inline. Each worker costs about 35 MB of memory, so this also keeps peak RSS lower. Workers are created on
 * first use, and are unref'd whenever idle, so they never keep a finished process alive. A
 * worker holds its own copy of the lexicon and ICU data, about 25 MB.
 *
 * Results are the same as inline: each item is analysed by the same code with the same options,
 * only on another thread. A worker that dies fails its chunk's items with the reason and is
 * replaced for the next chunk.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Worker } from "node:worker_threads";

/**
 * The expert a worker builds for a job: the module that exports it and the export's name, a class
 * whose constructor takes the expert's options. A worker imports that module itself, so any expert
 * of the `embedded-pool` worker kind (catalogue/entries.ts) runs on the pool without a list of
 * them here or in the worker.
 */
export interface PoolExpert {
  /**
   * The module: a URL (a plugin's `import.meta.url`), or a path relative to the worker script
   * (embedded-worker.js, in this folder), so that the compiled module is what a worker loads even
   * when the caller runs from the TypeScript sources (the tests).
   */
  module: string;
  exportName: string;
}

/** The fields of a news item the embedded experts read; the rest stays on the main thread. */
export interface WorkerItem {
  id: unknown;
  content: string;
  url?: unknown;
  topics?: unknown;
  keyword?: unknown;
}

/**
 * One item's outcome as it crosses threads: the output, the message of its error, or `lost` when
 * the worker died before answering (the caller may redo the item on its own thread).
 */
export type WorkerResult = { ok: unknown } | { error: string } | { lost: string };

export interface WorkerRequest {
  job: number;
  expert: PoolExpert;
  options: unknown;
  items: WorkerItem[];
}

export type WorkerResponse = { job: number; results: WorkerResult[] } | { job: number; failure: string };

interface Job {
  request: WorkerRequest;
  resolve(results: WorkerResult[]): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

export class EmbeddedWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextJob = 1;
  private closed = false;

  constructor(
    readonly size: number,
    private readonly script: URL = new URL("./embedded-worker.js", import.meta.url),
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`worker pool size must be a positive integer, got ${size}`);
  }

  /** Analyses `items` with `expert` built from `options`, on one worker. */
  run(expert: PoolExpert, options: unknown, items: WorkerItem[]): Promise<WorkerResult[]> {
    if (this.closed) return Promise.reject(new Error("embedded worker pool is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { job: this.nextJob++, expert, options, items }, resolve, reject });
      this.dispatch();
    });
  }

  /** Splits `items` into one chunk per worker (in order), runs them and returns the results in order. */
  async runSplit(expert: PoolExpert, options: unknown, items: WorkerItem[]): Promise<WorkerResult[]> {
    const chunks = Math.max(1, Math.min(this.size, items.length));
    const per = Math.ceil(items.length / chunks);
    const parts: Array<Promise<WorkerResult[]>> = [];
    for (let start = 0; start < items.length; start += per) parts.push(this.run(expert, options, items.slice(start, start + per)));
    return (await Promise.all(parts)).flat();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error("embedded worker pool is closed"));
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift() as Job;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage(job.request);
    }
  }

  private spawn(): Slot {
    // A worker keeps nothing between chunks but the lexicon and its code, yet V8 lets an unbounded
    // heap grow lazily (towards 60 MB on 50,000 items). Bounded generations keep it near 30 MB;
    // a chunk that would need more (it never did, even with a 50,000-word article) kills the
    // worker, and analyzeOnPool redoes that chunk on the calling thread.
    const worker = new Worker(fileURLToPath(this.script), {
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 64 },
    });
    const slot: Slot = { worker, job: null };
    worker.unref();
    worker.on("message", (message: WorkerResponse) => {
      const job = slot.job;
      if (!job || job.request.job !== message.job) return;
      slot.job = null;
      worker.unref();
      if ("failure" in message) job.reject(new Error(message.failure));
      else job.resolve(message.results);
      this.dispatch();
    });
    const lose = (reason: string) => {
      const index = this.slots.indexOf(slot);
      if (index < 0) return;
      this.slots.splice(index, 1);
      const job = slot.job;
      slot.job = null;
      job?.resolve(job.request.items.map(() => ({ lost: `embedded worker failed: ${reason}` })));
      if (!this.closed) this.dispatch();
    };
    worker.on("error", (error) => lose(error.message));
    worker.on("exit", (code) => lose(`exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }
}

const WORKER_SCRIPT = new URL("./embedded-worker.js", import.meta.url);

let shared: EmbeddedWorkerPool | null | undefined;

/** Workers wanted: NEWS_MOE_EMBEDDED_WORKERS, else one fewer than the cores (none on a single core). */
export function embeddedWorkerCount(env: NodeJS.ProcessEnv = process.env): number {
  const configured = env.NEWS_MOE_EMBEDDED_WORKERS;
  if (configured !== undefined && configured.trim() !== "") {
    const n = Number(configured);
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`NEWS_MOE_EMBEDDED_WORKERS must be a whole number (0 = no worker threads), got ${JSON.stringify(configured)}`);
    }
    return n;
  }
  // The calling thread takes a share of every batch (analyzeOnPool), so one core is left to it.
  const cores = availableParallelism();
  return cores >= 2 ? cores - 1 : 0;
}

/**
 * The process-wide pool both embedded experts share, or null when work should stay inline: no
 * workers wanted, or no compiled worker script next to this module (running from TypeScript
 * sources, as the unit tests do).
 */
export function sharedEmbeddedPool(): EmbeddedWorkerPool | null {
  if (shared !== undefined) return shared;
  const count = embeddedWorkerCount();
  shared = count > 0 && existsSync(WORKER_SCRIPT) ? new EmbeddedWorkerPool(count, WORKER_SCRIPT) : null;
  return shared;
}

/** Runs a batch on the pool, item results in order; an item's error comes back as an Error with its message. */
export async function analyzeOnPool<T extends { id: unknown; content: unknown; url?: unknown; topics?: unknown; keyword?: unknown }, O>(
  pool: EmbeddedWorkerPool,
  expert: PoolExpert,
  options: unknown,
  items: readonly T[],
  signal?: AbortSignal,
  inline?: (items: readonly T[]) => Array<O | Error>,
): Promise<Array<O | Error>> {
  signal?.throwIfAborted();
  // The calling thread takes a share too (half a worker's): on 2 cores one worker plus the main
  // thread keep both busy, at one worker's memory. It goes last, after the workers have theirs.
  const own = inline && items.length >= pool.size + 2 ? Math.floor(items.length / (2 * pool.size + 1)) : 0;
  const shipped = items.slice(0, items.length - own);
  const sent: WorkerItem[] = shipped.map(({ id, content, url, topics, keyword }) => ({
    id,
    content: content as string,
    ...(url !== undefined ? { url } : {}),
    ...(topics !== undefined ? { topics } : {}),
    ...(keyword !== undefined ? { keyword } : {}),
  }));
  const pending = pool.runSplit(expert, options, sent);
  const local = own > 0 && inline ? inline(items.slice(items.length - own)) : [];
  const results = await pending;
  signal?.throwIfAborted();
  trimCallerHeap();
  const shippedResults = results.map((result, i): O | Error => {
    if ("ok" in result) return result.ok as O;
    if ("error" in result) return new Error(result.error);
    const redone = inline?.([shipped[i] as T])[0];
    return redone ?? new Error(result.lost);
  });
  return [...shippedResults, ...local];
}

/**
 * Keeps the calling thread's heap near its live size during long runs. With the experts' work on
 * workers, what the main thread allocates (parsed items, messages, output) dies young, but V8 only
 * collects its old generation when a lazily raised limit is reached: on 50,000 items the main
 * thread's heap grew to over 200 MB while holding under 60 MB live, which took the process past
 * the 300 MB peak we promise. A full collection when more than HEAP_SLACK is garbage (checked at
 * most every few seconds) costs about 20 ms and brings RSS back to the live size.
 */
const HEAP_SLACK = 48 * 1024 * 1024;
const TRIM_EVERY_MS = 3_000;
let lastTrim = 0;
let collect: (() => void) | null | undefined;

function trimCallerHeap(): void {
  const now = Date.now();
  if (now - lastTrim < TRIM_EVERY_MS) return;
  lastTrim = now;
  const { heapTotal, heapUsed } = process.memoryUsage();
  if (heapTotal - heapUsed < HEAP_SLACK && heapUsed < 2 * HEAP_SLACK) return;
  if (collect === undefined) {
    try {
      // The gc() function V8 exposes with --expose-gc, obtained without asking users for the flag.
      setFlagsFromString("--expose-gc");
      const gc: unknown = runInNewContext("gc");
      collect = typeof gc === "function" ? (gc as () => void) : null;
    } catch {
      collect = null;
    }
  }
  collect?.();
}

/**
 * Where an embedded expert runs its batches: on worker threads when it has them (`workers`: true
 * for the shared pool, the default; a pool of its own; or false), otherwise on the calling thread.
 * Keeps the options a worker needs to build the same expert (all but `workers`).
 */
export class WorkerPlacement<Options extends { workers?: boolean | EmbeddedWorkerPool }> {
  private readonly workers: boolean | EmbeddedWorkerPool;
  private readonly portable: Omit<Options, "workers">;

  constructor(
    private readonly expert: PoolExpert,
    options: Options,
  ) {
    const { workers, ...portable } = options;
    this.workers = workers ?? true;
    this.portable = portable;
  }

  /** Runs a batch where the expert's placement says; `inline` is the batch on the calling thread (a stop it throws rejects). */
  async analyze<T extends { id: unknown; content: unknown }, O>(items: readonly T[], signal: AbortSignal | undefined, inline: (items: readonly T[]) => Array<O | Error>): Promise<Array<O | Error>> {
    const pool = this.workers === true ? sharedEmbeddedPool() : this.workers || null;
    return pool ? analyzeOnPool(pool, this.expert, this.portable, items, signal, inline) : inline(items);
  }
}
