import type { ReportRow } from "./report-row.js";
import { labelText } from "./untrusted-text.js";

/** The donut's slices: the three labels, a task the gate skipped, and no sentiment (failed, invalid, none run). */
export const SENTIMENTS = ["POSITIVE", "NEUTRAL", "NEGATIVE", "skipped", "none"] as const;

type Counts = Record<string, number>;

/** The numbers behind the report's charts, computed once here rather than in the browser. */
export interface ReportSummary {
  records: number;
  sentiment: Counts;
  /** The most frequent topics (an article counts under each of its topics); `total`: how many topics there are. */
  byTopic: { labels: string[]; counts: Record<string, number[]>; total: number };
  overTime: { unit: "day" | "month"; labels: string[]; counts: Record<string, number[]> };
  activations: { labels: string[]; activations: number[]; fallbacks: number[] };
  reasons: { labels: string[]; counts: number[] };
  errors: { labels: string[]; counts: number[] };
  /** [article characters, summary characters] pairs; an even sample when there are many. */
  lengths: Array<[number, number]>;
  withFacts: boolean;
}

const TOP = 12;
const MAX_POINTS = 3000;

function bump(counts: Map<string, number>, key: string, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

function top(counts: Map<string, number>, n: number): Array<[string, number]> {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
}

function sentimentOf(row: ReportRow): string {
  if (row.sentiment !== "") return row.sentiment;
  return row.skipped.includes("sentiment") ? "skipped" : "none";
}

/** Counts per sentiment for each key, keys in the given order; a row counts once under each of its keys. */
function bySentiment(rows: ReportRow[], keys: string[], keysOf: (row: ReportRow) => string[]): Record<string, number[]> {
  const position = new Map(keys.map((k, i) => [k, i]));
  const counts: Record<string, number[]> = Object.fromEntries(SENTIMENTS.map((s) => [s, keys.map(() => 0)]));
  for (const row of rows) {
    for (const key of keysOf(row)) {
      const at = position.get(key);
      if (at === undefined) continue;
      const series = counts[sentimentOf(row)];
      if (series) series[at] = (series[at] ?? 0) + 1;
    }
  }
  return counts;
}

/** Shortens a routing reason to its gist for the chart (the table shows it whole). */
function reasonGist(reason: string): string {
  return labelText(reason, 70);
}

function errorKind(error: string): string {
  const expert = /^([A-Za-z0-9_.-]+): /.exec(error);
  if (expert && !/^item \d/.test(error)) return `${expert[1]} failed`;
  if (/^item \d/.test(error)) return "invalid item";
  return labelText(error.split(":")[0] ?? "error", 70);
}

export function summarize(rows: ReportRow[]): ReportSummary {
  const sentiment: Counts = Object.fromEntries(SENTIMENTS.map((s) => [s, 0]));
  const topics = new Map<string, number>();
  const days = new Set<string>();
  const activations = new Map<string, number>();
  const fallbacks = new Map<string, number>();
  const reasons = new Map<string, number>();
  const errors = new Map<string, number>();
  const lengths: Array<[number, number]> = [];
  for (const row of rows) {
    sentiment[sentimentOf(row)] = (sentiment[sentimentOf(row)] ?? 0) + 1;
    for (const topic of row.topics) bump(topics, topic);
    if (row.date) days.add(row.date);
    for (const expert of row.experts) bump(activations, expert);
    for (const expert of row.fallbacks) bump(fallbacks, expert);
    for (const reason of row.reasons) bump(reasons, reasonGist(reason));
    for (const error of row.errors) bump(errors, errorKind(error));
    if (row.articleChars !== null && row.summaryChars !== null) lengths.push([row.articleChars, row.summaryChars]);
  }
  const topicLabels = top(topics, TOP).map(([t]) => t);
  const sortedDays = [...days].sort();
  const first = sortedDays[0];
  const last = sortedDays[sortedDays.length - 1];
  const spanDays = first && last ? (Date.parse(last) - Date.parse(first)) / 86_400_000 : 0;
  const unit = spanDays > 120 ? "month" : "day";
  const bucket = (row: ReportRow) => (row.date ? [unit === "month" ? row.date.slice(0, 7) : row.date] : []);
  const timeLabels = [...new Set(sortedDays.map((d) => (unit === "month" ? d.slice(0, 7) : d)))];
  const expertLabels = [...activations.keys()].sort();
  const stride = Math.max(1, Math.ceil(lengths.length / MAX_POINTS));
  const topReasons = top(reasons, TOP);
  // Every expert and invalid items get a bar, zero or not: "no errors" is worth seeing too.
  for (const expert of expertLabels) if (!errors.has(`${expert} failed`)) errors.set(`${expert} failed`, 0);
  if (!errors.has("invalid item")) errors.set("invalid item", 0);
  const topErrors = top(errors, TOP);
  return {
    records: rows.length,
    sentiment,
    byTopic: { labels: topicLabels, counts: bySentiment(rows, topicLabels, (r) => r.topics), total: topics.size },
    overTime: { unit, labels: timeLabels, counts: bySentiment(rows, timeLabels, bucket) },
    activations: {
      labels: expertLabels,
      activations: expertLabels.map((e) => activations.get(e) ?? 0),
      fallbacks: expertLabels.map((e) => fallbacks.get(e) ?? 0),
    },
    reasons: { labels: topReasons.map(([r]) => r), counts: topReasons.map(([, n]) => n) },
    errors: { labels: topErrors.map(([e]) => e), counts: topErrors.map(([, n]) => n) },
    lengths: lengths.filter((_, i) => i % stride === 0),
    withFacts: rows.some((r) => r.articleChars !== null || r.topics.length > 0 || r.date !== null),
  };
}
