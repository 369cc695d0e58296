import type { ExpertOutput } from "../core/expert.js";

import type { AnalysisRecord, ExpertError } from "../core/analysis-record.js";
import { isSkippedTask } from "../core/task-results.js";

export type { AnalysisRecord };

/** What one expert contributed to an item: its output, or why it has none. */
export type AnalysisEntry = ExpertOutput | ExpertError;

/**
 * The record with its fields in the published order (id, headline, url, analyses, routing,
 * cleaning, mixture, error), whatever order the producer built it in: JSON.stringify follows insertion
 * order, and readers diffing outputs across runs should see the same layout.
 */
export function inPublishedOrder(record: AnalysisRecord): AnalysisRecord {
  const ordered: AnalysisRecord = {
    id: record.id,
    headline: record.headline,
    url: record.url,
    analyses: record.analyses,
    routing: record.routing ?? null,
  };
  if (record.cleaning !== undefined) ordered.cleaning = record.cleaning;
  if (record.mixture !== undefined) ordered.mixture = record.mixture;
  if (record.error !== undefined) ordered.error = record.error;
  return ordered;
}

/** One compact JSON line, without the newline. */
export function recordToJsonLine(record: AnalysisRecord): string {
  return JSON.stringify(inPublishedOrder(record));
}

/**
 * The record as Python's `json.dump(indent=4, ensure_ascii=False)` lays out an array element:
 * 4-space indentation, nested one level (the array's own), non-ASCII text kept as is.
 */
export function recordToPrettyArrayElement(record: AnalysisRecord): string {
  // JSON text has no raw line breaks inside strings, so every "\n" is layout and can be indented.
  return `    ${JSON.stringify(inPublishedOrder(record), null, 4).replaceAll("\n", "\n    ")}`;
}

/**
 * True when the item failed as a whole (`error`) or any of its experts did (an `{error}` entry).
 * A task the gate deliberately skipped (`{error, skipped: true}`) is not a failure.
 */
export function recordHasErrors(record: AnalysisRecord): boolean {
  if (record.error !== undefined) return true;
  return Object.values(record.analyses).some(
    (entry) => typeof entry === "object" && entry !== null && typeof (entry as { error?: unknown }).error === "string" && !isSkippedTask(entry),
  );
}

/** A loose shape check for records read back from disk (the journal). */
export function looksLikeAnalysisRecord(value: unknown): value is AnalysisRecord {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  const idOk = record.id === null || typeof record.id === "string";
  const analysesOk = typeof record.analyses === "object" && record.analyses !== null && !Array.isArray(record.analyses);
  return idOk && analysesOk;
}
