import type { Task } from "../core/expert.js";
import type { RouteChoice } from "../core/router.js";

export interface GateCandidate {
  expert: string;
  task: Task;
  /** Gate logit; -Infinity means not eligible. */
  score: number;
  reason: string;
}

export interface GateOptions {
  /** How many experts each task keeps (default 1). */
  topK: (task: Task) => number;
  /** Softmax temperature; lower sharpens the weights (default 1). */
  temperature?: number;
}

/**
 * The sparse-MoE gate, per task: softmax over the candidates' scores, keep the top k, renormalise
 * the kept probabilities to sum to 1. Ties keep candidate order, which is registration order, so the
 * preferred expert wins a tie. Candidates with a -Infinity score never pass.
 */
export function softmaxTopK(candidates: readonly GateCandidate[], options: GateOptions): RouteChoice[] {
  const temperature = options.temperature ?? 1;
  if (!(temperature > 0)) throw new Error(`gate temperature must be > 0, got ${temperature}`);
  const byTask = new Map<Task, GateCandidate[]>();
  for (const candidate of candidates) {
    if (candidate.score === -Infinity) continue;
    const group = byTask.get(candidate.task) ?? [];
    group.push(candidate);
    byTask.set(candidate.task, group);
  }
  const chosen: RouteChoice[] = [];
  for (const [task, group] of byTask) {
    const k = Math.max(0, Math.floor(options.topK(task)));
    if (k === 0) continue;
    const maxScore = Math.max(...group.map((c) => c.score));
    const exps = group.map((c) => Math.exp((c.score - maxScore) / temperature));
    const total = exps.reduce((a, b) => a + b, 0);
    const ranked = group
      .map((candidate, order) => ({ candidate, order, probability: (exps[order] ?? 0) / total }))
      .sort((a, b) => b.probability - a.probability || a.order - b.order)
      .slice(0, k);
    const keptMass = ranked.reduce((sum, r) => sum + r.probability, 0);
    for (const { candidate, probability } of ranked) {
      chosen.push({
        expert: candidate.expert,
        task,
        weight: keptMass > 0 ? probability / keptMass : 1 / ranked.length,
        reason: candidate.reason,
      });
    }
  }
  return chosen;
}
