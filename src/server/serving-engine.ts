import type { AnalysisRecord } from "../core/analysis-record.js";
import { AsyncQueue } from "../core/concurrency.js";
import type { ExpertRegistry } from "../core/registry.js";
import type { Sink } from "../core/sink.js";
import type { RawItem } from "../engine/pipeline-input.js";
import { run, type RunOptions, type RunSummary } from "../engine/run.js";

/** Everything `run()` takes that the server does not decide itself (experts, router, cleaning...). */
export type EngineChoices = Omit<RunOptions, "input" | "registry" | "sinks" | "numbered" | "journal" | "resume" | "signal">;

export interface ServingEngineOptions {
  /** Experts with their models; loaded once and kept for the server's life. */
  registry: ExpertRegistry;
  choices?: EngineChoices;
  /** Most items accepted and not yet answered; a request that would go beyond is refused. */
  maxQueuedItems: number;
  /**
   * Dynamic batching: once an item is waiting, the engine is fed when `batchItems` are waiting or
   * the oldest has waited this long, whichever comes first, so concurrent requests share batches.
   */
  batchWaitMs: number;
  batchItems: number;
  /** Each finished record, for metrics and the report. */
  onRecord?: (record: AnalysisRecord, value: unknown) => void;
}

/** The queue is full: the caller should come back later. */
export class QueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`the server is busy (queue full); retry after ${retryAfterSeconds}s`);
    this.name = "QueueFullError";
  }
}

/** The server is shutting down and takes no new work. */
export class DrainingError extends Error {
  constructor() {
    super("the server is shutting down and takes no new work");
    this.name = "DrainingError";
  }
}

/** One request's items on their way through the shared engine. */
export class Submission {
  /** Records in the request's order: each as soon as it and every record before it are finished. */
  readonly records = new AsyncQueue<AnalysisRecord>();
  private delivered = 0;
  /** Records finished before an earlier one of the same request, by position. */
  private readonly early = new Map<number, AnalysisRecord>();
  private cancelReason: Error | null = null;

  constructor(
    readonly size: number,
    private readonly onCancel: (submission: Submission) => void,
  ) {
    if (size === 0) this.records.close();
  }

  get finished(): number {
    return this.delivered;
  }

  get cancelled(): boolean {
    return this.cancelReason !== null;
  }

  /** Collects every record (rejects if the submission is cancelled first). */
  async all(): Promise<AnalysisRecord[]> {
    const all: AnalysisRecord[] = [];
    for await (const record of this.records) all.push(record);
    return all;
  }

  /**
   * Gives up on what is not finished (a deadline, a client that left): queued items are dropped
   * before they cost anything; records of items already inside the engine are discarded.
   */
  cancel(reason: Error): void {
    if (this.cancelReason || this.records.isClosed) return;
    this.cancelReason = reason;
    this.records.fail(reason);
    this.onCancel(this);
  }

  /** @internal The record of the request's item at `position` (records arrive as they finish). */
  deliver(position: number, record: AnalysisRecord): void {
    this.early.set(position, record);
    for (let next = this.early.get(this.delivered); next !== undefined; next = this.early.get(this.delivered)) {
      this.early.delete(this.delivered);
      this.delivered++;
      if (!this.records.isClosed) this.records.push(next);
    }
    if (this.delivered === this.size && !this.records.isClosed) this.records.close();
  }
}

interface Waiting {
  submission: Submission;
  position: number;
  value: unknown;
  arrived: number;
}

/**
 * One long-lived `run()` of the engine, fed by the items of every request through one queue. Items
 * of concurrent requests therefore meet in the same router and expert batches, and each record is
 * built by the engine exactly as `analyze` builds it. The run hands records over as they finish
 * (`recordOrder: "completion"`), each with the place its item had in the feed, so a request is
 * answered when its own items are done, never behind a longer item of another request fed before it.
 */
export class ServingEngine {
  private readonly waiting: Waiting[] = [];
  /** Items fed to the engine and not yet finished, by their place in the feed (the record's `sequence`). */
  private readonly inEngine = new Map<number, Waiting>();
  private fed = 0;
  private wake: (() => void) | null = null;
  private closed = false;
  private accepted = 0;
  private readyFlag = false;
  private readonly readyPromise: Promise<void>;
  private markReady!: () => void;
  private running: Promise<RunSummary> | null = null;
  /** Aborted only by `abandonLoad()`: a load that no accepted item waits for. */
  private readonly loadAbandoned = new AbortController();
  /** Records finished in each of the last 10 seconds (a ring), for Retry-After. */
  private readonly perSecond = new Array<number>(10).fill(0);
  private currentSecond = Math.floor(performance.now() / 1000);

  constructor(private readonly options: ServingEngineOptions) {
    this.readyPromise = new Promise((resolve) => {
      this.markReady = () => {
        this.readyFlag = true;
        resolve();
      };
    });
  }

  /** Starts the engine (models load now). The promise settles when the engine stops. */
  start(): Promise<RunSummary> {
    if (this.running) return this.running;
    const sink: Sink = {
      name: "http-requests",
      write: (record, info) => this.route(record, info.sequence),
      close: async () => undefined,
    };
    this.running = run({
      ...this.options.choices,
      input: this.feed(),
      numbered: true,
      recordOrder: "completion",
      registry: this.options.registry,
      sinks: [sink],
      signal: this.loadAbandoned.signal,
    });
    // A failed engine fails what it holds; the caller learns of it from the promise.
    this.running.catch((error: unknown) => this.failAll(error));
    return this.running;
  }

  /** True once every expert has loaded (or been found unavailable) and items are being taken. */
  get ready(): boolean {
    return this.readyFlag;
  }

  whenReady(): Promise<void> {
    return this.readyPromise;
  }

  get draining(): boolean {
    return this.closed;
  }

  /** Items accepted and not yet answered. */
  get depth(): number {
    return this.accepted;
  }

  /**
   * Queues one request's items (all or none). Throws QueueFullError when they do not fit and
   * DrainingError once shutdown began.
   */
  submit(values: readonly unknown[]): Submission {
    if (this.closed) throw new DrainingError();
    if (this.accepted + values.length > this.options.maxQueuedItems) throw new QueueFullError(this.retryAfter());
    const submission = new Submission(values.length, (cancelled) => this.dropQueued(cancelled));
    const now = performance.now();
    values.forEach((value, position) => this.waiting.push({ submission, position, value, arrived: now }));
    this.accepted += values.length;
    this.wake?.();
    return submission;
  }

  /**
   * Stops the engine while its models load, when no accepted item waits for them: a model download
   * stops at once (its bytes are kept for the next start), a model being opened finishes opening,
   * and the run ends with RunAbortedError. False, doing nothing, once the models are in or an item
   * waits: then `drain()` is the way to stop.
   */
  abandonLoad(): boolean {
    if (this.readyFlag || this.accepted > 0) return false;
    this.closed = true;
    this.loadAbandoned.abort(new Error("stopped while the models were loading"));
    this.wake?.();
    return true;
  }

  /** Stops taking requests, finishes every accepted item, then ends the engine's run. */
  async drain(): Promise<RunSummary | undefined> {
    this.closed = true;
    this.wake?.();
    return this.running ?? undefined;
  }

  private async *feed(): AsyncGenerator<RawItem> {
    // The engine asks for its first item only after loading its router and experts.
    this.markReady();
    for (;;) {
      if (this.waiting.length === 0) {
        if (this.closed) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      await this.gather();
      const entry = this.waiting.shift();
      if (!entry) continue;
      this.inEngine.set(this.fed++, entry);
      yield { index: entry.position, value: entry.value };
    }
  }

  /** The bounded wait of dynamic batching: a moment for concurrent requests to add their items. */
  private async gather(): Promise<void> {
    const { batchWaitMs, batchItems } = this.options;
    for (;;) {
      const oldest = this.waiting[0];
      if (!oldest || this.closed || this.waiting.length >= batchItems) return;
      const left = oldest.arrived + batchWaitMs - performance.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  private route(record: AnalysisRecord, sequence: number | undefined): void {
    const entry = sequence === undefined ? undefined : this.inEngine.get(sequence);
    if (!entry) throw new Error("the engine returned a record for an item it was not given");
    this.inEngine.delete(sequence!);
    this.accepted--;
    this.noteFinished();
    this.options.onRecord?.(record, entry.value);
    entry.submission.deliver(entry.position, record);
  }

  private dropQueued(submission: Submission): void {
    let dropped = 0;
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (this.waiting[i]?.submission === submission) {
        this.waiting.splice(i, 1);
        dropped++;
      }
    }
    this.accepted -= dropped;
  }

  private failAll(error: unknown): void {
    this.closed = true;
    const reason = error instanceof Error ? error : new Error(String(error));
    for (const entry of [...this.waiting, ...this.inEngine.values()]) entry.submission.cancel(reason);
    this.waiting.length = 0;
    this.inEngine.clear();
    this.accepted = 0;
  }

  /** Seconds until the queue has likely room again, from the last 10 s of throughput (1..60). */
  private retryAfter(): number {
    this.advanceClock();
    const perSecond = this.perSecond.reduce((a, b) => a + b, 0) / this.perSecond.length;
    if (perSecond <= 0) return 1;
    return Math.min(60, Math.max(1, Math.ceil(this.accepted / perSecond)));
  }

  private noteFinished(): void {
    this.advanceClock();
    const slot = this.currentSecond % this.perSecond.length;
    this.perSecond[slot] = (this.perSecond[slot] ?? 0) + 1;
  }

  /** Clears the ring's slots of the seconds that passed since it was last touched. */
  private advanceClock(): void {
    const second = Math.floor(performance.now() / 1000);
    for (let s = this.currentSecond + 1; s <= second && s <= this.currentSecond + this.perSecond.length; s++) {
      this.perSecond[s % this.perSecond.length] = 0;
    }
    this.currentSecond = Math.max(this.currentSecond, second);
  }
}
