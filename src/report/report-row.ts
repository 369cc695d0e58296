import type { AnalysisRecord } from "../core/analysis-record.js";

/** What the report needs of an input item that the record does not carry. */
export interface ItemFacts {
  topic: string | null;
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
  experts: string[];
  reasons: string[];
  /** Experts that stood in for one that could not load. */
  fallbacks: string[];
  errors: string[];
  topic: string | null;
  date: string | null;
  articleChars: number | null;
  summaryChars: number | null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The facts of a raw input item (whatever its validity), by the scraper's field names. */
export function itemFacts(value: unknown): ItemFacts {
  if (!isObject(value)) return { topic: null, date: null, articleChars: null };
  const topics = Array.isArray(value.topics) ? value.topics.filter((t): t is string => typeof t === "string" && t.trim() !== "") : [];
  const dated = [value.publication_date, value.timestamp].find((d): d is string => typeof d === "string" && /^\d{4}-\d{2}-\d{2}/.test(d));
  return {
    topic: topics[0]?.trim() ?? null,
    date: dated ? dated.slice(0, 10) : null,
    articleChars: typeof value.content === "string" ? value.content.length : null,
  };
}

/**
 * Reads the record by the shape of its outputs, not by expert names: whichever entry has a
 * `summary` is the summary, whichever has a `sentiment_label` the sentiment; a task's mixture,
 * when several experts ran, wins over any single expert.
 */
export function toReportRow(record: AnalysisRecord, facts: ItemFacts | undefined): ReportRow {
  const outputs = [...Object.values(record.mixture ?? {}), ...Object.values(record.analyses)].filter(isObject);
  const summarised = outputs.find((o) => typeof o.summary === "string");
  const felt = outputs.find((o) => typeof o.sentiment_label === "string");
  const errors: string[] = [];
  if (typeof record.error === "string") errors.push(record.error);
  for (const [expert, output] of Object.entries(record.analyses)) {
    if (isObject(output) && typeof output.error === "string") errors.push(`${expert}: ${output.error}`);
  }
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
    topic: facts?.topic ?? null,
    date: facts?.date ?? null,
    articleChars: facts?.articleChars ?? null,
    summaryChars: summarised ? summary.length : null,
  };
}
