/**
 * Token identity between a system's summary and the baseline's: the bench's check that news-moe fp32
 * produces the Python pipeline's tokens, article by article.
 */
import type { TokenComparison } from "./types.js";

export function compareTokens(ids: readonly number[], baseline: readonly number[]): TokenComparison {
  const shorter = Math.min(ids.length, baseline.length);
  for (let i = 0; i < shorter; i++) {
    if (ids[i] !== baseline[i]) {
      return { identical: false, first_difference: i, length: ids.length, baseline_length: baseline.length };
    }
  }
  if (ids.length !== baseline.length) {
    return { identical: false, first_difference: shorter, length: ids.length, baseline_length: baseline.length };
  }
  return { identical: true, length: ids.length, baseline_length: baseline.length };
}

export interface IdentityTally {
  identical: number;
  /** Articles compared (both systems have exact token ids for them). */
  compared: number;
  /** Articles of the set where one side has no exact ids (an error, or ids unknown). */
  not_compared: number;
}

export function tallyIdentity(comparisons: ReadonlyArray<TokenComparison | undefined>): IdentityTally {
  let identical = 0;
  let compared = 0;
  let notCompared = 0;
  for (const c of comparisons) {
    if (!c) notCompared++;
    else {
      compared++;
      if (c.identical) identical++;
    }
  }
  return { identical, compared, not_compared: notCompared };
}

/**
 * One row of a batched `generate` output as a lone call would return it: batch rows are padded to a
 * common length after their EOS, a single row is not. Cuts after the first EOS that follows the
 * decoder start token (BART's start token is itself the EOS id, hence "after position 0").
 */
export function unpadSequence(ids: readonly number[], eosTokenId: number): number[] {
  for (let i = 1; i < ids.length; i++) if (ids[i] === eosTokenId) return ids.slice(0, i + 1);
  return [...ids];
}
