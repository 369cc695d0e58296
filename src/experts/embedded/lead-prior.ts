/**
 * The lead prior for news: the first sentences of a news article carry most of its information
 * (the "inverted pyramid"), so PageRank teleports to early sentences more often.
 *
 *     p_i = (1 − λ)/n + λ · (1/(i + 1)) / H_n        (H_n = 1 + 1/2 + … + 1/n)
 *
 * λ = leadBias ∈ [0, 1]: 0 is plain TextRank (uniform teleport), 1 is a pure harmonic decay in which
 * the first sentence is twice as likely as the second and three times the third.
 */
export function leadPrior(n: number, leadBias: number): Float64Array {
  return leadPriorAt(Array.from({ length: n }, (_, i) => i), leadBias);
}

/**
 * The same prior over a subset of an article's sentences, given their positions in the article
 * (0 = first sentence): decay follows the article's order, not the subset's, and H sums over the
 * subset so the result still sums to 1.
 */
export function leadPriorAt(positions: readonly number[], leadBias: number): Float64Array {
  const n = positions.length;
  const prior = new Float64Array(n);
  if (n === 0) return prior;
  let harmonic = 0;
  for (const position of positions) harmonic += 1 / (position + 1);
  positions.forEach((position, i) => {
    prior[i] = (1 - leadBias) / n + (leadBias * (1 / (position + 1))) / harmonic;
  });
  return prior;
}
