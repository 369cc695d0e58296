import type { ExpertRegistry } from "../core/registry.js";
import type { Router } from "../core/router.js";
import { AllRouter } from "../routing/all-router.js";
import { DEFAULT_RULES } from "../routing/default-rules.js";
import { expertNamesIn, loadRulesConfig, RulesConfigError, type RulesConfig } from "../routing/rules-config.js";
import { RulesRouter } from "../routing/rules-router.js";

export type RouterName = "auto" | "all" | "rules";
export const ROUTER_NAMES: readonly RouterName[] = ["auto", "all", "rules"];

/** The "rules" router was asked for without rules. */
export class RulesRequiredError extends RulesConfigError {
  constructor() {
    super("the rules router needs rules (a file or a parsed config)");
    this.name = "RulesRequiredError";
  }
}

/** A router name that is neither built in nor registered (by a plugin). */
export class UnknownRouterError extends Error {
  constructor(
    readonly router: string,
    readonly choices: readonly string[],
  ) {
    super(`no router named "${router}"; choose from: ${choices.join(", ")}`);
    this.name = "UnknownRouterError";
  }
}

/**
 * `auto`: the built-in rules; `rules`: the user's rules file; `all`: the tutorial's every-expert
 * routing. All three fall back around experts that cannot load. `registered` names the routers a
 * plugin added, for the message about an unknown name.
 */
export async function createRouter(
  kind: RouterName | string | Router,
  registry: ExpertRegistry,
  rules?: string | RulesConfig,
  registered: readonly string[] = [],
): Promise<Router> {
  if (typeof kind !== "string") return kind;
  if (!(ROUTER_NAMES as readonly string[]).includes(kind)) throw new UnknownRouterError(kind, [...ROUTER_NAMES, ...registered]);
  if (kind === "all") return new AllRouter();
  if (kind === "auto" && rules === undefined) return new RulesRouter(DEFAULT_RULES, "auto");
  if (rules === undefined) throw new RulesRequiredError();
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
