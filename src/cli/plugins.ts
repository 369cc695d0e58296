import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Expert } from "../core/expert.js";
import type { ExpertRegistry } from "../core/registry.js";
import { UsageError } from "./exit-codes.js";

function looksLikeExpert(value: unknown): value is Expert {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<Expert>;
  return (
    typeof candidate.name === "string" &&
    typeof candidate.task === "string" &&
    typeof candidate.analyze === "function" &&
    typeof candidate.load === "function"
  );
}

/**
 * Loads user experts from JavaScript modules (`--plugin FILE`). A module's default export may be an
 * Expert, an array of them, a class to construct with no arguments, or a function returning any of
 * those (possibly async). Each expert is registered after the built-ins; a plugin expert with a
 * built-in's name replaces it, which is how a user swaps in a retrained model.
 */
export async function loadPlugins(paths: readonly string[], registry: ExpertRegistry): Promise<string[]> {
  const added: string[] = [];
  for (const path of paths) {
    let module: { default?: unknown };
    try {
      module = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown };
    } catch (error) {
      throw new UsageError(`--plugin ${path}: cannot load it: ${(error as Error).message}`);
    }
    let exported: unknown = module.default;
    if (typeof exported === "function") {
      const fn = exported as (() => unknown) & (new () => unknown);
      // A class cannot be called and a factory need not be constructible: try the class form first.
      const isClass = /^class[\s{]/.test(Function.prototype.toString.call(fn));
      exported = isClass ? new fn() : await fn();
    }
    const experts = Array.isArray(exported) ? exported : [exported];
    if (experts.length === 0 || !experts.every(looksLikeExpert)) {
      throw new UsageError(
        `--plugin ${path}: the default export must be an expert (name, task, load(), analyze()), ` +
          "an array of experts, a class or a function returning them",
      );
    }
    for (const expert of experts) {
      registry.register(expert, { replace: true });
      added.push(expert.name);
    }
  }
  return added;
}
