import { EXTRACTIVE_SUMMARIZER_NAME } from "../experts/embedded/extractive-summarizer.js";
import { LEXICON_SENTIMENT_NAME } from "../experts/embedded/lexicon-sentiment.js";
import { NEURAL_SENTIMENT_NAME, NEURAL_SUMMARIZER_NAME } from "../experts/neural/options.js";
import type { NewsItem } from "../core/news-item.js";
import { ownOutputOf } from "../core/task-results.js";

/** A teacher record as `analyze --router all` writes it (only what distilling reads). */
export interface TeacherRecord {
  id: string | null;
  analyses?: Record<string, unknown>;
  mixture?: Record<string, { [key: string]: unknown }>;
  error?: string;
}

function tokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** ROUGE-L F1 on lower-cased word tokens: longest common subsequence against both lengths. */
export function rougeL(a: string, b: string): number {
  const x = tokens(a);
  const y = tokens(b);
  if (x.length === 0 || y.length === 0) return 0;
  let prev = new Uint32Array(y.length + 1);
  let cur = new Uint32Array(y.length + 1);
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      cur[j] = x[i - 1] === y[j - 1] ? (prev[j - 1] as number) + 1 : Math.max(prev[j] as number, cur[j - 1] as number);
    }
    [prev, cur] = [cur, prev];
  }
  const lcs = prev[y.length] as number;
  if (lcs === 0) return 0;
  const precision = lcs / x.length;
  const recall = lcs / y.length;
  return (2 * precision * recall) / (precision + recall);
}

function field(record: TeacherRecord, expert: string, key: string): string | undefined {
  const out = ownOutputOf({ analyses: record.analyses ?? {}, ...(record.mixture ? { mixture: record.mixture } : {}) }, expert);
  if (typeof out !== "object" || out === null || "error" in out) return undefined;
  const value = (out as Record<string, unknown>)[key];
  return typeof value === "string" ? value : undefined;
}

export interface DistillOptions {
  /** ROUGE-L F1 at or above which the extractive summary is good enough (default 0.3). */
  rougeThreshold: number;
}

/**
 * The wanted route of one item from a teacher run where cheap and neural experts both ran: per
 * task, the cheap expert where it agrees with the neural one (same sentiment label; summaries with
 * ROUGE-L at or above the threshold), the neural one otherwise. A task where either failed gets no
 * label.
 */
export function distillRoute(record: TeacherRecord, options: DistillOptions): Record<string, string> {
  const route: Record<string, string> = {};
  const cheapSummary = field(record, EXTRACTIVE_SUMMARIZER_NAME, "summary");
  const neuralSummary = field(record, NEURAL_SUMMARIZER_NAME, "summary");
  if (cheapSummary !== undefined && neuralSummary !== undefined) {
    route["summarization"] = rougeL(cheapSummary, neuralSummary) >= options.rougeThreshold ? EXTRACTIVE_SUMMARIZER_NAME : NEURAL_SUMMARIZER_NAME;
  }
  const cheapLabel = field(record, LEXICON_SENTIMENT_NAME, "sentiment_label");
  const neuralLabel = field(record, NEURAL_SENTIMENT_NAME, "sentiment_label");
  if (cheapLabel !== undefined && neuralLabel !== undefined) {
    route["sentiment"] = cheapLabel === neuralLabel ? LEXICON_SENTIMENT_NAME : NEURAL_SENTIMENT_NAME;
  }
  return route;
}

/** Joins teacher records to their items by id; items without a usable record are left out. */
export function distill(items: readonly NewsItem[], records: readonly TeacherRecord[], options: DistillOptions): Array<NewsItem & { route: Record<string, string> }> {
  const byId = new Map<string, TeacherRecord>();
  for (const r of records) if (typeof r.id === "string" && !r.error) byId.set(r.id, r);
  const out: Array<NewsItem & { route: Record<string, string> }> = [];
  for (const item of items) {
    const record = byId.get(item.id);
    if (!record) continue;
    const route = distillRoute(record, options);
    if (Object.keys(route).length > 0) out.push({ ...item, route });
  }
  return out;
}
