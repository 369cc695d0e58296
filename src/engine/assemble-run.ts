/**
 * The one place a run is put together from the catalogue: its experts (the registry), the selection,
 * its router, its sinks and its journal. `run()` calls it for every front end (analyze, serve,
 * worker, the library); `collect`, which writes stored records without running the engine, takes
 * its output sink from {@link outputSinks}, the same function a run's output comes from.
 */
import { builtInCatalogue, type ExpertSettings } from "../catalogue/catalogue.js";
import { UnknownRouterError, type Catalogue } from "../catalogue/entries.js";
import type { ExpertRegistry } from "../core/registry.js";
import type { Router } from "../core/router.js";
import type { Sink } from "../core/sink.js";
import type { NeuralSentimentOptions, NeuralSummarizerOptions } from "../experts/neural/index.js";
import { NEURAL_SENTIMENT_NAME, NEURAL_SUMMARIZER_NAME } from "../experts/neural/index.js";
import type { OutputFormat } from "../io/output-writer.js";
import type { GateModel } from "../learned-gate/gate-file.js";
import type { RulesConfig } from "../routing/rules-config.js";
import { JournalSink } from "../sinks/journal-sink.js";
import { routerSetup } from "./create-router.js";
import { selectExperts } from "./expert-selection.js";

/** The built-in experts' options in the library's older form, one object per neural expert. */
export interface DefaultRegistryOptions {
  summarizer?: Partial<NeuralSummarizerOptions>;
  sentiment?: Partial<NeuralSentimentOptions>;
}

/** Where a run's records go: a file (`-`: stdout as JSON Lines). */
export interface RunOutput {
  path: string;
  format: OutputFormat;
}

export interface RunSpec extends DefaultRegistryOptions {
  /** Experts, routers and sinks to choose from (default: the built-in catalogue). */
  catalogue?: Catalogue;
  /** Experts with their models, made by the caller (default: made here from the catalogue and `settings`). */
  registry?: ExpertRegistry;
  /** The experts' settings by their one name (the CLI's flags): `summaryMemoryMib`, `dtype`... */
  settings?: ExpertSettings;
  /** Expert names, tasks or groups; default every expert. */
  experts?: readonly string[];
  /** A router's name or a Router; default: implied by `gate` (learned) or `rules` (rules), else "auto". */
  router?: string | Router;
  /** Routers besides the catalogue's, selectable by name (the library's older plugin form). */
  routers?: ReadonlyMap<string, Router>;
  rules?: string | RulesConfig;
  gate?: string | GateModel;
  budget?: number;
  /** The front end's output; with it, a plugin's sinks receive every record too. */
  output?: RunOutput;
  /** Sinks the caller made (the server's requests, a queue collector, the library's). */
  sinks?: readonly Sink[];
  /** Crash safety: a journal at `path` (see JournalSink). */
  journal?: { path: string; resume: boolean; overwrite: boolean; input: string; itemFingerprint: (index: number) => string | undefined };
}

export interface AssembledRun {
  registry: ExpertRegistry;
  /** The registry was made here, so the run releases its models when it ends. */
  ownsRegistry: boolean;
  /** The selected experts' names. */
  experts: string[];
  router: Router;
  /** Every sink, the journal first. */
  sinks: Sink[];
  journal: JournalSink | undefined;
}

/** The router a run's settings imply: `gate` means learned, `rules` means rules, otherwise auto. */
export function impliedRouter(spec: Pick<RunSpec, "router" | "gate" | "rules">): string | Router {
  return spec.router ?? (spec.gate ? "learned" : spec.rules ? "rules" : "auto");
}

/**
 * The older per-expert options as per-expert settings: generation limits and the decoder-state
 * budget under their one names (`maxLength`, `summaryMemoryMib`), the rest as they are.
 */
function legacySettings(spec: DefaultRegistryOptions): Record<string, Record<string, unknown>> {
  const { generation, stateMemoryMib, ...summarizer } = spec.summarizer ?? {};
  return {
    [NEURAL_SUMMARIZER_NAME]: { ...summarizer, ...generation, ...(stateMemoryMib !== undefined && summarizer.summaryMemoryMib === undefined ? { summaryMemoryMib: stateMemoryMib } : {}) },
    [NEURAL_SENTIMENT_NAME]: { ...spec.sentiment },
  };
}

/** The registry of a catalogue's experts: `settings` for all of them, the older per-expert options over those. */
export function createRegistry(catalogue: Catalogue, spec: Pick<RunSpec, "settings" | "summarizer" | "sentiment"> = {}): ExpertRegistry {
  return catalogue.createRegistry(spec.settings ?? {}, legacySettings(spec));
}

/** The built-in experts, with the older per-expert options (the library's `createDefaultRegistry`). */
export function createDefaultRegistry(options: DefaultRegistryOptions = {}): ExpertRegistry {
  return createRegistry(builtInCatalogue(), options);
}

/** The sinks of a front end's output: the file or stdout, and (for a run) every plugin sink. */
export function outputSinks(catalogue: Catalogue, output: RunOutput, { plugins = true }: { plugins?: boolean } = {}): Sink[] {
  const primary = output.path === "-" ? catalogue.createSink("stream", { stream: process.stdout }) : catalogue.createSink("file", { ...output });
  const pluginSinks = plugins ? catalogue.sinks().filter((entry) => entry.everyRun) : [];
  return [primary, ...pluginSinks.map((entry) => catalogue.createSink(entry.name, {}))];
}

async function makeRouter(spec: RunSpec, catalogue: Catalogue, registry: ExpertRegistry, experts: readonly string[]): Promise<Router> {
  const choice = impliedRouter(spec);
  if (typeof choice !== "string") return choice;
  const given = spec.routers?.get(choice);
  if (given) return given;
  const names = catalogue.routers().map((entry) => entry.name);
  // The message names every router the caller could have chosen, its own ones too.
  if (!names.includes(choice)) throw new UnknownRouterError(choice, [...names, ...(spec.routers?.keys() ?? [])]);
  return catalogue.router(choice).create({ rules: spec.rules, gate: spec.gate, budget: spec.budget }, routerSetup(catalogue, registry, experts));
}

/** Puts a run together: registry, selected experts, router, then its sinks with the journal first. */
export async function assembleRun(spec: RunSpec): Promise<AssembledRun> {
  const catalogue = spec.catalogue ?? builtInCatalogue();
  const registry = spec.registry ?? createRegistry(catalogue, spec);
  const experts = selectExperts(registry, spec.experts, catalogue.groups());
  const router = await makeRouter(spec, catalogue, registry, experts);
  const journal = spec.journal ? catalogue.createSink("journal", { ...spec.journal }) : undefined;
  if (journal !== undefined && !(journal instanceof JournalSink)) throw new Error("the catalogue's journal sink must be a JournalSink (the run resumes from it)");
  const sinks = [...(journal ? [journal] : []), ...(spec.output ? outputSinks(catalogue, spec.output) : []), ...(spec.sinks ?? [])];
  return { registry, ownsRegistry: spec.registry === undefined, experts, router, sinks, journal };
}
