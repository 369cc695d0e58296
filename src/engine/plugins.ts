import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Expert } from "../core/expert.js";
import type { ExpertRegistry } from "../core/registry.js";
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

/** What plugins added: expert names, routers by name, sinks. */
export interface LoadedPlugins {
  experts: string[];
  routers: Map<string, Router>;
  sinks: Sink[];
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

/**
 * Loads plugins from JavaScript modules. A module's default export may be an expert, a router, a
 * sink, an array of them, a class to construct with no arguments, or a function returning any of
 * those (possibly async). Experts are registered after the built-ins (one with a built-in's name
 * replaces it, which is how a retrained model is swapped in); routers become selectable by name;
 * sinks receive every record of the run.
 */
export async function loadPlugins(paths: readonly string[], registry: ExpertRegistry): Promise<LoadedPlugins> {
  const loaded: LoadedPlugins = { experts: [], routers: new Map(), sinks: [] };
  for (const path of paths) {
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
    const known = parts.every((part) => isExpert(part) || isRouter(part) || isSink(part));
    if (parts.length === 0 || !known) {
      throw new PluginError(
        path,
        "bad-export",
        "the default export must be an expert (name, task, load(), analyze()), a router (name, route()), " +
          "a sink (name, write(), close()), an array of them, a class or a function returning them",
      );
    }
    for (const part of parts) {
      if (isExpert(part)) {
        registry.register(part, { replace: true });
        loaded.experts.push(part.name);
      } else if (isRouter(part)) {
        loaded.routers.set(part.name, part);
      } else if (isSink(part)) {
        loaded.sinks.push(part);
      }
    }
  }
  return loaded;
}
