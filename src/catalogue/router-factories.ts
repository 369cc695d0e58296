/**
 * How the built-in routers are made from a run's settings and experts: the catalogue's router
 * entries call these. (Formerly the name switch of engine/create-router.ts.)
 */
import type { ExpertRegistry } from "../core/registry.js";
import type { Router } from "../core/router.js";
import { GateFileError, loadGate, type GateModel } from "../learned-gate/gate-file.js";
import { LearnedRouter } from "../learned-gate/learned-router.js";
import { expertNamesIn, loadRulesConfig, RulesConfigError, type RulesConfig } from "../routing/rules-config.js";
import { RulesRouter } from "../routing/rules-router.js";
import type { RouterSettings, RouterSetup } from "./entries.js";

/** The "rules" router was asked for without rules. */
export class RulesRequiredError extends RulesConfigError {
  constructor() {
    super("the rules router needs rules (a file or a parsed config)");
    this.name = "RulesRequiredError";
  }
}

/** A rules router over `rules` (a file or a parsed config), whose experts must all be registered. */
export async function rulesRouter(rules: string | RulesConfig | undefined, registry: ExpertRegistry, name: string): Promise<Router> {
  if (rules === undefined) throw new RulesRequiredError();
  const config = typeof rules === "string" ? await loadRulesConfig(rules) : rules;
  const source = typeof rules === "string" ? rules : "rules";
  const unknown = expertNamesIn(config).filter((expert) => !registry.has(expert));
  if (unknown.length > 0) {
    throw new RulesConfigError(`${source}: names unknown experts: ${unknown.join(", ")} (registered: ${registry.names().join(", ")})`);
  }
  return new RulesRouter(config, name);
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

/** The learned router over a gate whose experts this registry has; the budget caps the costly experts. */
export async function learnedRouter(settings: RouterSettings, setup: RouterSetup): Promise<Router> {
  const { registry } = setup;
  if (settings.gate === undefined) throw new GateFileError("the learned router needs a trained gate: --gate GATE.json (made by news-moe gate train)");
  const gate = typeof settings.gate === "string" ? await loadGate(settings.gate) : settings.gate;
  const source = typeof settings.gate === "string" ? settings.gate : "gate";
  const unknown = Object.values(gate.tasks).flatMap((t) => t.classes).filter((c): c is string => c !== null && !registry.has(c));
  if (unknown.length > 0) {
    throw new GateFileError(`${source}: was trained for experts this run does not have: ${unknown.join(", ")} (registered: ${registry.names().join(", ")})`);
  }
  checkGateAgainstSelection(source, gate, registry, setup.experts);
  const budget = settings.budget;
  if (budget !== undefined && !(budget >= 0 && budget <= 1)) throw new GateFileError(`budget must be between 0 and 1, got ${budget}`);
  return new LearnedRouter(gate, { costly: setup.costly, ...(budget !== undefined ? { budget } : {}) });
}
