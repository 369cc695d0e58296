import type { ExpertOutput, SentimentLabel, Task } from "./expert.js";

export interface Contribution {
  expert: string;
  weight: number;
  output: ExpertOutput;
}

/** Combines the outputs of several experts of one task into one, by gate weight. */
export type Combiner = (contributions: readonly Contribution[]) => ExpertOutput;

function normalisedWeights(contributions: readonly Contribution[]): number[] {
  const total = contributions.reduce((sum, c) => sum + c.weight, 0);
  return contributions.map((c) => (total > 0 ? c.weight / total : 1 / contributions.length));
}

function weightsByExpert(contributions: readonly Contribution[], weights: readonly number[]): Record<string, number> {
  return Object.fromEntries(contributions.map((c, i) => [c.expert, weights[i] ?? 0]));
}

const SENTIMENT_CLASSES: readonly SentimentLabel[] = ["NEGATIVE", "NEUTRAL", "POSITIVE"];

/**
 * Sentiment mixture: the weighted average of the experts' class probabilities (a class an expert
 * does not know counts as 0 for it), label = argmax, score = that class's averaged probability.
 */
export const combineSentiment: Combiner = (contributions) => {
  const weights = normalisedWeights(contributions);
  const mixed: Record<SentimentLabel, number> = { NEGATIVE: 0, NEUTRAL: 0, POSITIVE: 0 };
  contributions.forEach((contribution, i) => {
    const probabilities = contribution.output.probabilities;
    if (typeof probabilities !== "object" || probabilities === null) {
      throw new Error(`${contribution.expert} gave no class probabilities to mix`);
    }
    for (const label of SENTIMENT_CLASSES) {
      const p = (probabilities as Record<string, unknown>)[label];
      if (typeof p === "number") mixed[label] += (weights[i] ?? 0) * p;
    }
  });
  let label: SentimentLabel = "NEUTRAL";
  for (const candidate of SENTIMENT_CLASSES) if (mixed[candidate] > mixed[label]) label = candidate;
  return {
    sentiment_label: label,
    sentiment_score: mixed[label],
    probabilities: mixed,
    weights: weightsByExpert(contributions, weights),
  };
};

/**
 * Text outputs cannot be averaged: the mixture takes the output of the highest-weighted expert
 * (ties go to the first chosen) and records every weight so the choice is explained.
 */
export const selectHeaviest: Combiner = (contributions) => {
  const weights = normalisedWeights(contributions);
  let best = 0;
  weights.forEach((w, i) => {
    if (w > (weights[best] ?? 0)) best = i;
  });
  const winner = contributions[best];
  if (!winner) throw new Error("nothing to combine");
  return { ...winner.output, selected: winner.expert, weights: weightsByExpert(contributions, weights) };
};

export class CombinerRegistry {
  private readonly combiners = new Map<Task, Combiner>([
    ["sentiment", combineSentiment],
    ["summarization", selectHeaviest],
  ]);

  set(task: Task, combiner: Combiner): this {
    this.combiners.set(task, combiner);
    return this;
  }

  /** Unknown tasks mix by taking the heaviest expert's output. */
  get(task: Task): Combiner {
    return this.combiners.get(task) ?? selectHeaviest;
  }
}
