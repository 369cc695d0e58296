import type { ExpertOutput } from "./expert.js";
import type { RoutingDecision } from "../routing/types.js";
import type { CleaningReport } from "../text/clean.js";

export interface ExpertError {
  error: string;
}

/**
 * One output entry per input item: the tutorial's shape (`id`, `headline`, `url`, `analyses` keyed by
 * expert name) plus how it was routed and, when several experts of one task ran, their mixture.
 */
export interface AnalysisRecord {
  id: string | null;
  headline: string | null;
  url: string | null;
  analyses: Record<string, ExpertOutput | ExpertError>;
  routing: RoutingDecision | null;
  /** What the text-cleaning step removed from `content` before routing and experts; absent when nothing. */
  cleaning?: CleaningReport;
  mixture?: Record<string, ExpertOutput>;
  /** Set when the item itself was unusable (failed validation); `analyses` is then empty. */
  error?: string;
}

export function isExpertError(value: unknown): value is ExpertError {
  return typeof value === "object" && value !== null && typeof (value as { error?: unknown }).error === "string";
}
