import { gateWithFallback } from "./fallback.js";
import type { ExpertProfile, ItemFeatures, RouteContext, RouteRequest, RoutingDecision, Router } from "../core/router.js";
import type { NewsItem } from "../core/news-item.js";

/**
 * The tutorial's gating: every active expert runs on every item. Experts sharing a task get equal
 * weights (so their outputs are mixed evenly); an expert that cannot load is dropped in favour of the
 * others of its task.
 */
export class AllRouter implements Router {
  readonly name = "all";

  async route(batch: readonly RouteRequest[], context: RouteContext): Promise<RoutingDecision[]> {
    return batch.map(({ item, features }) => this.decide(item, features, context.experts, context.onFallback));
  }

  /** The decision for one item. */
  decide(
    _item: NewsItem,
    _features: ItemFeatures,
    experts: readonly ExpertProfile[],
    onFallback?: RouteContext["onFallback"],
  ): RoutingDecision {
    const perTask = new Map<string, number>();
    for (const expert of experts) perTask.set(expert.task, (perTask.get(expert.task) ?? 0) + 1);
    const candidates = experts.map((expert) => ({
      expert: expert.name,
      task: expert.task,
      score: 0,
      reason: "router 'all': every active expert runs",
    }));
    return {
      router: this.name,
      experts: gateWithFallback(candidates, experts, { topK: (task) => perTask.get(task) ?? 0 }, onFallback),
    };
  }
}
