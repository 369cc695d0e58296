import { readFile } from "node:fs/promises";
import type { NewsItem } from "../core/news-item.js";
import { validateItem } from "../io/item-schema.js";

/** A news item with its wanted route: an expert name per task, `null` meaning "skip the task". */
export interface LabelledItem {
  item: NewsItem;
  route: Record<string, string | null>;
}

/** A training or evaluation set that cannot be used; names the line. */
export class GateDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GateDataError";
  }
}

/** Parses one line's object: a valid news item with a `route` object. */
export function parseLabelled(value: unknown, where: string): LabelledItem {
  const checked = validateItem(value, 0);
  if (!checked.ok) throw new GateDataError(`${where}: ${checked.error.replace(/^item 0( \(id [^)]*\))?: /, "")}`);
  const route = (value as { route?: unknown }).route;
  if (typeof route !== "object" || route === null || Array.isArray(route)) {
    throw new GateDataError(`${where}: expected "route": {"<task>": "<expert name>" or null, ...}`);
  }
  for (const [task, expert] of Object.entries(route)) {
    if (expert !== null && (typeof expert !== "string" || expert.length === 0)) {
      throw new GateDataError(`${where}: route.${task} must be an expert name or null, got ${JSON.stringify(expert)}`);
    }
  }
  return { item: checked.item, route: route as Record<string, string | null> };
}

/** Reads JSON Lines of labelled items (blank lines ignored). */
export async function readLabelled(path: string): Promise<LabelledItem[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new GateDataError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const out: LabelledItem[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new GateDataError(`${path}:${i + 1}: not valid JSON (${(error as Error).message})`);
    }
    out.push(parseLabelled(value, `${path}:${i + 1}`));
  }
  if (out.length === 0) throw new GateDataError(`${path}: no labelled items`);
  return out;
}
