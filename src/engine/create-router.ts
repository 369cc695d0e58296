import type { ExpertRegistry } from "../core/registry.js";
import { AllRouter } from "../routing/all-router.js";
import { DEFAULT_RULES } from "../routing/default-rules.js";
import { expertNamesIn, loadRulesConfig, RulesConfigError, type RulesConfig } from "../routing/rules-config.js";
import { RulesRouter } from "../routing/rules-router.js";
import type { Router } from "../routing/types.js";

export type RouterName = "auto" | "all" | "rules";
export const ROUTER_NAMES: readonly RouterName[] = ["auto", "all", "rules"];

/**
 * `auto`: the built-in rules; `rules`: the user's rules file; `all`: the tutorial's every-expert
 * routing. All three fall back around experts that cannot load.
 */
export async function createRouter(
  kind: RouterName | Router,
  registry: ExpertRegistry,
  rules?: string | RulesConfig,
): Promise<Router> {
  if (typeof kind !== "string") return kind;
  if (kind === "all") return new AllRouter();
  if (kind === "auto" && rules === undefined) return new RulesRouter(DEFAULT_RULES, "auto");
  if (rules === undefined) throw new RulesConfigError("--router rules needs a rules file: --rules FILE");
  const config = typeof rules === "string" ? await loadRulesConfig(rules) : rules;
  const source = typeof rules === "string" ? rules : "rules";
  const unknown = expertNamesIn(config).filter((name) => !registry.has(name));
  if (unknown.length > 0) {
    throw new RulesConfigError(
      `${source}: names unknown experts: ${unknown.join(", ")} (registered: ${registry.names().join(", ")})`,
    );
  }
  return new RulesRouter(config, kind);
}
