/**
 * The orchestrator's two kinds of queue: one per expert and one for the router. Each hands whatever is
 * waiting to its consumer as one batch whenever the consumer has a free slot, so batches grow by
 * themselves while it is busy (a streaming expert instead gets one item a call, many calls outstanding).
 */
import { batchSizeOf, type Expert, type ExpertOutput, type ExpertProgress } from "./expert.js";
import type { NewsItem } from "./news-item.js";
import type { FeatureExtractor, ItemFeatures, RouteContext, RoutingDecision, Router } from "./router.js";

export interface ExpertStats {
  items: number;
  errors: number;
  batches: number;
  /** Wall time spent inside analyze(); overlapping batches of different experts both count. */
  busyMs: number;
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * Entries wait here for `pump`. The first entry of a turn schedules one pump for the next turn, so the
 * parser can queue up several items before a batch goes out.
 */
abstract class DeferredQueue<Entry> {
  protected readonly queue: Entry[] = [];
  private scheduled = false;

  protected add(entry: Entry): void {
    this.queue.push(entry);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  protected abstract pump(): void;
}

type ExpertEntry = { item: NewsItem; done: (result: ExpertOutput | Error) => void };
type RoutingEntry = { item: NewsItem; done: (decision: RoutingDecision | Error) => void };

/** One expert's queue: takes whatever is waiting as a batch whenever it has a free slot. */
export class ExpertDispatcher extends DeferredQueue<ExpertEntry> {
  private running = 0;

  constructor(
    private readonly expert: Expert,
    private readonly concurrency: number,
    private readonly stats: ExpertStats,
    private readonly warn: (message: string) => void,
    private readonly signal: AbortSignal | undefined,
    private readonly onProgress: (items: number, progress: ExpertProgress) => void = () => undefined,
  ) {
    super();
  }

  enqueue(item: NewsItem, done: (result: ExpertOutput | Error) => void): void {
    this.add({ item, done });
  }

  protected pump(): void {
    // A streaming expert batches across calls: one item a call, as many calls as it takes outstanding.
    const streaming = this.expert.streaming === true;
    const slots = streaming ? batchSizeOf(this.expert) : this.concurrency;
    while (this.running < slots && this.queue.length > 0) {
      const batch = this.queue.splice(0, streaming ? 1 : batchSizeOf(this.expert));
      this.running++;
      void this.runBatch(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async runBatch(batch: ExpertEntry[]): Promise<void> {
    const started = performance.now();
    const items = batch.map((entry) => entry.item);
    let results: Array<ExpertOutput | Error>;
    try {
      results = await this.analyze(items);
    } catch (error) {
      if (items.length === 1) {
        results = [toError(error)];
      } else {
        // Isolate the culprit: one bad item must not fail its batch-mates.
        results = [];
        for (const item of items) {
          try {
            results.push((await this.analyze([item]))[0] ?? new Error("no result"));
          } catch (single) {
            results.push(toError(single));
          }
        }
      }
    }
    this.stats.batches++;
    this.stats.busyMs += performance.now() - started;
    batch.forEach((entry, i) => {
      const result = results[i] ?? new Error("no result");
      this.stats.items++;
      if (result instanceof Error) this.stats.errors++;
      entry.done(result);
    });
  }

  private async analyze(items: NewsItem[]): Promise<Array<ExpertOutput | Error>> {
    const results = await this.expert.analyze(items, {
      warn: (message) => this.warn(message),
      // A streaming expert's heartbeat is its running batch's: every item outstanding is in it.
      progress: (progress) => this.onProgress(this.expert.streaming === true ? this.running : items.length, progress),
      ...(this.signal ? { signal: this.signal } : {}),
    });
    if (!Array.isArray(results) || results.length !== items.length) {
      throw new Error(`${this.expert.name} returned ${Array.isArray(results) ? results.length : "no"} results for ${items.length} items`);
    }
    return results;
  }
}

/** Default largest batch handed to a router that does not say. */
const DEFAULT_ROUTE_BATCH = 64;

/**
 * The router's queue: features are computed as items arrive, and whenever the router is free it
 * gets everything waiting (up to its batch size) as one batch, so batches grow while it is busy.
 */
export class RoutingDispatcher extends DeferredQueue<RoutingEntry> {
  private running = false;
  private readonly maxBatch: number;

  constructor(
    private readonly router: Router,
    private readonly features: FeatureExtractor,
    private readonly context: RouteContext,
  ) {
    super();
    this.maxBatch = Math.max(1, Math.floor(router.maxBatchSize ?? DEFAULT_ROUTE_BATCH));
  }

  enqueue(item: NewsItem, done: (decision: RoutingDecision | Error) => void): void {
    this.add({ item, done });
  }

  protected pump(): void {
    if (this.running || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.running = true;
    void this.routeBatch(batch).finally(() => {
      this.running = false;
      this.pump();
    });
  }

  private async routeBatch(batch: RoutingEntry[]): Promise<void> {
    const requests: Array<{ item: NewsItem; features: ItemFeatures }> = [];
    const entries: typeof batch = [];
    for (const entry of batch) {
      try {
        requests.push({ item: entry.item, features: await this.features(entry.item) });
        entries.push(entry);
      } catch (error) {
        entry.done(new Error(`features: ${toError(error).message}`));
      }
    }
    if (entries.length === 0) return;
    let decisions: Array<RoutingDecision | Error>;
    try {
      decisions = await this.router.route(requests, this.context);
      if (!Array.isArray(decisions) || decisions.length !== requests.length) {
        throw new Error(`router ${this.router.name} returned ${Array.isArray(decisions) ? decisions.length : "no"} decisions for ${requests.length} items`);
      }
    } catch (error) {
      const failure = toError(error);
      decisions = requests.map(() => failure);
    }
    entries.forEach((entry, i) => entry.done(decisions[i] ?? new Error("no decision")));
  }
}
