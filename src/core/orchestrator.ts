import { setMaxListeners } from "node:events";
import type { AnalysisRecord, ExpertError } from "./analysis-record.js";
import { AsyncQueue, Semaphore } from "./concurrency.js";
import { batchSizeOf, ExpertUnavailableError, type ExpertOutput, type ExpertProgress, type LoadProgress } from "./expert.js";
import { CombinerRegistry, type Contribution } from "./mixture.js";
import type { NewsItem } from "./news-item.js";
import type { ExpertRegistry } from "./registry.js";
import type { CleaningReport } from "./analysis-record.js";
import { withTaskResults } from "./task-results.js";
import { ExpertDispatcher, RoutingDispatcher, toError, type ExpertStats } from "./dispatchers.js";
import type { ExpertProfile, FeatureExtractor, RoutingDecision, Router } from "./router.js";

export type { ExpertStats };

/** An item that failed validation: it still gets an output entry, with the reason. */
export interface InvalidItem {
  error: string;
  id: string | null;
  headline: string | null;
  url: string | null;
}

export type PipelineInput = { index: number; item: NewsItem } | { index: number; invalid: InvalidItem };

/** A finished record with the input position of its item. */
export interface IndexedRecord {
  index: number;
  /** The item's place in the order the run took it from its input (0-based, every item counted). */
  sequence: number;
  record: AnalysisRecord;
}

/**
 * What happened during a run that a front end may want to show, as data; the CLI words them.
 * - `expert-unavailable`: an expert could not load; `standIn` is the expert the gate actually gave
 *   its work to (reported on the first item that fell back), or null when no expert of the task is
 *   active (reported once loading is done).
 * - `warning`: something an expert or the router said while loading or analysing.
 * - `load-progress`: a download or other long step of a `load()`.
 */
export type RunEvent =
  | { type: "expert-unavailable"; expert: string; task: string; standIn: string | null; reason: string; error: unknown }
  | { type: "warning"; source: string; message: string }
  | { type: "load-progress"; source: string; progress: LoadProgress }
  /** A batch in an expert is under way: how many items it holds and how far it has got. */
  | { type: "expert-progress"; expert: string; items: number; progress: ExpertProgress };

export interface OrchestratorOptions {
  registry: ExpertRegistry;
  /** Names of the experts this run may use, in preference order within each task. */
  experts: readonly string[];
  router: Router;
  /** Computes each item's features before routing (the engine's default: word count, language, ...). */
  features: FeatureExtractor;
  /**
   * Text cleaning applied to each item before features, routing and experts (see text/clean.ts);
   * its report, when it removed something, goes into the record as `cleaning`.
   */
  clean?: (item: NewsItem) => { item: NewsItem; report?: CleaningReport };
  combiners?: CombinerRegistry;
  /** Batches one expert may have running at once (default 1: neural experts already use every core). */
  concurrency?: number;
  /** Items admitted but not yet handed out; bounds memory on any input size. */
  maxInFlight?: number;
  /**
   * "input" (default): records come out in input order, as files, journals and pipes need.
   * "completion": each record comes out as soon as its item is finished, so a short item never waits
   * behind a long one admitted before it. For callers that put records back where they belong
   * themselves (the server answers each request on its own); `IndexedRecord.sequence` says which item.
   */
  recordOrder?: "input" | "completion";
  /** Messages the user should see once per run (an expert that can't load, where its work goes), in words. */
  onNotice?: (message: string) => void;
  /** The same happenings as data, plus load progress; for front ends that word them their own way. */
  onEvent?: (event: RunEvent) => void;
  signal?: AbortSignal;
  /** Route only: every record carries its routing decision and empty `analyses`; no expert runs. */
  dryRun?: boolean;
}

export interface RunStats {
  items: number;
  /** Items with every chosen expert successful. */
  succeeded: number;
  /** Items where at least one expert failed. */
  withExpertErrors: number;
  invalid: number;
  experts: Record<string, ExpertStats>;
}

interface PendingItem {
  seq: number;
  item: NewsItem;
  cleaning?: CleaningReport;
  decision: RoutingDecision;
  outputs: Map<string, ExpertOutput | Error>;
  remaining: number;
}

/** The record of an item that never reached an expert: no analyses, no routing, the reason. */
export function unroutedRecord(item: NewsItem, error: string): AnalysisRecord {
  return { id: item.id, headline: item.headline ?? null, url: item.url ?? null, analyses: {}, routing: null, error };
}


/**
 * Streams items through gating and experts. Each expert has a queue; whenever it has a free slot it
 * takes everything queued (up to its batch size) as one batch, so batches grow by themselves while
 * an expert is busy. Records come out in input order (or as they finish: `recordOrder`); at most
 * `maxInFlight` items are held.
 */
export class Orchestrator {
  private readonly combiners: CombinerRegistry;
  private readonly concurrency: number;
  private readonly maxInFlight: number;
  private profiles: ExpertProfile[] | null = null;
  private readonly dispatchers = new Map<string, ExpertDispatcher>();
  private routing: RoutingDispatcher | null = null;
  private readonly loadErrors = new Map<string, unknown>();
  private readonly announced = new Set<string>();
  /** The tasks this run has experts for: each tutorial task among them gets its key in every record. */
  private readonly tasks: ReadonlySet<string>;
  readonly stats: RunStats = { items: 0, succeeded: 0, withExpertErrors: 0, invalid: 0, experts: {} };

  constructor(private readonly options: OrchestratorOptions) {
    this.combiners = options.combiners ?? new CombinerRegistry();
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    const experts = options.experts.map((name) => options.registry.get(name));
    this.tasks = new Set(experts.map((expert) => expert.task));
    const batchRoom = experts.reduce((sum, e) => sum + batchSizeOf(e) * this.concurrency, 0);
    this.maxInFlight = Math.max(1, Math.floor(options.maxInFlight ?? Math.max(64, 2 * batchRoom)));
    // Every call in flight may listen on the run's signal (a streaming summariser holds one worker
    // request per article window): dozens at once by design, not the leak Node warns of past 10
    // listeners, a warning users saw on stderr even with --quiet.
    if (options.signal) setMaxListeners(0, options.signal);
  }

  /**
   * Loads the router and every active expert (concurrently). An expert that cannot load is marked
   * unavailable and routing falls back around it; the user is told where its work went as soon as
   * the gate first sends it elsewhere (or at once, when no expert of its task is active).
   */
  async prepare(): Promise<ExpertProfile[]> {
    if (this.profiles) return this.profiles;
    const experts = this.options.experts.map((name) => this.options.registry.get(name));
    const signal = this.options.signal;
    const contextFor = (source: string) => ({
      ...(signal ? { signal } : {}),
      warn: (message: string) => this.warn(source, message),
      progress: (progress: LoadProgress) => this.options.onEvent?.({ type: "load-progress", source, progress }),
    });
    const routerLoad = Promise.resolve(this.options.router.load?.(contextFor(`router ${this.options.router.name}`))).then(
      () => undefined,
      (error: unknown) => ({ failed: error }),
    );
    // Every load settles before a stop is passed on: a download stops at once, but ONNX Runtime cannot
    // be left while it opens a session (the process aborts if it exits then), so those finish first.
    let stopped: { error: unknown } | undefined;
    const outcomes = await Promise.all(
      experts.map(async (expert) => {
        try {
          await expert.load(contextFor(expert.name));
          return { available: true as const };
        } catch (error) {
          if (signal?.aborted) stopped ??= { error };
          const reason =
            error instanceof ExpertUnavailableError ? error.reason : `failed to load: ${toError(error).message}`;
          return { available: false as const, reason, error };
        }
      }),
    );
    const router = await routerLoad;
    if (stopped) throw stopped.error;
    if (router) throw router.failed;
    this.profiles = experts.map((expert, i) => {
      const outcome = outcomes[i] ?? { available: true as const };
      const profile: ExpertProfile = { name: expert.name, task: expert.task, available: outcome.available };
      if (expert.languages) profile.languages = expert.languages;
      if (!outcome.available) {
        profile.unavailableReason = outcome.reason;
        this.loadErrors.set(expert.name, outcome.error);
      }
      return profile;
    });
    for (const profile of this.profiles) {
      if (profile.available) continue;
      if (this.profiles.some((p) => p.task === profile.task && p.available)) continue;
      this.announceUnavailable(profile.name, null);
    }
    for (const expert of experts) {
      this.stats.experts[expert.name] = { items: 0, errors: 0, batches: 0, busyMs: 0 };
      this.dispatchers.set(
        expert.name,
        new ExpertDispatcher(
          expert,
          this.concurrency,
          this.stats.experts[expert.name] as ExpertStats,
          (message) => this.warn(expert.name, message),
          this.options.signal,
          (items, progress) => this.options.onEvent?.({ type: "expert-progress", expert: expert.name, items, progress }),
        ),
      );
    }
    this.routing = new RoutingDispatcher(this.options.router, this.options.features, {
      experts: this.profiles,
      ...(signal ? { signal } : {}),
      onFallback: ({ unavailable, standIn }) => {
        for (const name of unavailable) this.announceUnavailable(name, standIn);
      },
    });
    return this.profiles;
  }

  private warn(source: string, message: string): void {
    this.options.onEvent?.({ type: "warning", source, message });
    this.options.onNotice?.(`${source}: ${message}`);
  }

  /** Tells the user, once per expert, that it could not load and which expert took its work. */
  private announceUnavailable(name: string, standIn: string | null): void {
    if (this.announced.has(name)) return;
    this.announced.add(name);
    const profile = this.profiles?.find((p) => p.name === name);
    if (!profile) return;
    const reason = profile.unavailableReason ?? "unknown";
    this.options.onEvent?.({
      type: "expert-unavailable",
      expert: name,
      task: profile.task,
      standIn,
      reason,
      error: this.loadErrors.get(name),
    });
    this.options.onNotice?.(
      // What happens comes first; the reason (often several lines: where we looked, how to fix it) after.
      `${name} is unavailable, ` +
        (standIn ? `so its ${profile.task} work goes to ${standIn}` : `and no other ${profile.task} expert is active`) +
        `.\n  Why: ${reason.replace(/\n/g, "\n  ")}`,
    );
  }

  /**
   * Releases the router's resources and, with `experts` (default true), the experts'. A caller that
   * keeps its registry for more runs (a server, a bench, a worker) keeps its loaded models.
   */
  async dispose(options: { experts?: boolean } = {}): Promise<void> {
    const experts = options.experts === false ? [] : this.options.experts.map((name) => this.options.registry.get(name));
    await Promise.all([
      this.options.router.dispose?.().catch(() => undefined),
      ...experts.map((expert) => expert.dispose?.().catch(() => undefined)),
    ]);
  }

  async *run(source: AsyncIterable<PipelineInput>): AsyncGenerator<IndexedRecord> {
    const profiles = await this.prepare();
    const output = new AsyncQueue<IndexedRecord>();
    const window = new Semaphore(this.maxInFlight);
    const finished = new Map<number, IndexedRecord>();
    // Records handed out; in input order also the sequence number of the next one due.
    let emitted = 0;
    let admitted = 0;
    let inputDone = false;

    const inCompletionOrder = this.options.recordOrder === "completion";
    const emit = (record: IndexedRecord) => {
      emitted++;
      if (!output.isClosed) output.push(record);
    };
    // In input order, every finished record whose turn has come; either way, close once all are out.
    const emitReady = () => {
      for (let record = finished.get(emitted); record !== undefined; record = finished.get(emitted)) {
        finished.delete(emitted);
        emit(record);
      }
      if (inputDone && emitted === admitted && !output.isClosed) output.close();
    };
    const indexOf = new Map<number, number>();
    const complete = (seq: number, built: AnalysisRecord) => {
      // A dry run ran no expert: there is no final value for any task to show.
      const record = this.options.dryRun ? built : withTaskResults(built, this.tasks);
      const indexed = { index: indexOf.get(seq) ?? -1, sequence: seq, record };
      indexOf.delete(seq);
      if (inCompletionOrder) emit(indexed);
      else finished.set(seq, indexed);
      emitReady();
    };

    // A failing source (malformed input) stops admission, but what was admitted still finishes
    // and is handed out before the error surfaces: finished work is never thrown away.
    let sourceError: { error: unknown } | null = null;
    const produce = async () => {
      try {
        for await (const entry of source) {
          if (this.options.signal?.aborted) break;
          await window.acquire();
          const seq = admitted++;
          indexOf.set(seq, entry.index);
          this.stats.items++;
          if ("invalid" in entry) {
            this.stats.invalid++;
            const { error, id, headline, url } = entry.invalid;
            complete(seq, { id, headline, url, analyses: {}, routing: null, error });
            continue;
          }
          this.admit(seq, entry.item, profiles, complete);
        }
      } catch (error) {
        sourceError = { error };
      }
      inputDone = true;
      emitReady();
    };
    // An abort ends the stream at once (what is queued still comes out first): waiting for a
    // source blocked on a pipe, or for experts to notice, would keep an interrupted run hanging.
    const signal = this.options.signal;
    const onAbort = () => output.fail(signal?.reason ?? new Error("aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    const producer = produce();
    try {
      for await (const record of output) {
        yield record;
        window.release();
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    await producer;
    if (sourceError) throw (sourceError as { error: unknown }).error;
  }

  private admit(
    seq: number,
    raw: NewsItem,
    profiles: readonly ExpertProfile[],
    complete: (seq: number, record: AnalysisRecord) => void,
  ): void {
    let item = raw;
    let cleaning: CleaningReport | undefined;
    try {
      if (this.options.clean) ({ item, report: cleaning } = this.options.clean(raw));
    } catch (error) {
      this.stats.withExpertErrors++;
      complete(seq, unroutedRecord(raw, `cleaning failed: ${toError(error).message}`));
      return;
    }
    (this.routing as RoutingDispatcher).enqueue(item, (decision) => {
      if (decision instanceof Error) {
        this.stats.withExpertErrors++;
        complete(seq, unroutedRecord(item, `routing failed: ${decision.message}`));
        return;
      }
      if (this.options.dryRun) {
        this.stats.succeeded++;
        const record: AnalysisRecord = { id: item.id, headline: item.headline ?? null, url: item.url ?? null, analyses: {}, routing: decision };
        if (cleaning) record.cleaning = cleaning;
        complete(seq, record);
        return;
      }
      this.dispatch(seq, item, decision, profiles, complete, cleaning);
    });
  }

  private dispatch(
    seq: number,
    item: NewsItem,
    decision: RoutingDecision,
    profiles: readonly ExpertProfile[],
    complete: (seq: number, record: AnalysisRecord) => void,
    cleaning?: CleaningReport,
  ): void {
    const pending: PendingItem = { seq, item, decision, outputs: new Map(), remaining: decision.experts.length };
    if (cleaning) pending.cleaning = cleaning;
    const finishOne = (expert: string, result: ExpertOutput | Error) => {
      pending.outputs.set(expert, result);
      pending.remaining--;
      if (pending.remaining === 0) complete(seq, this.buildRecord(pending));
    };
    if (pending.remaining === 0) {
      complete(seq, this.buildRecord(pending));
      return;
    }
    for (const choice of decision.experts) {
      const profile = profiles.find((p) => p.name === choice.expert);
      const dispatcher = this.dispatchers.get(choice.expert);
      if (!profile?.available || !dispatcher) {
        // Only reached when no expert of the task could load: the gate keeps the task visible.
        const reason = profile?.unavailableReason ?? "not an active expert";
        const stats = this.stats.experts[choice.expert];
        if (stats) stats.errors++;
        finishOne(choice.expert, new Error(`${choice.expert} is unavailable: ${reason}`));
        continue;
      }
      dispatcher.enqueue(item, (result) => finishOne(choice.expert, result));
    }
  }

  private buildRecord(pending: PendingItem): AnalysisRecord {
    const { item, decision } = pending;
    const analyses: Record<string, ExpertOutput | ExpertError> = {};
    let failed = false;
    for (const choice of decision.experts) {
      const result = pending.outputs.get(choice.expert);
      if (result instanceof Error || result === undefined) {
        failed = true;
        analyses[choice.expert] = { error: result?.message ?? "no result" };
      } else {
        analyses[choice.expert] = result;
      }
    }
    if (failed) this.stats.withExpertErrors++;
    else this.stats.succeeded++;

    const record: AnalysisRecord = {
      id: item.id,
      headline: typeof item.headline === "string" ? item.headline : null,
      url: typeof item.url === "string" ? item.url : null,
      analyses,
      routing: decision,
    };
    if (pending.cleaning) record.cleaning = pending.cleaning;
    const mixture = this.mix(decision, pending.outputs);
    if (mixture) record.mixture = mixture;
    return record;
  }

  /** For each task with two or more chosen experts, combines their successful outputs by weight. */
  private mix(decision: RoutingDecision, outputs: Map<string, ExpertOutput | Error>): Record<string, ExpertOutput> | undefined {
    const byTask = new Map<string, Contribution[]>();
    const chosenPerTask = new Map<string, number>();
    for (const choice of decision.experts) {
      chosenPerTask.set(choice.task, (chosenPerTask.get(choice.task) ?? 0) + 1);
      const output = outputs.get(choice.expert);
      if (output === undefined || output instanceof Error) continue;
      const list = byTask.get(choice.task) ?? [];
      list.push({ expert: choice.expert, weight: choice.weight, output });
      byTask.set(choice.task, list);
    }
    let mixture: Record<string, ExpertOutput> | undefined;
    for (const [task, chosen] of chosenPerTask) {
      if (chosen < 2) continue;
      const contributions = byTask.get(task) ?? [];
      mixture ??= {};
      if (contributions.length === 0) {
        const reasons = decision.experts
          .filter((choice) => choice.task === task)
          .map((choice) => `${choice.expert}: ${toError(outputs.get(choice.expert) ?? "no result").message}`);
        mixture[task] = { error: `every ${task} expert failed (${reasons.join("; ")})` };
        continue;
      }
      try {
        const combined = this.combiners.get(task)(contributions);
        if (contributions.length < chosen) {
          combined.note = `mixed ${contributions.length} of ${chosen} experts; the others failed`;
        }
        mixture[task] = combined;
      } catch (error) {
        mixture[task] = { error: `mixture failed: ${toError(error).message}` };
      }
    }
    return mixture;
  }
}
