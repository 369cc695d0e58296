import type { LoadContext, Task } from "./expert.js";
import type { NewsItem } from "./news-item.js";

/** One expert the gate picked for an item, with the weight its output carries in a mixture. */
export interface RouteChoice {
  expert: string;
  task: Task;
  /** Gate weight in (0, 1]; the weights of one task's chosen experts sum to 1. */
  weight: number;
  /** Why this expert: the rules that matched, or the fallback that put it here. */
  reason: string;
}

/** Recorded with every output item so that each routing decision can be explained afterwards. */
export interface RoutingDecision {
  router: string;
  experts: RouteChoice[];
  /** Tasks deliberately not run for this item, with the rule that said so. */
  skipped?: Array<{ task: Task; reason: string }>;
}

/**
 * What routers may look at, computed once per item before routing (see {@link FeatureExtractor}).
 * The built-in fields are what the rules routers read; an injected extractor may add its own.
 */
export interface ItemFeatures {
  words: number;
  chars: number;
  /** ISO 639-3 code, or "und" when the text is too short to tell. */
  language: string;
  hasHeadline: boolean;
  topics: string[];
  [extra: string]: unknown;
}

/** Computes an item's features; injectable so a trained gate can bring its own (embeddings, ...). */
export type FeatureExtractor = (item: NewsItem) => ItemFeatures | Promise<ItemFeatures>;

/** What a router knows about an expert. */
export interface ExpertProfile {
  name: string;
  task: Task;
  languages?: readonly string[];
  available: boolean;
  unavailableReason?: string;
}

/** One item to route, with its features. */
export interface RouteRequest {
  item: NewsItem;
  features: ItemFeatures;
}

export interface RouteContext {
  /** The experts of this run, in preference order, with whether each could load. */
  experts: readonly ExpertProfile[];
  /** Aborted when the run is being stopped. */
  signal?: AbortSignal;
  /**
   * A router that gives an unavailable expert's work to another says so here, so the engine can
   * tell the user once which expert actually took it.
   */
  onFallback?(fallback: { task: Task; unavailable: string[]; standIn: string }): void;
}

/**
 * The gating network. It gets a batch of items with their features and returns one decision per
 * item, in order, or an `Error` for that item alone (the item then gets a record saying routing
 * failed). Asynchronous and batched so that a learned gate can score a whole batch in one call
 * and load its model in `load()`. The batches grow by themselves while the router is busy, up to
 * `maxBatchSize`.
 */
export interface Router {
  readonly name: string;
  /** Largest batch `route` should be given (default 64). */
  readonly maxBatchSize?: number;
  /** Makes the router ready (a model, a table); called once before the first `route`. */
  load?(context: LoadContext): Promise<void>;
  route(batch: readonly RouteRequest[], context: RouteContext): Promise<Array<RoutingDecision | Error>>;
  dispose?(): Promise<void>;
}
