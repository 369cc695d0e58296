import type { ExpertOutput } from "./expert.js";
import type { RoutingDecision } from "./router.js";

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

/** What the text-cleaning step removed from an item's content (src/text/clean.ts). */
export interface CleaningReport {
  /** HTML tags, comments and script/style blocks removed. */
  html_tags?: number;
  /** HTML entities decoded (`&amp;` → `&`). */
  html_entities?: number;
  /** Boilerplate pieces removed, as they were (each cut to 60 characters, at most 10 listed). */
  boilerplate?: string[];
  /** How many boilerplate pieces in all, when more than are listed. */
  boilerplate_count?: number;
}
