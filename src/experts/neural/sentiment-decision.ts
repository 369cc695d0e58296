/**
 * From per-window classifier logits to one article-level sentiment.
 *
 * Each window's logits go through a softmax (what the HF text-classification pipeline applies for a
 * single-label model); the article's probabilities are the mean over windows weighted by each
 * window's text tokens (specials excluded), so every token of the article has the same say however
 * the windows fell. The label is the most probable class, unless that probability is below the
 * neutral threshold: then NEUTRAL.
 *
 * NEUTRAL and the two SST-2 classes: `probabilities` holds only the classes the model has
 * (POSITIVE and NEGATIVE, summing to 1). NEUTRAL is a decision about them, not a third probability,
 * and its `sentiment_score` runs from 1 when the model is split evenly down to 0.5 at the threshold
 * (for the default 0.75 that is 1 − |P(POSITIVE) − P(NEGATIVE)|). A mixture of experts therefore sees this
 * expert's real class probabilities, not a made-up neutral mass.
 */
import type { SentimentLabel } from "../../core/expert.js";

export interface WindowLogits {
  logits: ArrayLike<number>;
  /** Text tokens in the window (specials excluded): its weight. */
  tokens: number;
}

export interface SentimentDecision {
  label: SentimentLabel;
  score: number;
  probabilities: Partial<Record<SentimentLabel, number>>;
}

/** Numerically stable softmax, in float64. */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const exps = Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i]! - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Token-weighted mean of the windows' softmax probabilities. */
export function aggregateProbabilities(windows: readonly WindowLogits[]): number[] {
  if (windows.length === 0) throw new RangeError("no windows to aggregate");
  const classes = windows[0]!.logits.length;
  const sums = new Array<number>(classes).fill(0);
  let totalWeight = 0;
  for (const window of windows) {
    if (window.logits.length !== classes) throw new RangeError("windows disagree on the number of classes");
    // A window of specials only cannot occur (windows are non-empty), but weight ≥ 1 keeps it safe.
    const weight = Math.max(1, window.tokens);
    softmax(window.logits).forEach((p, c) => (sums[c]! += weight * p));
    totalWeight += weight;
  }
  return sums.map((s) => s / totalWeight);
}

/**
 * `labels[i]` is class i's label (config `id2label`). NEUTRAL when the top probability is below
 * `neutralThreshold`, unless the model has a NEUTRAL class of its own (then plain argmax).
 */
export function decideSentiment(
  probabilities: readonly number[],
  labels: readonly SentimentLabel[],
  neutralThreshold: number,
): SentimentDecision {
  if (probabilities.length !== labels.length) throw new RangeError("one label per class is needed");
  const byLabel: Partial<Record<SentimentLabel, number>> = {};
  labels.forEach((label, i) => (byLabel[label] = (byLabel[label] ?? 0) + probabilities[i]!));
  let top = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[top]!) top = i;
  const topLabel = labels[top]!;
  const topProbability = probabilities[top]!;
  if (labels.includes("NEUTRAL") || topProbability >= neutralThreshold) {
    return { label: topLabel, score: topProbability, probabilities: byLabel };
  }
  // NEUTRAL's confidence: 1 when the model is split evenly, 0.5 at the threshold (as unsure as the
  // boundary between NEUTRAL and a polar label), linear between. For two classes and the default
  // threshold 0.75 this is 1 − |P(POSITIVE) − P(NEGATIVE)|; unlike that formula it never falls
  // towards 0 under a high threshold (0.98 gave NEUTRAL scores of 0.04).
  const even = 1 / probabilities.length;
  const score = neutralThreshold > even ? 0.5 + (0.5 * (neutralThreshold - topProbability)) / (neutralThreshold - even) : 1;
  return { label: "NEUTRAL", score: Math.min(1, Math.max(0.5, score)), probabilities: byLabel };
}

/**
 * Maps `id2label` names onto news-moe's labels, case-insensitively ("NEGATIVE", "positive",
 * "Neutral"). Throws naming the label it cannot place: a model labelled LABEL_0/LABEL_1 says
 * nothing about which class is which.
 */
export function sentimentLabels(id2label: unknown, configPath: string): SentimentLabel[] {
  if (typeof id2label !== "object" || id2label === null) {
    throw new Error(`${configPath} has no id2label table; a sentiment model must name its classes`);
  }
  const entries = Object.entries(id2label as Record<string, unknown>)
    .map(([id, name]) => [Number(id), name] as const)
    .sort((a, b) => a[0] - b[0]);
  return entries.map(([id, name], index) => {
    if (id !== index) throw new Error(`${configPath}: id2label ids must be 0..n-1, got ${entries.map(([i]) => i).join(", ")}`);
    const upper = typeof name === "string" ? name.trim().toUpperCase() : "";
    if (upper === "POSITIVE" || upper === "NEGATIVE" || upper === "NEUTRAL") return upper;
    throw new Error(
      `${configPath}: class ${id} is labelled ${JSON.stringify(name)}; a sentiment model's id2label must use POSITIVE, NEGATIVE (and optionally NEUTRAL)`,
    );
  });
}
