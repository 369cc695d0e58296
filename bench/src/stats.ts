/**
 * The report's arithmetic, kept apart from timing and I/O so it can be tested on hand-made numbers.
 */

/**
 * The q-th percentile (0..100) with linear interpolation between closest ranks (NumPy's default,
 * "linear"): p50 of [1, 2, 3, 4] is 2.5. NaN for an empty list.
 */
export function percentile(values: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile: q must be in [0, 100], got ${q}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (q / 100) * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const fraction = position - below;
  return sorted[below]! + (sorted[above]! - sorted[below]!) * fraction;
}

/** `count / seconds`, or NaN when nothing was timed. */
export function rate(count: number, seconds: number): number {
  return seconds > 0 ? count / seconds : Number.NaN;
}

/** How many times faster `value` is than `baseline` (both rates); NaN when either is unknown. */
export function speedup(value: number, baseline: number): number {
  return Number.isFinite(value) && Number.isFinite(baseline) && baseline > 0 ? value / baseline : Number.NaN;
}

export function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
