import { z } from "zod";
import type { NewsItem } from "../core/news-item.js";

/**
 * Validation of raw input items into NewsItems.
 *
 * Items are named in messages by their 0-based `index` (the number `jq '.[3]'` takes) and by id
 * when the id is usable, so a user can find the item in a large file.
 */
export type ItemValidation =
  | { ok: true; item: NewsItem }
  | { ok: false; error: string; id: string | null; headline: string | null; url: string | null };

/** How a value shows up in "expected X, got Y". */
export function describeJsonType(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

type IdResult = { ok: true; id: string } | { ok: false; problem: string };

/**
 * Ids are strings; scrapers that emit numeric ids get their decimal string, as long as the number
 * survived JSON parsing intact (beyond 2^53 digits are already lost, so refuse rather than mislabel).
 */
function normalizeId(raw: unknown): IdResult {
  if (typeof raw === "string") {
    return raw.length > 0 ? { ok: true, id: raw } : { ok: false, problem: "must not be empty" };
  }
  if (typeof raw === "number" && Number.isFinite(raw)) {
    if (Number.isInteger(raw) && !Number.isSafeInteger(raw)) {
      return { ok: false, problem: "number too large to keep exactly; quote it as a string in the input" };
    }
    return { ok: true, id: String(raw) };
  }
  if (raw === undefined) return { ok: false, problem: "missing, expected a non-empty string or a number" };
  return { ok: false, problem: `expected a non-empty string or a number, got ${describeJsonType(raw)}` };
}

const expected = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `missing, expected ${what}` : `expected ${what}, got ${describeJsonType(issue.input)}`;

const optionalText = z.string({ error: expected("a string or null") }).nullable().optional();

const newsItemSchema = z.looseObject({
  id: z.unknown().transform((raw, context) => {
    const result = normalizeId(raw);
    if (result.ok) return result.id;
    context.issues.push({ code: "custom", message: result.problem, input: raw });
    return z.NEVER;
  }),
  // Empty content is valid here: experts say what they make of it, per expert.
  content: z.string({ error: expected("a string") }),
  headline: optionalText,
  url: optionalText,
  author: optionalText,
  publication_date: optionalText,
  keyword: optionalText,
  timestamp: optionalText,
  topics: z
    .array(z.string({ error: expected("a string") }), { error: expected("an array of strings or null") })
    .nullable()
    .optional(),
});

function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) {
    text += typeof key === "number" ? `[${key}]` : text === "" ? String(key) : `.${String(key)}`;
  }
  return text;
}

function textOrNull(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function quoteForMessage(id: string): string {
  const shown = id.length > 60 ? `${id.slice(0, 57)}...` : id;
  return JSON.stringify(shown);
}

/**
 * Checks one raw item. On failure, `error` names the item and every problem, and id/headline/url
 * carry whatever of them is valid so the output entry for the item can still show them.
 */
export function validateItem(value: unknown, index: number): ItemValidation {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      ok: false,
      error: `item ${index}: expected an object, got ${describeJsonType(value)}`,
      id: null,
      headline: null,
      url: null,
    };
  }
  const result = newsItemSchema.safeParse(value);
  if (result.success) return { ok: true, item: result.data as NewsItem };

  const fields = value as Record<string, unknown>;
  const id = normalizeId(fields.id);
  const name = id.ok ? `item ${index} (id ${quoteForMessage(id.id)})` : `item ${index}`;
  const problems = result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  return {
    ok: false,
    error: `${name}: ${problems.join("; ")}`,
    id: id.ok ? id.id : null,
    headline: textOrNull(fields.headline),
    url: textOrNull(fields.url),
  };
}
