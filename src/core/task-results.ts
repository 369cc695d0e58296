import type { AnalysisRecord, ExpertError } from "./analysis-record.js";
import type { ExpertOutput, Task } from "./expert.js";

/**
 * The tutorial's output keys: code written for its `analyzed_news_data.json` reads
 * `analyses.NewsSummarizationLLMExpert.summary` and `analyses.SentimentAnalysisLLMExpert.sentiment_label`
 * whatever expert did the work. Each of these keys names a *task* in news-moe's records.
 */
export const TUTORIAL_TASK_KEYS: ReadonlyMap<Task, string> = new Map([
  ["summarization", "NewsSummarizationLLMExpert"],
  ["sentiment", "SentimentAnalysisLLMExpert"],
]);

/** The `expert` of a tutorial key holding a combination of several experts' outputs. */
export const MIXTURE_PRODUCER = "mixture";

/**
 * A task the gate deliberately did not run for the item (a rule's `skip`, a language no expert
 * handles): an error in the tutorial's way, so its consumers pass over it, but marked so that it
 * does not count as a failure (exit status, statistics).
 */
export interface SkippedTask extends ExpertError {
  skipped: true;
}

export function isSkippedTask(value: unknown): value is SkippedTask {
  return typeof value === "object" && value !== null && (value as { skipped?: unknown }).skipped === true;
}

/**
 * Puts each tutorial task's final value for the item under the tutorial's key, so that a consumer
 * of the tutorial's format works on every record, whichever experts ran:
 * - one expert of the task ran: its output (or `{error}`), with `expert` naming it;
 * - several ran: the mixture's value, with `expert: "mixture"`; each expert's own output is kept
 *   in `mixture.<task>.outputs` (the tutorial's expert's own output lives only there, its key being
 *   taken by the final value);
 * - the task was skipped: `{error: "skipped: <reason>", skipped: true}`;
 * - the item itself failed (validation, cleaning, routing): `{error: <the item's error>}`.
 * Every other expert's output stays under its own name. `tasks` are the tasks the run has experts
 * for; a tutorial task outside them gets no key. The one place that shapes published records, so
 * every front end (CLI, server, queue) writes the same.
 */
export function withTaskResults(record: AnalysisRecord, tasks: ReadonlySet<Task>): AnalysisRecord {
  const finals: Record<string, ExpertOutput | ExpertError> = {};
  const movedIntoMixture = new Set<string>();
  for (const [task, key] of TUTORIAL_TASK_KEYS) {
    if (!tasks.has(task)) continue;
    if (record.error !== undefined || record.routing === null) {
      finals[key] = { error: record.error ?? "the item was not routed" };
      continue;
    }
    const chosen = record.routing.experts.filter((choice) => choice.task === task);
    if (chosen.length === 0) {
      const skip = record.routing.skipped?.find((s) => s.task === task);
      const skipped: SkippedTask = { error: `skipped: ${skip?.reason ?? `no ${task} expert was chosen`}`, skipped: true };
      finals[key] = skipped;
    } else if (chosen.length === 1) {
      const expert = (chosen[0] as { expert: string }).expert;
      finals[key] = { ...(record.analyses[expert] ?? { error: "no result" }), expert };
    } else {
      const outputs: Record<string, ExpertOutput | ExpertError> = {};
      for (const { expert } of chosen) {
        outputs[expert] = record.analyses[expert] ?? { error: "no result" };
        if (expert === key) movedIntoMixture.add(expert);
      }
      const mixed = record.mixture?.[task] ?? { error: `no ${task} mixture` };
      finals[key] = { ...mixed, expert: MIXTURE_PRODUCER };
      record.mixture = { ...record.mixture, [task]: { ...mixed, outputs } };
    }
  }
  if (Object.keys(finals).length === 0) return record;
  const others = Object.entries(record.analyses).filter(([name]) => !(name in finals) && !movedIntoMixture.has(name));
  return { ...record, analyses: { ...finals, ...Object.fromEntries(others) } };
}

/**
 * One expert's own output in a published record (distilling a teacher run reads them): under
 * `mixture.<task>.outputs` when several experts of its task ran, else under its own name, unless
 * that key holds another producer's value (a tutorial key).
 */
export function ownOutputOf(
  record: { analyses: Record<string, unknown>; mixture?: Record<string, unknown> },
  expert: string,
): unknown {
  for (const mixed of Object.values(record.mixture ?? {})) {
    const outputs = (mixed as { outputs?: unknown }).outputs;
    if (typeof outputs === "object" && outputs !== null && expert in outputs) return (outputs as Record<string, unknown>)[expert];
  }
  const entry = record.analyses[expert];
  if (typeof entry !== "object" || entry === null) return undefined;
  const producer = (entry as { expert?: unknown }).expert;
  return producer === undefined || producer === expert ? entry : undefined;
}
