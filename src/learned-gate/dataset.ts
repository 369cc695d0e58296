import type { NewsItem } from "../core/news-item.js";
import { openInput } from "../io/input-reader.js";
import { validateItem } from "../io/item-schema.js";
import { cleanItem } from "../text/index.js";

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

/**
 * Reads labelled items from a JSON array or JSON Lines (as `analyze` reads its input: by extension,
 * else by the first byte). A bad item is named by its line in JSON Lines, its position in an array.
 * With `clean` (the default), each item's content is cleaned as `analyze` cleans it before routing,
 * so the gate learns from the text it will route on ("Advertisement" left in by a scrape is no word).
 */
export async function readLabelled(path: string, options: { clean?: boolean } = {}): Promise<LabelledItem[]> {
  const out: LabelledItem[] = [];
  for await (const { value, index, line } of openInput(path)) {
    const labelled = parseLabelled(value, line !== undefined ? `${path}:${line}` : `${path}: item ${index + 1}`);
    out.push(options.clean === false ? labelled : { ...labelled, item: cleanItem(labelled.item).item });
  }
  if (out.length === 0) throw new GateDataError(`${path}: no labelled items`);
  return out;
}
