import { type Command, InvalidArgumentError, Option } from "commander";
import { ROUTER_NAMES } from "../engine/create-router.js";
import { loadPlugins, type LoadedPlugins } from "../engine/plugins.js";
import type { RunOptions } from "../engine/run.js";
import type { Task } from "../core/expert.js";
import type { ExpertRegistry } from "../core/registry.js";
import { selectExperts } from "../engine/expert-selection.js";
import { createDefaultRegistry, EXPERT_GROUPS, type DefaultRegistryOptions } from "../experts/default-registry.js";
import { DEFAULT_NEUTRAL_THRESHOLD, DEFAULT_SUMMARY_STATE_MIB, TUTORIAL_MAX_LENGTH, TUTORIAL_MIN_LENGTH } from "../experts/neural/index.js";
import { UsageError } from "./exit-codes.js";
import { SUMMARY_BATCHING_MODES, type SummaryBatching } from "../experts/neural/options.js";

/**
 * The options that decide what the engine does to each item (experts, router, models, cleaning),
 * shared by every front end that runs it (`analyze`, `serve`, `worker`), so each reads the same
 * words the same way and a server or queue worker analyses exactly as `analyze` does for the same
 * flags. `--concurrency` is not among them: it means expert batches for `analyze` and `serve` but
 * jobs for `worker`, so each command declares its own.
 */
export interface EngineFlags {
  router?: string;
  rules?: string;
  gate?: string;
  budget?: number;
  /** Absent on commands without --dry-run (serve). */
  dryRun?: boolean;
  experts?: string[];
  plugin: string[];
  clean: boolean;
  offline: boolean;
  summarizerModel?: string;
  sentimentModel?: string;
  dtype: "fp32" | "q8";
  threads?: number;
  long: "chunk" | "truncate";
  neutralThreshold?: number;
  maxLength?: number;
  minLength?: number;
  numBeams?: number;
  summaryMemory?: number;
  batching: SummaryBatching;
  cacheDir?: string;
}

export function positiveInteger(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1`);
    return n;
  };
}

function probability(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError("must be a number between 0 and 1");
  return n;
}

function commaList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(",").map((s) => s.trim()).filter(Boolean)];
}

/**
 * Adds the engine's options (see {@link EngineFlags}) to a command. `dryRun: false` leaves out
 * --dry-run, for front ends that answer with analyses (serve).
 */
export function addEngineOptions(command: Command, { dryRun = true }: { dryRun?: boolean } = {}): Command {
  command
    .option("--router <router>", `gating network: ${ROUTER_NAMES.join(", ")} (auto: built-in rules, rules: --rules FILE), or one a --plugin adds`)
    .option("--rules <file>", "routing rules (JSON); implies --router rules")
    .option("--gate <file>", "trained gate (news-moe gate train); implies --router learned")
    .option("--budget <p>", "learned router: most share of items (0..1) each task's neural expert may get, neediest first", probability);
  if (dryRun) command.option("--dry-run", "route only: write each item's routing with empty analyses, run no expert", false);
  return command
    .option("--experts <list>", "experts to use: names, tasks, 'embedded', 'neural' or 'all' (comma-separated)", commaList)
    .option("--plugin <file>", "load experts, routers or sinks from a JavaScript module (repeatable)", (v: string, p: string[]) => [...p, v], [])
    .option("--no-clean", "hand experts the content as scraped (default: strip HTML and scraper boilerplate first)")
    .option("--offline", "never touch the network (also HF_HUB_OFFLINE=1)", false)
    .option("--summarizer-model <id|dir>", "summarisation model: hub id or local directory in the ONNX layout")
    .option("--sentiment-model <id|dir>", "sentiment model: hub id or local directory in the ONNX layout")
    .addOption(new Option("--dtype <dtype>", "model weights: fp32 or q8 (int8)").choices(["fp32", "q8"]).default("fp32"))
    .option("--threads <n>", "CPU threads per model (default: all cores)", positiveInteger("--threads"))
    .addOption(
      new Option("--long <mode>", "articles longer than the summariser's window: chunk (map-reduce) or truncate")
        .choices(["chunk", "truncate"])
        .default("chunk"),
    )
    .option("--neutral-threshold <p>", `neural sentiment is NEUTRAL when its top probability is below this (default ${DEFAULT_NEUTRAL_THRESHOLD})`, probability)
    // The stated defaults are the experts' own constants: help cannot drift from what the code does.
    .option("--max-length <n>", `summary length limit in tokens (default ${TUTORIAL_MAX_LENGTH}, as the tutorial)`, positiveInteger("--max-length"))
    .option("--min-length <n>", `summary minimum in tokens (default ${TUTORIAL_MIN_LENGTH}, as the tutorial)`, positiveInteger("--min-length"))
    .option("--num-beams <n>", "beam width (default: the model's generation config)", positiveInteger("--num-beams"))
    .option(
      "--summary-memory <MiB>",
      `neural summariser: decoder state the running batch (or one static call) may hold (default ${DEFAULT_SUMMARY_STATE_MIB}; less is leaner, more is faster per article)`,
      positiveInteger("--summary-memory"),
    )
    .addOption(
      new Option("--batching <mode>", "neural summariser: continuous (articles join the running decoder batch at every step and leave when done) or static (calls that run until their longest summary ends)")
        .choices([...SUMMARY_BATCHING_MODES])
        .default(SUMMARY_BATCHING_MODES[0]),
    )
    .option("--cache-dir <dir>", "model cache (default: the Hugging Face cache, $HF_HOME/hub)");
}

/**
 * Adds --concurrency in the sense `analyze` and `serve` give it: expert batches in flight at once
 * (`worker` has its own --concurrency, jobs at once).
 */
export function addBatchConcurrencyOption(command: Command): Command {
  return command.option("--concurrency <n>", "batches each expert may run at once", positiveInteger("--concurrency"), 1);
}

/** The expert registry's settings (models, generation) from the flags. */
export function registryOptions(flags: EngineFlags): DefaultRegistryOptions {
  // HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are read by the model store itself, so its messages name the switch the user set.
  const model = {
    offline: flags.offline,
    offlineLabel: "--offline",
    dtype: flags.dtype,
    ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
    ...(flags.cacheDir !== undefined ? { cacheDir: flags.cacheDir } : {}),
  };
  return {
    summarizer: {
      ...model,
      long: flags.long,
      ...(flags.summarizerModel !== undefined ? { summarizerModel: flags.summarizerModel } : {}),
      ...(flags.summaryMemory !== undefined ? { stateMemoryMib: flags.summaryMemory } : {}),
      batching: flags.batching,
      generation: {
        ...(flags.maxLength !== undefined ? { maxLength: flags.maxLength } : {}),
        ...(flags.minLength !== undefined ? { minLength: flags.minLength } : {}),
        ...(flags.numBeams !== undefined ? { numBeams: flags.numBeams } : {}),
      },
    },
    sentiment: {
      ...model,
      ...(flags.sentimentModel !== undefined ? { sentimentModel: flags.sentimentModel } : {}),
      ...(flags.neutralThreshold !== undefined ? { neutralThreshold: flags.neutralThreshold } : {}),
    },
  };
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

/** The part of `run()`'s options the engine flags decide (the registry and plugins are the caller's). */
export function engineRunOptions(
  flags: EngineFlags,
  plugins: LoadedPlugins,
): Pick<RunOptions, "experts" | "router" | "routers" | "rules" | "gate" | "budget" | "dryRun" | "cleaning"> {
  return {
    ...(flags.experts ? { experts: flags.experts } : {}),
    ...(flags.router ? { router: flags.router } : {}),
    routers: plugins.routers,
    ...(flags.rules ? { rules: flags.rules } : {}),
    ...(flags.gate ? { gate: flags.gate } : {}),
    ...(flags.budget !== undefined ? { budget: flags.budget } : {}),
    ...(flags.dryRun ? { dryRun: true } : {}),
    ...(flags.clean ? {} : { cleaning: false as const }),
  };
}

/** What a front end needs to call `run()`: experts with their models, the plugins, the options the flags decide. */
export interface PreparedEngine {
  registry: ExpertRegistry;
  plugins: LoadedPlugins;
  runOptions: ReturnType<typeof engineRunOptions>;
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
 * Checks the flags, builds the expert registry and loads the plugins into it: the one way every
 * front end sets up the engine, whether for one run (analyze) or for a long-lived process that
 * keeps its models loaded (serve, worker). Models load later, on the first `run()`.
 */
export async function prepareEngine(flags: EngineFlags): Promise<PreparedEngine> {
  checkEngineFlags(flags);
  const registry = createDefaultRegistry(registryOptions(flags));
  const plugins = await loadPlugins(flags.plugin, registry);
  // The same selection run() makes; an unknown name is refused here, before any model loads.
  const selected = selectExperts(registry, flags.experts, EXPERT_GROUPS);
  return {
    registry,
    plugins,
    runOptions: engineRunOptions(flags, plugins),
    notices: engineNotices(flags, new Set(selected), plugins),
    tasks: new Set(flags.dryRun ? [] : selected.map((name) => registry.get(name).task)),
  };
}
