/**
 * What the summaries of a phase looked like and how full the decoder's batch was: the numbers that
 * tell a realistic workload (summaries ending at varied lengths) from the worst case (all at the cap),
 * and static batching (rows drop out as articles end, the call runs on until its longest summary is
 * done) from continuous batching (new articles take the freed rows).
 */
import { percentile, sum } from "./stats.js";

export interface LengthStats {
  /** Summaries whose exact length is known. */
  summaries: number;
  mean: number;
  p10: number;
  p50: number;
  p90: number;
  max: number;
  /** Shares of the summaries shorter than 50 tokens and longer than 110. */
  share_under_50: number;
  share_over_110: number;
  /** Summaries that ran to the length limit (no end token before it). */
  at_cap: number;
}

/** Generated-token counts (decoder start token excluded) -> their distribution; undefined when none. */
export function lengthStats(lengths: readonly number[], maxLength: number): LengthStats | undefined {
  if (lengths.length === 0) return undefined;
  return {
    summaries: lengths.length,
    mean: sum(lengths) / lengths.length,
    p10: percentile(lengths, 10),
    p50: percentile(lengths, 50),
    p90: percentile(lengths, 90),
    max: Math.max(...lengths),
    share_under_50: lengths.filter((n) => n < 50).length / lengths.length,
    share_over_110: lengths.filter((n) => n > 110).length / lengths.length,
    // maxLength counts the decoder start token, so a summary at the limit has maxLength - 1 generated tokens.
    at_cap: lengths.filter((n) => n >= maxLength - 1).length,
  };
}

export interface DecoderRows {
  /** Decoder steps run in the phase (one step advances every row of the running batch by a token). */
  steps: number;
  /** Mean rows (beams) per step: the timing's rowSteps / steps. Absent where the engine does not count rows. */
  rows_per_step_mean?: number;
  /** 10th percentile of rows per step, from a per-step histogram where the engine keeps one. */
  rows_per_step_p10?: number;
}

/**
 * Reads the summariser's generation timing (differences over the phase): `steps`, and where present
 * `rowSteps` (sum over steps of the rows each ran) and `rowsHistogram` (index r = steps that ran r rows).
 */
export function decoderRows(timing: Readonly<Record<string, unknown>> | undefined): DecoderRows | undefined {
  const steps = timing?.["steps"];
  if (typeof steps !== "number") return undefined;
  const rows: DecoderRows = { steps };
  const rowSteps = timing?.["rowSteps"];
  if (typeof rowSteps === "number" && steps > 0) rows.rows_per_step_mean = rowSteps / steps;
  const histogram = timing?.["rowsHistogram"];
  if (Array.isArray(histogram) && histogram.every((n) => typeof n === "number")) {
    const p10 = histogramPercentile(histogram as number[], 10);
    if (p10 !== undefined) rows.rows_per_step_p10 = p10;
  }
  return rows;
}

/**
 * The q-th percentile of values given as counts (index = value): the smallest value whose cumulative
 * count reaches q% of the total (nearest rank). Undefined for an empty histogram.
 */
export function histogramPercentile(counts: readonly number[], q: number): number | undefined {
  const total = sum(counts);
  if (total <= 0) return undefined;
  const rank = Math.max(1, Math.ceil((q / 100) * total));
  let seen = 0;
  for (let value = 0; value < counts.length; value++) {
    seen += counts[value]!;
    if (seen >= rank) return value;
  }
  return counts.length - 1;
}
