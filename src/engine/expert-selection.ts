import type { ExpertRegistry } from "../core/registry.js";

export class ExpertSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExpertSelectionError";
  }
}

/**
 * Resolves a user's expert list into registered names, keeping registry order (which is the
 * fallback order). Each entry may be an expert name, a task ("sentiment": every expert of it), a
 * group the registry's caller defines ("embedded", "neural") or "all"; matching ignores case.
 */
export function selectExperts(
  registry: ExpertRegistry,
  selection: readonly string[] | undefined,
  groups: Readonly<Record<string, readonly string[]>> = {},
): string[] {
  const names = registry.names();
  if (!selection || selection.length === 0) return names;
  const wanted = new Set<string>();
  const lowerGroups = new Map(Object.entries(groups).map(([group, members]) => [group.toLowerCase(), members]));
  for (const raw of selection) {
    const token = raw.trim();
    if (!token) continue;
    const lower = token.toLowerCase();
    if (lower === "all") {
      names.forEach((name) => wanted.add(name));
      continue;
    }
    const byName = names.find((name) => name.toLowerCase() === lower);
    if (byName) {
      wanted.add(byName);
      continue;
    }
    const byTask = registry.list().filter((expert) => expert.task.toLowerCase() === lower);
    if (byTask.length > 0) {
      byTask.forEach((expert) => wanted.add(expert.name));
      continue;
    }
    const group = lowerGroups.get(lower);
    if (group) {
      group.filter((name) => registry.has(name)).forEach((name) => wanted.add(name));
      continue;
    }
    const choices = [...names, ...new Set(registry.list().map((e) => e.task)), ...Object.keys(groups), "all"];
    throw new ExpertSelectionError(`unknown expert "${token}"; choose from: ${choices.join(", ")}`);
  }
  return names.filter((name) => wanted.has(name));
}
