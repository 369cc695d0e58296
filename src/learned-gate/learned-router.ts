import type { Task } from "../core/expert.js";
import type { ExpertProfile, RouteContext, RouteRequest, RoutingDecision, Router } from "../core/router.js";
import { gateWithFallback } from "../routing/fallback.js";
import type { GateCandidate } from "../routing/softmax-top-k.js";
import { extractFeatures, type GateItemFeatures } from "./gate-features.js";
import type { GateModel } from "./gate-file.js";
import { classProbabilities, explain, featureVector, mostProbable } from "./task-gate.js";

export interface LearnedRouterOptions {
  /** Most share of items (0..1) any task's costliest expert may get; default: no cap. */
  budget?: number;
  /** Experts that count as the costliest of their task (the neural ones). */
  costly: ReadonlySet<string>;
  /** Features named in each reason (default 3). */
  topFeatures?: number;
}

/** Below any probability a trained gate gives a class: experts the gate never saw, kept for fallback. */
const UNSEEN_SCORE = Math.log(1e-9);

interface Pending {
  candidates: GateCandidate[];
  skipped?: string;
  /** p(costliest expert) when the gate would send the item there. */
  need?: number;
  costly?: string;
}

/**
 * The trained gating network: boosted trees per task score each class (an expert or "skip"), and
 * the calibrated log-probabilities go through the same softmax/top-k gate as the rules, so the
 * weights are the model's probabilities renormalised over the available experts. With a budget,
 * each task's costliest expert gets at most that share of the items seen so far (a running count
 * across batches), the items with the highest need first; the rest go to the next expert.
 */
export class LearnedRouter implements Router {
  readonly name = "learned";
  readonly maxBatchSize = 64;
  private readonly seen = new Map<Task, number>();
  private readonly sent = new Map<Task, number>();

  constructor(
    readonly gate: GateModel,
    readonly options: LearnedRouterOptions,
  ) {}

  async route(batch: readonly RouteRequest[], context: RouteContext): Promise<Array<RoutingDecision | Error>> {
    const byTask = new Map<Task, ExpertProfile[]>();
    for (const expert of context.experts) byTask.set(expert.task, [...(byTask.get(expert.task) ?? []), expert]);
    const top = this.options.topFeatures ?? 3;
    const pending: Array<Map<Task, Pending> | Error> = batch.map(({ item }) => {
      try {
        const x = extractFeatures(item, this.gate.features);
        const perTask = new Map<Task, Pending>();
        for (const [task, profiles] of byTask) perTask.set(task, this.score(task, profiles, x, top));
        return perTask;
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    });
    if (this.options.budget !== undefined) this.applyBudget(pending, this.options.budget, batch.length);

    return pending.map((perTask) => {
      if (perTask instanceof Error) return perTask;
      const candidates: GateCandidate[] = [];
      const skipped: Array<{ task: Task; reason: string }> = [];
      for (const [task, p] of perTask) {
        if (p.skipped !== undefined) skipped.push({ task, reason: p.skipped });
        else candidates.push(...p.candidates);
      }
      const decision: RoutingDecision = {
        router: this.name,
        experts: gateWithFallback(candidates, context.experts, { topK: () => 1 }, context.onFallback),
      };
      if (skipped.length > 0) decision.skipped = skipped;
      return decision;
    });
  }

  private score(task: Task, profiles: readonly ExpertProfile[], x: GateItemFeatures, top: number): Pending {
    const taskGate = this.gate.tasks[task];
    if (!taskGate) {
      // A task the gate was not trained for: its first expert, as registered.
      return { candidates: profiles.map((p) => ({ expert: p.name, task, score: 0, reason: `learned gate: no model for task "${task}"; first registered expert` })) };
    }
    const vector = featureVector(taskGate, x);
    const p = classProbabilities(taskGate, vector);
    const best = mostProbable(p);
    const why = (k: number) => `learned gate: P(${taskGate.classes[k] ?? "skip"})=${(p[k] as number).toFixed(2)}; top features: ${explain(taskGate, vector, k, top, k !== best)}`;
    if (taskGate.classes[best] === null) return { candidates: [], skipped: why(best) };
    const candidates = profiles.map((profile) => {
      const k = taskGate.classes.indexOf(profile.name);
      return k < 0
        ? { expert: profile.name, task, score: UNSEEN_SCORE, reason: `learned gate: ${profile.name} is not one of the gate's classes` }
        : { expert: profile.name, task, score: Math.log(Math.max(p[k] as number, 1e-300)), reason: why(k) };
    });
    const chosen = taskGate.classes[best] as string;
    return this.options.costly.has(chosen) ? { candidates, need: p[best] as number, costly: chosen } : { candidates };
  }

  /** Per task: the costliest expert keeps the neediest items up to the running budget; the others lose it. */
  private applyBudget(pending: Array<Map<Task, Pending> | Error>, budget: number, batchSize: number): void {
    const tasks = new Set<Task>();
    for (const perTask of pending) if (!(perTask instanceof Error)) for (const task of perTask.keys()) tasks.add(task);
    for (const task of tasks) {
      const seen = (this.seen.get(task) ?? 0) + batchSize;
      const sent = this.sent.get(task) ?? 0;
      const allowed = Math.max(0, Math.floor(budget * seen + 1e-9) - sent);
      const contenders = pending
        .flatMap((perTask, index) => (perTask instanceof Error ? [] : [{ p: perTask.get(task), index }]))
        .filter((c): c is { p: Pending; index: number } => c.p?.need !== undefined)
        .sort((a, b) => (b.p.need as number) - (a.p.need as number) || a.index - b.index);
      contenders.slice(allowed).forEach(({ p }) => {
        const why = `budget: ${p.costly} is capped at ${Math.round(budget * 100)}% of items and needier items took it (need ${(p.need as number).toFixed(2)})`;
        for (const c of p.candidates) {
          if (c.expert === p.costly) c.score = -Infinity;
          else c.reason = `${why}; ${c.reason}`;
        }
        if (p.candidates.every((c) => c.score === -Infinity)) p.skipped = why;
      });
      this.seen.set(task, seen);
      this.sent.set(task, sent + Math.min(allowed, contenders.length));
    }
  }
}
