import type { Task } from "../core/expert.js";
import type { NewsItem } from "../core/news-item.js";

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

/** What routers may look at, computed once per item. */
export interface ItemFeatures {
  words: number;
  chars: number;
  /** ISO 639-3 code, or "und" when the text is too short to tell. */
  language: string;
  hasHeadline: boolean;
  topics: string[];
}

/** What a router knows about an expert. */
export interface ExpertProfile {
  name: string;
  task: Task;
  languages?: readonly string[];
  available: boolean;
  unavailableReason?: string;
}

/** The gating network: for one item, which experts run and with what weights. */
export interface Router {
  readonly name: string;
  route(item: NewsItem, features: ItemFeatures, experts: readonly ExpertProfile[]): RoutingDecision;
}
