import type { AnalysisRecord } from "../core/analysis-record.js";
import type { Task } from "../core/expert.js";
import { isSkippedTask, TUTORIAL_TASK_KEYS } from "../core/task-results.js";
import { labelText } from "./untrusted-text.js";

/** Longest topic kept: a label on a chart axis, not an article. */
const MAX_LABEL_CHARS = 120;

/** What the report needs of an input item that the record does not carry. */
export interface ItemFacts {
  /** Every topic of the item, each once, in the item's order. */
  topics: string[];
  /** Publication day, YYYY-MM-DD. */
  date: string | null;
  articleChars: number | null;
}

/** One article in the report: the record reduced to what the charts and the table show. */
export interface ReportRow {
  id: string | null;
  headline: string;
  url: string | null;
  summary: string;
  /** POSITIVE, NEGATIVE, NEUTRAL, or "" when the item has no sentiment. */
  sentiment: string;
  score: number | null;
  /** Tasks the gate deliberately did not run for the item (a rule's skip, a language no expert reads). */
  skipped: Task[];
  experts: string[];
  reasons: string[];
  /** Experts that stood in for one that could not load. */
  fallbacks: string[];
  errors: string[];
  topics: string[];
  date: string | null;
  articleChars: number | null;
  summaryChars: number | null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The facts of a raw input item (whatever its validity), by the scraper's field names. */
export function itemFacts(value: unknown): ItemFacts {
  if (!isObject(value)) return { topics: [], date: null, articleChars: null };
  const topics = Array.isArray(value.topics) ? value.topics.filter((t): t is string => typeof t === "string" && t.trim() !== "") : [];
  const dated = [value.publication_date, value.timestamp].find((d): d is string => typeof d === "string" && /^\d{4}-\d{2}-\d{2}/.test(d));
  return {
    topics: [...new Set(topics.map((t) => labelText(t.trim(), MAX_LABEL_CHARS)))],
    date: dated ? dated.slice(0, 10) : null,
    articleChars: typeof value.content === "string" ? value.content.length : null,
  };
}

/** The value a record holds for a task: its tutorial key (core/task-results.ts) first, as a tutorial consumer reads it. */
function taskValue(record: AnalysisRecord, task: Task, field: string): Record<string, unknown> | undefined {
  const key = TUTORIAL_TASK_KEYS.get(task);
  if (key !== undefined && key in record.analyses) {
    // The task's final value, also when it is an error or a skip: then the item has none.
    const final = record.analyses[key];
    return isObject(final) && typeof final[field] === "string" ? final : undefined;
  }
  // Records without the key (a dry run; results written before the keys held each task's final
  // value): by shape, a task's mixture first, whichever entry has the field.
  return [...Object.values(record.mixture ?? {}), ...Object.values(record.analyses)].filter(isObject).find((o) => typeof o[field] === "string");
}

/**
 * The errors of a record, each once, named by the expert that failed: a tutorial key carries the
 * error of the expert it names (`expert`), which also has its own entry, and a failed item's
 * error under every tutorial key; a task the gate skipped is not an error (it is among the reasons).
 */
function recordErrors(record: AnalysisRecord): string[] {
  const errors = new Set<string>();
  if (typeof record.error === "string") errors.add(record.error);
  for (const [name, output] of Object.entries(record.analyses)) {
    if (!isObject(output) || typeof output.error !== "string" || isSkippedTask(output) || output.error === record.error) continue;
    const producer = typeof output.expert === "string" ? output.expert : name;
    errors.add(`${producer}: ${output.error}`);
  }
  return [...errors];
}

/**
 * Reads the record as a consumer of the tutorial's output does: the summary and the sentiment
 * under their tutorial keys, whichever expert (or mixture) produced them.
 */
export function toReportRow(record: AnalysisRecord, facts: ItemFacts | undefined): ReportRow {
  const summarised = taskValue(record, "summarization", "summary");
  const felt = taskValue(record, "sentiment", "sentiment_label");
  const errors = recordErrors(record);
  const choices = record.routing?.experts ?? [];
  const summary = typeof summarised?.summary === "string" ? summarised.summary : "";
  return {
    id: record.id,
    headline: record.headline ?? "",
    url: record.url,
    summary,
    sentiment: typeof felt?.sentiment_label === "string" ? felt.sentiment_label : "",
    score: typeof felt?.sentiment_score === "number" ? felt.sentiment_score : null,
    experts: choices.map((c) => c.expert),
    reasons: [...choices.map((c) => c.reason), ...(record.routing?.skipped ?? []).map((s) => `${s.task} skipped: ${s.reason}`)],
    fallbacks: choices.filter((c) => c.reason.startsWith("fallback: ")).map((c) => c.expert),
    errors,
    skipped: (record.routing?.skipped ?? []).map((s) => s.task),
    topics: facts?.topics ?? [],
    date: facts?.date ?? null,
    articleChars: facts?.articleChars ?? null,
    summaryChars: summarised ? summary.length : null,
  };
}
