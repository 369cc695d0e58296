import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { builtInCatalogue, type EngineSettings } from "../catalogue/catalogue.js";
import type { Catalogue } from "../catalogue/entries.js";
import type { Task } from "../core/expert.js";
import type { ExpertRegistry } from "../core/registry.js";
import { createRegistry } from "../engine/assemble-run.js";
import { selectExperts } from "../engine/expert-selection.js";
import { loadPlugins, type LoadedPlugins } from "../engine/plugins.js";
import type { RunOptions } from "../engine/run.js";
import { UsageError } from "./exit-codes.js";
import { settingOptions } from "./setting-flags.js";

/**
 * The options that decide what the engine does to each item (experts, router, models, cleaning),
 * shared by every front end that runs it (`analyze`, `serve`, `worker`), so each reads the same
 * words the same way and a server or queue worker analyses exactly as `analyze` does for the same
 * flags. They are the catalogue's settings (catalogue/catalogue.ts), each under its one name, plus
 * any a plugin's entries add. `--concurrency` is not among them: it means expert batches for
 * `analyze` and `serve` but jobs for `worker`, so each command declares its own.
 */
export type EngineFlags = Partial<EngineSettings> & { plugin: string[]; [setting: string]: unknown };

/** The catalogue the engine commands run on: the built-ins and what `--plugin` modules added. */
export interface EngineCatalogue {
  catalogue: Catalogue;
  plugins: LoadedPlugins;
}

/** The `--plugin` paths of a command line (`--plugin FILE` or `--plugin=FILE`, before any `--`). */
export function pluginPaths(argv: readonly string[]): string[] {
  const paths: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") break;
    if (arg === "--plugin" && i + 1 < argv.length) paths.push(argv[++i] as string);
    else if (arg.startsWith("--plugin=")) paths.push(arg.slice("--plugin=".length));
  }
  return paths;
}

/**
 * The built-in catalogue with the entries of the command line's plugins: loaded before the
 * commands are declared, so that a plugin's settings are flags with help like the built-ins'.
 */
export async function engineCatalogue(argv: readonly string[]): Promise<EngineCatalogue> {
  const catalogue = builtInCatalogue();
  const plugins = await loadPlugins(pluginPaths(argv), catalogue);
  return { catalogue, plugins };
}

export function positiveInteger(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1`);
    return n;
  };
}

/**
 * Adds the engine's options (see {@link EngineFlags}), one per setting of the catalogue, with the
 * settings' help and defaults. `dryRun: false` leaves out --dry-run, for front ends that answer
 * with analyses (serve).
 */
export function addEngineOptions(command: Command, engine: EngineCatalogue, { dryRun = true }: { dryRun?: boolean } = {}): Command {
  for (const option of settingOptions(engine.catalogue.settings(), dryRun ? [] : ["dryRun"])) command.addOption(option);
  return command;
}

/**
 * Adds --concurrency in the sense `analyze` and `serve` give it: expert batches in flight at once
 * (`worker` has its own --concurrency, jobs at once).
 */
export function addBatchConcurrencyOption(command: Command): Command {
  return command.option("--concurrency <n>", "batches each expert may run at once", positiveInteger("--concurrency"), 1);
}

/** Refuses contradictory engine flags before any model loads, for every front end alike. */
export function checkEngineFlags(flags: Pick<EngineFlags, "router" | "gate" | "budget" | "minLength" | "maxLength">): void {
  const learned = flags.router === "learned" || (flags.router === undefined && flags.gate !== undefined);
  if (flags.budget !== undefined && !learned) throw new UsageError("--budget needs the learned router: --router learned --gate GATE.json");
  if (flags.gate !== undefined && !learned) throw new UsageError(`--gate is for the learned router, not --router ${flags.router}`);
  if (flags.minLength !== undefined && flags.maxLength !== undefined && flags.minLength > flags.maxLength) {
    throw new UsageError(`--min-length ${flags.minLength} is above --max-length ${flags.maxLength}; a summary cannot be both`);
  }
}

/**
 * What the user should hear about the flags before the run, though nothing is wrong enough to
 * refuse: an expert a --plugin added that --experts leaves out would otherwise do nothing without
 * a word.
 */
function engineNotices(flags: EngineFlags, selected: ReadonlySet<string>, plugins: LoadedPlugins): string[] {
  if (!flags.experts) return [];
  return plugins.experts
    .filter((expert) => !selected.has(expert))
    .map((name) => `${name} (from --plugin) is not used: --experts ${flags.experts?.join(",")} leaves it out; add it to --experts to run it`);
}

/** The part of `run()`'s options the engine flags decide (the registry is the caller's). */
export function engineRunOptions(
  flags: EngineFlags,
  catalogue: Catalogue,
): Pick<RunOptions, "catalogue" | "experts" | "router" | "rules" | "gate" | "budget" | "dryRun" | "cleaning"> {
  return {
    catalogue,
    ...(flags.experts ? { experts: flags.experts } : {}),
    ...(flags.router ? { router: flags.router } : {}),
    ...(flags.rules ? { rules: flags.rules } : {}),
    ...(flags.gate ? { gate: flags.gate } : {}),
    ...(flags.budget !== undefined ? { budget: flags.budget } : {}),
    ...(flags.dryRun ? { dryRun: true } : {}),
    ...(flags.clean === false ? { cleaning: false as const } : {}),
  };
}

/** What a front end needs to call `run()`: experts with their models, the plugins, the options the flags decide. */
export interface PreparedEngine {
  registry: ExpertRegistry;
  plugins: LoadedPlugins;
  runOptions: ReturnType<typeof engineRunOptions>;
  /** The selected experts, in registry order. */
  selected: string[];
  /** Messages for the user (without the "news-moe: " prefix); the front end words them its way. */
  notices: string[];
  /**
   * The tasks the selected experts do: each tutorial task among them has its key in every record
   * (core/task-results.ts), also in records a front end makes without the engine (a queue item
   * given up). Empty for a dry run, whose records have no task values.
   */
  tasks: ReadonlySet<Task>;
}

/**
 * Checks the flags and builds the expert registry from the catalogue (plugins included): the one
 * way every front end sets up the engine, whether for one run (analyze) or for a long-lived process
 * that keeps its models loaded (serve, worker). Models load later, on the first `run()`.
 */
export function prepareEngine(flags: EngineFlags, { catalogue, plugins }: EngineCatalogue): PreparedEngine {
  checkEngineFlags(flags);
  // HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are read by the model store itself, so its messages name the switch the user set.
  const registry = createRegistry(catalogue, { settings: { ...flags, offlineLabel: "--offline" } });
  // The same selection run() makes; an unknown name is refused here, before any model loads.
  const selected = selectExperts(registry, flags.experts, catalogue.groups());
  return {
    registry,
    plugins,
    runOptions: engineRunOptions(flags, catalogue),
    selected,
    notices: engineNotices(flags, new Set(selected), plugins),
    tasks: new Set(flags.dryRun ? [] : selected.map((name) => registry.get(name).task)),
  };
}
