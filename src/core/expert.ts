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
}

export type Availability = { available: true } | { available: false; reason: string };

export class ExpertUnavailableError extends Error {
  constructor(
    readonly expert: string,
    readonly reason: string,
  ) {
    super(`${expert} is unavailable: ${reason}`);
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
  /** One line for `news-moe experts`. */
  readonly description: string;
  /** What it needs to run, in words ("nothing: embedded", "model Xenova/distilbart-cnn-6-6"). */
  readonly requires: string;
  /** Largest batch `analyze` should be given. */
  readonly maxBatchSize: number;
  /** ISO 639-3 codes of languages it handles well; undefined means any. Routers use it. */
  readonly languages?: readonly string[];
  /**
   * Cheap check of whether `load()` can succeed (files present, network allowed), without loading.
   * Optional: when absent, availability is only known after `load()`.
   */
  probe?(): Promise<Availability>;
  /** Makes the expert ready. Idempotent. Throws ExpertUnavailableError when it cannot be had. */
  load(): Promise<void>;
  analyze(items: readonly NewsItem[], context: ExpertContext): Promise<Array<O | Error>>;
  /** Releases native resources (ONNX sessions). */
  dispose?(): Promise<void>;
}
