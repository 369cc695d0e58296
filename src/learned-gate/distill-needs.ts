/**
 * What `gate distill` needs from a teacher run, and why a given run did not have it: said when a
 * teacher file yields no labelled item, so the user learns which experts did not run (unavailable,
 * failed, not selected) and how to make a run that works, instead of a guess at the router.
 */
import { EXTRACTIVE_SUMMARIZER_NAME } from "../experts/embedded/extractive-summarizer.js";
import { LEXICON_SENTIMENT_NAME } from "../experts/embedded/lexicon-sentiment.js";
import { NEURAL_SENTIMENT_NAME, NEURAL_SUMMARIZER_NAME } from "../experts/neural/options.js";
import { ownOutputOf } from "../core/task-results.js";
import type { NewsItem } from "../core/news-item.js";
import type { TeacherRecord } from "./distill.js";

/** Per task, the pair distill compares and the output field it reads (as distill.ts does). */
const PAIRS = [
  { task: "summarization", cheap: EXTRACTIVE_SUMMARIZER_NAME, neural: NEURAL_SUMMARIZER_NAME, field: "summary", noun: "summaries" },
  { task: "sentiment", cheap: LEXICON_SENTIMENT_NAME, neural: NEURAL_SENTIMENT_NAME, field: "sentiment_label", noun: "sentiment labels" },
] as const;

interface ExpertTally {
  results: number;
  errors: number;
  /** Items whose routing fell back around this expert (it could not load). */
  unavailable: number;
}

function tally(records: readonly TeacherRecord[], expert: string, field: string): ExpertTally {
  const counts: ExpertTally = { results: 0, errors: 0, unavailable: 0 };
  for (const record of records) {
    const out = ownOutputOf({ analyses: record.analyses ?? {}, ...(record.mixture ? { mixture: record.mixture } : {}) }, expert);
    if (typeof out === "object" && out !== null && "error" in out) counts.errors++;
    else if (typeof out === "object" && out !== null && typeof (out as Record<string, unknown>)[field] === "string") counts.results++;
    const routing = (record as { routing?: { experts?: Array<{ reason?: unknown }> } }).routing;
    if (routing?.experts?.some((c) => typeof c.reason === "string" && c.reason.startsWith("fallback: ") && c.reason.includes(`${expert} is unavailable (`))) {
      counts.unavailable++;
    }
  }
  return counts;
}

function describeTally(expert: string, t: ExpertTally, of: number): string {
  const parts = [`${t.results} of ${of}`];
  if (t.unavailable > 0) parts.push(`unavailable for ${t.unavailable} (the run fell back)`);
  if (t.errors > 0) parts.push(`${t.errors} error${t.errors === 1 ? "" : "s"}`);
  return `${expert} ${parts.join(", ")}`;
}

/**
 * The message for a teacher file that gave no labelled item: the first line says what this file
 * lacks, counted; the second what distill needs and how to make it.
 */
export function describeDistillShortfall(source: string, itemsSource: string, items: readonly NewsItem[], records: readonly TeacherRecord[]): string {
  const ids = new Set(items.map((item) => item.id));
  const matched = records.filter((r) => typeof r.id === "string" && ids.has(r.id) && !r.error);
  const needs =
    "gate distill needs, for the same items, both experts of a task: " +
    PAIRS.map((p) => `${p.cheap} and ${p.neural} ${p.noun}`).join(", or ") +
    "; make it with `news-moe analyze ITEMS --router all` while the neural models are available (`news-moe experts` says which are ready; `news-moe models pull` fetches them)";
  if (matched.length === 0) {
    return (
      `${source}: none of its ${records.length} records matches a valid item of ${itemsSource} by id` +
      (records.length > 0 ? "; pass as --items the input that run analysed" : "") +
      `\nnews-moe: ${needs}`
    );
  }
  const perTask = PAIRS.map((p) => {
    const cheap = tally(matched, p.cheap, p.field);
    const neural = tally(matched, p.neural, p.field);
    return `${p.task}: ${describeTally(p.cheap, cheap, matched.length)}; ${describeTally(p.neural, neural, matched.length)}`;
  });
  return (
    `${source}: no item has ${PAIRS.map((p) => `both ${p.noun}`).join(" or ")} to compare ` +
    `(results among the ${matched.length} records matching ${itemsSource}: ${perTask.join("; ")})` +
    `\nnews-moe: ${needs}`
  );
}
