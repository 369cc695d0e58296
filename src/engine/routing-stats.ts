import type { AnalysisRecord } from "../core/analysis-record.js";

export interface ExpertRoutingStats {
  /** Items the gate sent to this expert. */
  activations: number;
  /** activations / routed items. */
  share: number;
  /** Mean gate weight over its activations. */
  mean_weight: number;
  /** Activations where it stood in for an unavailable expert. */
  fallbacks: number;
}

export interface RoutingStatsJson {
  router: string | null;
  /** Items with a routing decision (invalid items have none). */
  routed: number;
  experts: Record<string, ExpertRoutingStats>;
  /** Tasks deliberately not run, per task. */
  skipped: Record<string, number>;
  fallbacks: number;
  /** Per expert that could not run: the items whose routing fell back around it (what each fallback stood in for). */
  unavailable: Record<string, number>;
  /** Items the gate gave to an expert but a budget sent elsewhere (learned router). */
  budget_redirects: number;
}

/**
 * The experts a choice's reason says were unavailable: `fallback: A is unavailable (...); B is
 * unavailable (...); <the gate's reason>`, as routing/fallback.ts writes it.
 */
function unavailableIn(reason: string): string[] {
  if (!reason.startsWith("fallback: ")) return [];
  return [...reason.matchAll(/(?:^fallback: |; )([\w.-]+) is unavailable \(/g)].map((m) => m[1] as string);
}

/** Routing statistics of a run, whatever the router, from the records' routing decisions. */
export class RoutingStats {
  private router: string | null = null;
  private routed = 0;
  private readonly experts = new Map<string, { activations: number; weight: number; fallbacks: number }>();
  private readonly skipped = new Map<string, number>();
  private fallbacks = 0;
  private readonly unavailable = new Map<string, number>();
  private budgetRedirects = 0;

  add(record: AnalysisRecord): void {
    const routing = record.routing;
    if (!routing) return;
    this.router ??= routing.router;
    this.routed++;
    for (const choice of routing.experts) {
      const s = this.experts.get(choice.expert) ?? { activations: 0, weight: 0, fallbacks: 0 };
      s.activations++;
      s.weight += choice.weight;
      if (choice.reason.startsWith("fallback: ")) {
        s.fallbacks++;
        this.fallbacks++;
      }
      if (choice.reason.startsWith("budget: ")) this.budgetRedirects++;
      this.experts.set(choice.expert, s);
    }
    for (const { task } of routing.skipped ?? []) this.skipped.set(task, (this.skipped.get(task) ?? 0) + 1);
    const missing = new Set<string>();
    for (const choice of routing.experts) for (const expert of unavailableIn(choice.reason)) missing.add(expert);
    for (const expert of missing) this.unavailable.set(expert, (this.unavailable.get(expert) ?? 0) + 1);
  }

  toJSON(): RoutingStatsJson {
    const round = (x: number) => Math.round(x * 10000) / 10000;
    const experts: Record<string, ExpertRoutingStats> = {};
    for (const [name, s] of [...this.experts].sort(([a], [b]) => (a < b ? -1 : 1))) {
      experts[name] = {
        activations: s.activations,
        share: this.routed ? round(s.activations / this.routed) : 0,
        mean_weight: round(s.weight / s.activations),
        fallbacks: s.fallbacks,
      };
    }
    return {
      router: this.router,
      routed: this.routed,
      experts,
      skipped: Object.fromEntries([...this.skipped].sort(([a], [b]) => (a < b ? -1 : 1))),
      fallbacks: this.fallbacks,
      unavailable: Object.fromEntries([...this.unavailable].sort(([a], [b]) => (a < b ? -1 : 1))),
      budget_redirects: this.budgetRedirects,
    };
  }

  /** One line for the run's summary. */
  describe(): string {
    const s = this.toJSON();
    const experts = Object.entries(s.experts).map(
      ([name, e]) => `${name} ${e.activations} (${(e.share * 100).toFixed(1)}%, mean weight ${e.mean_weight.toFixed(2)})`,
    );
    const skipped = Object.entries(s.skipped).map(([task, n]) => `${task} ${n}`);
    return (
      `routing (${s.router ?? "none"}, ${s.routed} items): ${experts.join(", ") || "no expert"}` +
      (skipped.length ? `; skipped ${skipped.join(", ")}` : "") +
      `; ${s.fallbacks} fallbacks` +
      (Object.keys(s.unavailable).length
        ? ` (${Object.entries(s.unavailable).map(([expert, n]) => `${expert} unavailable for ${n} items`).join(", ")})`
        : "") +
      (s.budget_redirects ? `; ${s.budget_redirects} sent elsewhere by the budget` : "")
    );
  }
}
