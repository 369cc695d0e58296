import type { NewsItem } from "./news-item.js";

/** What an expert is for. Experts of the same task can stand in for each other and be mixed. */
export type Task = "summarization" | "sentiment" | (string & {});

export const SUMMARIZATION: Task = "summarization";
export const SENTIMENT: Task = "sentiment";

/** Whatever an expert writes under its name in an item's `analyses`. Must be JSON-serialisable. */
export type ExpertOutput = { [key: string]: unknown };

export interface SummaryOutput extends ExpertOutput {
  summary: string;
}

export type SentimentLabel = "POSITIVE" | "NEGATIVE" | "NEUTRAL";

export interface SentimentOutput extends ExpertOutput {
  sentiment_label: SentimentLabel;
  /** Confidence in `sentiment_label`, in [0, 1]. */
  sentiment_score: number;
  /** Probability per class; the classes an expert knows, summing to 1. Mixtures average these. */
  probabilities: Partial<Record<SentimentLabel, number>>;
}

export interface ExpertContext {
  /** Aborted when the run is being stopped (SIGINT); long-running experts should check it. */
  signal?: AbortSignal;
  /** Warnings for the user (stderr), already prefixed with the expert's name by the caller. */
  warn(message: string): void;
  /**
   * How far a long batch has got, for progress displays (a heartbeat while no item finishes):
   * e.g. `{ done: 120, total: 300, unit: "decoder steps" }`. Optional to call; cheap to call often.
   */
  progress?(progress: ExpertProgress): void;
}

export interface ExpertProgress {
  done: number;
  total: number | undefined;
  unit: string;
}

/** A step of `load()` the user may want to see: a model file being downloaded, mostly. */
export interface LoadProgress {
  /** Where it comes from (a hub repo id, a URL). */
  source: string;
  /** The file, relative to its source. */
  file: string;
  bytesDone: number;
  bytesTotal: number | undefined;
  /** `downloading` while bytes flow, `done` once stored, `cached` already there, `absent` optional and missing. */
  status: "downloading" | "done" | "cached" | "absent";
}

/** What `load()` (of an expert, a router, a sink) may use: a stop signal, warnings and progress. */
export interface LoadContext {
  /** Aborted when the run is being stopped; a download should give up (and keep what it has). */
  signal?: AbortSignal;
  /** Something the user should know that does not stop the load (a cached model used offline). */
  warn?(message: string): void;
  /** Download progress, for a progress display. */
  progress?(progress: LoadProgress): void;
}

/**
 * Whether an expert can run here. `downloadable`: it can, once its model is downloaded on first
 * use (not cached yet; whether the hub can be reached is not checked).
 */
export type Availability = { available: true; downloadable?: boolean } | { available: false; reason: string };

/**
 * An expert cannot run here. `reason` is a library-level sentence; `cause` keeps the typed error
 * behind it (a ModelNotAvailableError with its data) so a front end can say more, in its own terms.
 */
export class ExpertUnavailableError extends Error {
  constructor(
    readonly expert: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${expert} is unavailable: ${reason}`, options);
    this.name = "ExpertUnavailableError";
  }
}

/**
 * A specialised analyser. It is cheap to construct; `load()` does the heavy work (models, lexicons).
 *
 * `analyze` takes a batch and returns one entry per input item, in order: the item's output, or an
 * `Error` for that item alone. Throwing fails the whole batch; the orchestrator then retries the
 * items one by one so a single bad item cannot take its batch-mates down with it.
 */
export interface Expert<O extends ExpertOutput = ExpertOutput> {
  /** The key under which results appear in `analyses`. Unique in a registry. */
  readonly name: string;
  readonly task: Task;
  /** One line for `news-moe experts`; a plugin's may be left out. */
  readonly description?: string;
  /** What it needs to run, in words ("nothing: embedded", "model Xenova/distilbart-cnn-6-6"); may be left out. */
  readonly requires?: string;
  /**
   * Largest batch `analyze` should be given (a streaming expert: items outstanding at once). Left
   * out (the README's minimal plugin expert does), it is `DEFAULT_EXPERT_BATCH_SIZE`: read it
   * through `batchSizeOf`.
   */
  readonly maxBatchSize?: number;
  /**
   * A streaming expert batches by itself, across calls (the neural summariser's running decoder batch):
   * the orchestrator then hands it each item as soon as it is routed, in its own `analyze` call, up to
   * `maxBatchSize` items outstanding, and each item's output is used as soon as its call returns.
   * Read when items are dispatched, so it may change once the expert has loaded.
   */
  readonly streaming?: boolean;
  /** ISO 639-3 codes of languages it handles well; undefined means any. Routers use it. */
  readonly languages?: readonly string[];
  /**
   * Cheap check of whether `load()` can succeed (files present, network allowed), without loading.
   * Optional: when absent, availability is only known after `load()`.
   */
  probe?(): Promise<Availability>;
  /**
   * Makes the expert ready. Idempotent. Throws ExpertUnavailableError when it cannot be had. The
   * context carries the run's stop signal, a warning channel and download progress.
   */
  load(context: LoadContext): Promise<void>;
  analyze(items: readonly NewsItem[], context: ExpertContext): Promise<Array<O | Error>>;
  /** Releases native resources (ONNX sessions). After it, `load()` may be called again. */
  dispose?(): Promise<void>;
}

/**
 * The batch size of an expert that does not give one: enough items per call to amortise a call's
 * overhead, few enough that one slow call does not hold many records back.
 */
export const DEFAULT_EXPERT_BATCH_SIZE = 16;

/** What it needs and what it does, as listings show them, with words for a plugin that leaves them out. */
export function expertLabels(expert: Pick<Expert, "requires" | "description">): { requires: string; description: string } {
  return { requires: expert.requires ?? "not stated", description: expert.description ?? "(no description)" };
}

/** What is wrong with an expert's `maxBatchSize`, or undefined when it is a whole number >= 1 or left out. */
export function batchSizeProblem(expert: Pick<Expert, "name" | "maxBatchSize">): string | undefined {
  const size = expert.maxBatchSize;
  if (size === undefined || (Number.isInteger(size) && size >= 1)) return undefined;
  return `expert "${expert.name}": maxBatchSize must be a whole number of at least 1, or left out; got ${JSON.stringify(size)}`;
}

/** `expert.maxBatchSize`, or the default for an expert that leaves it out. */
export function batchSizeOf(expert: Pick<Expert, "maxBatchSize">): number {
  return expert.maxBatchSize ?? DEFAULT_EXPERT_BATCH_SIZE;
}
