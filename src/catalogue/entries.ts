/**
 * The kinds of catalogue entry (expert, router, sink) and the registries that hold them. Built-in
 * entries (catalogue.ts) and a plugin's entries go into the same registries, so every lookup by
 * name, and everything derived from the entries (groups, priors, flags), is one path for both.
 */
import { z } from "zod";
import type { Expert, Task } from "../core/expert.js";
import { ExpertRegistry } from "../core/registry.js";
import type { Router } from "../core/router.js";
import type { Sink } from "../core/sink.js";
import type { ModelKind } from "../models/model-files.js";
import type { GateModel } from "../learned-gate/gate-file.js";
import type { RulesConfig } from "../routing/rules-config.js";
import type { Settings } from "./setting.js";

/**
 * Where an expert's analysis runs: `embedded-pool`, the worker threads the embedded experts share
 * (experts/embedded/worker-pool.ts); `seq2seq-worker`, its own worker thread holding the ONNX
 * decoder (runtime/worker); `main-thread`, on the thread that runs the engine.
 */
export const WORKER_KINDS = ["embedded-pool", "seq2seq-worker", "main-thread"] as const;
export type WorkerKind = (typeof WORKER_KINDS)[number];

/** One expert: what it is, where it runs, what it reads from the settings and how it is made. */
export interface ExpertEntry<S extends z.ZodObject = z.ZodObject> {
  kind: "expert";
  /** The key of its results in `analyses`; unique in a catalogue. */
  name: string;
  task: Task;
  /** A name usable in `--experts` for every expert of the group ("neural", "embedded"). */
  group: string;
  /** The model it runs unless told otherwise, for `news-moe models pull`; none for embedded experts. */
  defaultModel?: { spec: string; kind: ModelKind };
  workerKind: WorkerKind;
  /** The built-in (`auto`) router's prior for it: the preferred expert of a task has the highest. */
  prior: number;
  /** The learned router's `--budget` caps the share of items it gets (the neural experts). */
  costly: boolean;
  /** The settings it reads, by their one name, with defaults and help. */
  options: S;
  /** Makes the expert (cheap: loading is `load()`'s work) from its settings, defaults applied. */
  create(options: z.output<S>): Expert;
}

/** What a router is made from besides its own settings: the run's experts and the catalogue's facts about them. */
export interface RouterSetup {
  registry: ExpertRegistry;
  /** The experts the run selected. */
  experts: readonly string[];
  /** Each expert's prior (ExpertEntry.prior), by name. */
  priors: Readonly<Record<string, number>>;
  /** The experts a budget caps (ExpertEntry.costly). */
  costly: ReadonlySet<string>;
}

/** The router settings of a run (the library also takes a parsed rules config or a loaded gate). */
export interface RouterSettings {
  rules?: string | RulesConfig;
  gate?: string | GateModel;
  budget?: number;
}

export interface RouterEntry<S extends z.ZodObject = z.ZodObject> {
  kind: "router";
  name: string;
  /** One line for `--router`'s help. */
  description: string;
  /** The settings it reads (shown as flags; a router's own flags imply it, see impliedRouter). */
  options: S;
  create(settings: RouterSettings, setup: RouterSetup): Router | Promise<Router>;
}

export interface SinkEntry<S extends z.ZodObject = z.ZodObject> {
  kind: "sink";
  name: string;
  description: string;
  /** Plugin sinks receive every record of every run that writes records (analyze); built-ins are chosen by the front end. */
  everyRun: boolean;
  /** What it is made from (not command-line settings: the front end fills them from its own flags). */
  options: S;
  create(options: z.output<S>): Sink;
}

export type CatalogueEntry = ExpertEntry | RouterEntry | SinkEntry;

/** A router name that no entry has. */
export class UnknownRouterError extends Error {
  constructor(
    readonly router: string,
    readonly choices: readonly string[],
  ) {
    super(`no router named "${router}"; choose from: ${choices.join(", ")}`);
    this.name = "UnknownRouterError";
  }
}

/** Two entries declare a setting of the same name with different schemas: the name would mean two things. */
export class SettingConflictError extends Error {
  constructor(readonly setting: string, readonly entry: string) {
    super(`${entry}: its setting "${setting}" is already declared with another schema; a setting has one meaning, so reuse that schema or choose another name`);
    this.name = "SettingConflictError";
  }
}

/**
 * The registries of a run's experts, routers and sinks, in the order they were added (for experts
 * the fallback order within a task). Derived facts (groups, priors, settings) are computed from the
 * entries each time, so an added plugin entry counts everywhere at once.
 */
export class Catalogue {
  private readonly expertEntries = new Map<string, ExpertEntry>();
  private readonly routerEntries = new Map<string, RouterEntry>();
  private readonly sinkEntries = new Map<string, SinkEntry>();

  constructor(
    /** Settings of the engine itself (experts, router, cleaning...), not of an entry. */
    readonly engineSettings: Settings = {},
  ) {}

  /** Adds or, with `replace`, swaps an entry (a swapped expert keeps its place in the fallback order). */
  add(entry: CatalogueEntry, { replace = false }: { replace?: boolean } = {}): this {
    const table: Map<string, CatalogueEntry> =
      entry.kind === "expert" ? this.expertEntries : entry.kind === "router" ? this.routerEntries : this.sinkEntries;
    if (table.has(entry.name) && !replace) throw new Error(`a ${entry.kind} named "${entry.name}" is already in the catalogue`);
    if (entry.kind !== "sink") this.checkSettings(entry);
    table.set(entry.name, entry);
    return this;
  }

  experts(): ExpertEntry[] {
    return [...this.expertEntries.values()];
  }

  expert(name: string): ExpertEntry | undefined {
    return this.expertEntries.get(name);
  }

  routers(): RouterEntry[] {
    return [...this.routerEntries.values()];
  }

  /** The router entry `name`; UnknownRouterError, naming the choices, when there is none. */
  router(name: string): RouterEntry {
    const entry = this.routerEntries.get(name);
    if (!entry) throw new UnknownRouterError(name, [...this.routerEntries.keys()]);
    return entry;
  }

  sinks(): SinkEntry[] {
    return [...this.sinkEntries.values()];
  }

  /** Makes the sink `name` from `options`, parsed by its schema. */
  createSink(name: string, options: Record<string, unknown>): Sink {
    const entry = this.sinkEntries.get(name);
    if (!entry) throw new Error(`no sink named "${name}"; choose from: ${[...this.sinkEntries.keys()].join(", ")}`);
    return entry.create(parseSettings(entry.options, options, `sink ${name}`));
  }

  /** Names usable in `--experts` besides expert names and tasks: each group with its experts. */
  groups(): Record<string, string[]> {
    const groups: Record<string, string[]> = {};
    for (const entry of this.experts()) (groups[entry.group] ??= []).push(entry.name);
    return groups;
  }

  /** Each expert's prior for the built-in router, by name (zero priors left out, as rules files write them). */
  priors(): Record<string, number> {
    return Object.fromEntries(this.experts().filter((e) => e.prior !== 0).map((e) => [e.name, e.prior]));
  }

  costly(): Set<string> {
    return new Set(this.experts().filter((e) => e.costly).map((e) => e.name));
  }

  /** Every setting once, by its one name: the engine's, then each router's and expert's, in catalogue order. */
  settings(): Settings {
    const all: Settings = { ...this.engineSettings };
    for (const entry of [...this.routers(), ...this.experts()]) Object.assign(all, entry.options.shape);
    return all;
  }

  /**
   * The experts, made from `settings` (each entry parses the part it reads, so its defaults apply
   * and a wrong value is refused with the setting's name), in catalogue order. `byExpert` holds
   * settings for one expert alone, over the shared ones (the library's per-expert options).
   */
  createRegistry(settings: Record<string, unknown> = {}, byExpert: Record<string, Record<string, unknown>> = {}): ExpertRegistry {
    const registry = new ExpertRegistry();
    for (const entry of this.experts()) {
      const expert = entry.create(parseSettings(entry.options, { ...settings, ...byExpert[entry.name] }, entry.name));
      // The expert carries its name and task too (the Expert interface): they must be the entry's.
      if (expert.name !== entry.name || expert.task !== entry.task) {
        throw new Error(`catalogue entry ${entry.name} (${entry.task}) made an expert named ${expert.name} (${expert.task})`);
      }
      registry.register(expert);
    }
    return registry;
  }

  private checkSettings(entry: ExpertEntry | RouterEntry): void {
    const known = this.settings();
    for (const [name, schema] of Object.entries(entry.options.shape)) {
      if (name in known && known[name] !== schema) throw new SettingConflictError(name, entry.name);
    }
  }
}

/** The invalid value of a setting given to the library (the CLI refuses it while parsing flags). */
export class SettingValueError extends RangeError {
  constructor(readonly entry: string, readonly issues: string) {
    super(`${entry}: ${issues}`);
    this.name = "SettingValueError";
  }
}

/** Parses the settings an entry reads out of all of a run's settings: defaults applied, the rest ignored. */
export function parseSettings<S extends z.ZodObject>(schema: S, settings: Record<string, unknown>, entry: string): z.output<S> {
  const result = schema.safeParse(settings);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join(".") || "settings"}: ${issue.message}`).join("; ");
    throw new SettingValueError(entry, issues);
  }
  return result.data;
}
