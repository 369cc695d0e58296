/**
 * `createRouter`, the library's way to make a built-in router by name outside a run. The routers
 * themselves are catalogue entries (catalogue/catalogue.ts); a run makes its router through
 * assembleRun (assemble-run.ts), from the same entries.
 */
import type { ExpertRegistry } from "../core/registry.js";
import type { Router } from "../core/router.js";
import { builtInCatalogue, ROUTERS } from "../catalogue/catalogue.js";
import { UnknownRouterError, type Catalogue, type RouterSetup } from "../catalogue/entries.js";
import type { GateModel } from "../learned-gate/gate-file.js";
import type { RulesConfig } from "../routing/rules-config.js";

export { RulesRequiredError } from "../catalogue/router-factories.js";
export { UnknownRouterError };

export type RouterName = "auto" | "all" | "rules" | "learned";
/** The built-in routers' names, from the catalogue. */
export const ROUTER_NAMES: readonly string[] = ROUTERS.map((router) => router.name);

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

/** What a catalogue's router entries are made with, for these experts. */
export function routerSetup(catalogue: Catalogue, registry: ExpertRegistry, experts: readonly string[]): RouterSetup {
  return { registry, experts, priors: catalogue.priors(), costly: catalogue.costly() };
}

/**
 * `auto`: the built-in rules; `rules`: the user's rules file; `all`: the tutorial's every-expert
 * routing; `learned`: a trained gate. `registered` names routers added elsewhere (by a plugin), for
 * the message about an unknown name.
 */
export async function createRouter(
  kind: RouterName | string | Router,
  registry: ExpertRegistry,
  rules?: string | RulesConfig,
  registered: readonly string[] = [],
  learned: LearnedRouterSetup = {},
): Promise<Router> {
  if (typeof kind !== "string") return kind;
  if (!ROUTER_NAMES.includes(kind)) throw new UnknownRouterError(kind, [...ROUTER_NAMES, ...registered]);
  const catalogue = builtInCatalogue();
  return catalogue
    .router(kind)
    .create({ rules, gate: learned.gate, budget: learned.budget }, routerSetup(catalogue, registry, learned.experts ?? registry.names()));
}
