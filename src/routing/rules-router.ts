import type { Task } from "../core/expert.js";
import type { NewsItem } from "../core/news-item.js";
import { describeCondition, evaluateCondition } from "./conditions.js";
import { gateWithFallback } from "./fallback.js";
import type { GateCandidate } from "./softmax-top-k.js";
import type { RulesConfig } from "./rules-config.js";
import type { ExpertProfile, ItemFeatures, RouteContext, RouteRequest, RoutingDecision, Router } from "../core/router.js";

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/**
 * A gating network configured by declarative rules: each expert's gate score is its prior plus the
 * boosts of every matching rule; rules can also exclude experts, skip tasks or widen top-k. The gate
 * (softmax, top-k, renormalise) then picks per task. Every choice carries the arithmetic behind it.
 */
export class RulesRouter implements Router {
  constructor(
    readonly config: RulesConfig,
    readonly name: string = "rules",
  ) {}

  async route(batch: readonly RouteRequest[], context: RouteContext): Promise<Array<RoutingDecision | Error>> {
    return batch.map(({ item, features }) => {
      try {
        return this.decide(item, features, context.experts, context.onFallback);
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    });
  }

  /** The decision for one item, with the arithmetic behind every choice. */
  decide(
    item: NewsItem,
    features: ItemFeatures,
    experts: readonly ExpertProfile[],
    onFallback?: RouteContext["onFallback"],
  ): RoutingDecision {
    const matched = this.config.rules.filter((rule) => evaluateCondition(rule.when, item, features));
    const topK = new Map<Task, number>(Object.entries(this.config.topK));
    const skipped = new Map<Task, string>();
    const excluded = new Map<string, string>();
    // Which rule set each task's k, so the reason of every expert of that task can name it.
    const topKBy = new Map<Task, string>();
    for (const rule of matched) {
      for (const [task, k] of Object.entries(rule.then.topK ?? {})) {
        topK.set(task, k);
        topKBy.set(task, `rule "${rule.name}" (${describeCondition(rule.when)}) keeps ${k} ${task} expert${k === 1 ? "" : "s"}`);
      }
      for (const task of rule.then.skip ?? []) skipped.set(task, `rule "${rule.name}" (${describeCondition(rule.when)})`);
      for (const name of rule.then.exclude ?? []) excluded.set(name, rule.name);
    }

    const candidates: GateCandidate[] = [];
    for (const expert of experts) {
      if (skipped.has(expert.task)) continue;
      const prior = this.config.priors[expert.name] ?? 0;
      let score = prior;
      const parts = [`prior ${formatNumber(prior)}`];
      for (const rule of matched) {
        const boost = rule.then.boost?.[expert.name];
        if (boost !== undefined) {
          score += boost;
          parts.push(`rule "${rule.name}" (${describeCondition(rule.when)}) ${boost >= 0 ? "+" : ""}${formatNumber(boost)}`);
        }
      }
      const excludedBy = excluded.get(expert.name);
      if (excludedBy !== undefined) score = -Infinity;
      candidates.push({
        expert: expert.name,
        task: expert.task,
        score,
        reason: `${parts.join(", ")} = score ${formatNumber(score)}`,
      });
    }
    if (this.config.respectLanguages) {
      for (const [task, reason] of this.applyLanguageSupport(candidates, experts, features.language)) {
        skipped.set(task, reason);
      }
    }

    const choices = gateWithFallback(candidates.filter((c) => !skipped.has(c.task)), experts, {
      topK: (task) => topK.get(task) ?? 1,
      temperature: this.config.temperature,
    }, onFallback);
    for (const choice of choices) {
      const byRule = topKBy.get(choice.task);
      if (byRule) choice.reason += `; ${byRule}`;
    }
    const decision: RoutingDecision = { router: this.name, experts: choices };
    if (skipped.size > 0) decision.skipped = [...skipped].map(([task, reason]) => ({ task, reason }));
    return decision;
  }

  /**
   * An expert that declares languages not including the item's is made ineligible when another
   * eligible expert of its task that can run does support the language. When none that can run
   * does, the task is skipped for the item (returned with the reason): an English lexicon's verdict
   * on a German article is noise, not a weak answer. `und` (too little text to tell) never skips.
   * Rules files turn this off with `"respectLanguages": false`.
   */
  private applyLanguageSupport(
    candidates: GateCandidate[],
    experts: readonly ExpertProfile[],
    language: string,
  ): Map<Task, string> {
    const skip = new Map<Task, string>();
    if (language === "und") return skip;
    const profiles = new Map(experts.map((expert) => [expert.name, expert]));
    const supports = (name: string) => {
      const languages = profiles.get(name)?.languages;
      return languages === undefined || languages.includes(language);
    };
    const runnable = (name: string) => profiles.get(name)?.available !== false;
    const tasks = new Set(candidates.map((c) => c.task));
    for (const task of tasks) {
      const group = candidates.filter((c) => c.task === task && c.score !== -Infinity);
      if (group.length === 0) continue;
      // No expert of the task can run at all: leave it to the fallback, so the item shows the error.
      if (!group.some((c) => runnable(c.expert))) continue;
      const supported = group.filter((c) => supports(c.expert) && runnable(c.expert));
      if (supported.length === 0) {
        const declared = group.map((c) => `${c.expert}: ${profiles.get(c.expert)?.languages?.join(", ") ?? "any"}`);
        const unavailable = group.filter((c) => supports(c.expert) && !runnable(c.expert)).map((c) => c.expert);
        skip.set(
          task,
          `language "${language}" (detected) is not handled by any ${task} expert that can run ` +
            `(${declared.join("; ")})` +
            (unavailable.length > 0 ? `; ${unavailable.join(", ")} would handle it but is unavailable` : ""),
        );
        continue;
      }
      for (const c of group) {
        if (!supports(c.expert)) {
          c.score = -Infinity;
          c.reason += `; does not support language "${language}"`;
        }
      }
    }
    return skip;
  }
}
