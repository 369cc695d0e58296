import type { ExpertRegistry } from "../core/registry.js";
import type { Router } from "../core/router.js";
import { AllRouter } from "../routing/all-router.js";
import { DEFAULT_RULES } from "../routing/default-rules.js";
import { expertNamesIn, loadRulesConfig, RulesConfigError, type RulesConfig } from "../routing/rules-config.js";
import { RulesRouter } from "../routing/rules-router.js";
import { EXPERT_GROUPS } from "../experts/default-registry.js";
import { GateFileError, loadGate, type GateModel } from "../learned-gate/gate-file.js";
import { LearnedRouter } from "../learned-gate/learned-router.js";

export type RouterName = "auto" | "all" | "rules" | "learned";
export const ROUTER_NAMES: readonly RouterName[] = ["auto", "all", "rules", "learned"];

/** What the "learned" router needs: a trained gate (a file or a loaded one), and an optional budget. */
export interface LearnedRouterSetup {
  gate?: string | GateModel;
  /** Most share of items each task's costliest (neural) expert may get, 0..1. */
  budget?: number;
  /**
   * The experts the run selected (default: every registered one). A gate must route each task the
   * run does among these: one trained for others (neural experts, run with --experts embedded) is
   * refused, not left to give every item to an expert that is not there.
   */
  experts?: readonly string[];
}

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
  learned: LearnedRouterSetup = {},
): Promise<Router> {
  if (typeof kind !== "string") return kind;
  if (!(ROUTER_NAMES as readonly string[]).includes(kind)) throw new UnknownRouterError(kind, [...ROUTER_NAMES, ...registered]);
  if (kind === "learned") return createLearnedRouter(registry, learned);
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

/**
 * The tasks the selected experts do must be ones the gate routes, each among selected experts
 * only (a task the run does not do at all is left alone: `--experts sentiment` with a gate for
 * both tasks routes sentiment).
 */
function checkGateAgainstSelection(source: string, gate: GateModel, registry: ExpertRegistry, selected: readonly string[]): void {
  const chosen = new Set(selected);
  const tasks = new Set(selected.map((name) => registry.get(name).task));
  const shared = Object.keys(gate.tasks).filter((task) => tasks.has(task));
  if (shared.length === 0) {
    throw new GateFileError(
      `${source}: routes ${Object.keys(gate.tasks).join(", ")}, and this run's experts (${selected.join(", ")}) do none of these tasks`,
    );
  }
  const missing = shared.flatMap((task) => (gate.tasks[task]?.classes ?? []).filter((c): c is string => c !== null && !chosen.has(c)));
  if (missing.length > 0) {
    throw new GateFileError(
      `${source}: was trained for experts this run does not have: ${missing.join(", ")} ` +
        `(this run's experts: ${selected.join(", ")}); select them with --experts, or train a gate for these`,
    );
  }
}

/** The learned router over a gate whose experts this registry has; costliest = the neural group. */
async function createLearnedRouter(registry: ExpertRegistry, setup: LearnedRouterSetup): Promise<Router> {
  if (setup.gate === undefined) throw new GateFileError("the learned router needs a trained gate: --gate GATE.json (made by news-moe gate train)");
  const gate = typeof setup.gate === "string" ? await loadGate(setup.gate) : setup.gate;
  const source = typeof setup.gate === "string" ? setup.gate : "gate";
  const unknown = Object.values(gate.tasks).flatMap((t) => t.classes).filter((c): c is string => c !== null && !registry.has(c));
  if (unknown.length > 0) {
    throw new GateFileError(`${source}: was trained for experts this run does not have: ${unknown.join(", ")} (registered: ${registry.names().join(", ")})`);
  }
  checkGateAgainstSelection(source, gate, registry, setup.experts ?? registry.names());
  const budget = setup.budget;
  if (budget !== undefined && !(budget >= 0 && budget <= 1)) throw new GateFileError(`budget must be between 0 and 1, got ${budget}`);
  return new LearnedRouter(gate, { costly: new Set(EXPERT_GROUPS["neural"] ?? []), ...(budget !== undefined ? { budget } : {}) });
}
