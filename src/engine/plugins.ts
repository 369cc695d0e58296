import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { batchSizeProblem, type Expert } from "../core/expert.js";
import { ExpertRegistry } from "../core/registry.js";
import { Catalogue, parseSettings, type CatalogueEntry } from "../catalogue/entries.js";
import type { Router } from "../core/router.js";
import type { Sink } from "../core/sink.js";

/** A plugin module could not be used; `problem` says why, `module` which one. */
export class PluginError extends Error {
  constructor(
    readonly module: string,
    readonly problem: "cannot-load" | "bad-export",
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${module}: ${detail}`, options);
    this.name = "PluginError";
  }
}

/** What plugins added to the catalogue, by name. */
export interface LoadedPlugins {
  experts: string[];
  routers: string[];
  sinks: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

export function isExpert(value: unknown): value is Expert {
  return (
    isObject(value) &&
    typeof value.name === "string" &&
    typeof value.task === "string" &&
    typeof value.analyze === "function" &&
    typeof value.load === "function"
  );
}

export function isRouter(value: unknown): value is Router {
  return isObject(value) && typeof value.name === "string" && typeof value.route === "function" && !("task" in value);
}

export function isSink(value: unknown): value is Sink {
  return isObject(value) && typeof value.name === "string" && typeof value.write === "function" && typeof value.close === "function";
}

/** A catalogue entry (catalogue/entries.ts), the form a built-in takes: kind, name, option schema, factory. */
export function isCatalogueEntry(value: unknown): value is CatalogueEntry {
  return (
    isObject(value) &&
    (value.kind === "expert" || value.kind === "router" || value.kind === "sink") &&
    typeof value.name === "string" &&
    typeof value.create === "function" &&
    isObject(value.options) &&
    typeof value.options.safeParse === "function"
  );
}

/**
 * The entry of a ready-made expert, router or sink (the older plugin form): its factory hands out
 * that one object, and it reads no settings.
 */
function entryOf(part: Expert | Router | Sink): CatalogueEntry {
  const options = z.object({});
  if (isExpert(part)) {
    return { kind: "expert", name: part.name, task: part.task, group: "plugin", workerKind: "main-thread", prior: 0, costly: false, options, create: () => part };
  }
  if (isRouter(part)) return { kind: "router", name: part.name, description: "from a plugin", options, create: () => part };
  return { kind: "sink", name: part.name, description: "from a plugin", everyRun: true, options, create: () => part };
}

/**
 * Loads plugins from JavaScript modules into `catalogue`, where they join the built-ins. A module's
 * default export may be a catalogue entry (the form a built-in takes: see catalogue/entries.ts; its
 * settings become flags), an expert, a router, a sink, an array of them, a class to construct with
 * no arguments, or a function returning any of those (possibly async). An expert with a built-in's
 * name replaces it (which is how a retrained model is swapped in); routers become selectable by
 * name; sinks receive every record of an analyze run.
 *
 * Given an expert registry instead (the library's older form), the plugins' experts are made with
 * their defaults and registered there.
 */
export async function loadPlugins(paths: readonly string[], target: Catalogue | ExpertRegistry): Promise<LoadedPlugins> {
  const loaded: LoadedPlugins = { experts: [], routers: [], sinks: [] };
  const catalogue = target instanceof Catalogue ? target : new Catalogue();
  for (const path of paths) {
    for (const entry of await entriesOf(path)) {
      catalogue.add(entry, { replace: true });
      loaded[`${entry.kind}s`].push(entry.name);
    }
  }
  if (!(target instanceof Catalogue)) {
    for (const entry of catalogue.experts()) target.register(entry.create(parseSettings(entry.options, {}, entry.name)), { replace: true });
  }
  return loaded;
}

/** The catalogue entries one plugin module exports. */
async function entriesOf(path: string): Promise<CatalogueEntry[]> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown };
  } catch (error) {
    throw new PluginError(path, "cannot-load", `cannot load it: ${(error as Error).message}`, { cause: error });
  }
  let exported: unknown = module.default;
  if (typeof exported === "function") {
    const fn = exported as (() => unknown) & (new () => unknown);
    // A class cannot be called and a factory need not be constructible: try the class form first.
    const isClass = /^class[\s{]/.test(Function.prototype.toString.call(fn));
    exported = isClass ? new fn() : await fn();
  }
  const parts = Array.isArray(exported) ? exported : [exported];
  const known = parts.every((part) => isCatalogueEntry(part) || isExpert(part) || isRouter(part) || isSink(part));
  if (parts.length === 0 || !known) {
    throw new PluginError(
      path,
      "bad-export",
      "the default export must be a catalogue entry (kind, name, options, create()), an expert (name, task, load(), analyze()), " +
        "a router (name, route()), a sink (name, write(), close()), an array of them, a class or a function returning them",
    );
  }
  // Checked here too (the registry would refuse it later) so the message names the plugin file.
  const problem = parts.map((part) => (isExpert(part) ? batchSizeProblem(part) : undefined)).find(Boolean);
  if (problem) throw new PluginError(path, "bad-export", problem);
  return parts.map((part) => (isCatalogueEntry(part) ? part : entryOf(part as Expert | Router | Sink)));
}
