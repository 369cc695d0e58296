/**
 * The body of `POST /v1/analyze`: one item (a JSON object), a JSON array of items, or NDJSON (one
 * item per line). The body is already bounded in size, so it is parsed whole; the streaming file
 * reader (io/input-reader.ts) is for inputs of any size on disk.
 */
export type ParsedBody =
  | { ok: true; shape: "object" | "array" | "lines"; values: unknown[] }
  | { ok: false; problem: string };

const NDJSON_TYPES = ["application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"];

export function isNdjsonType(contentType: string | undefined): boolean {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return NDJSON_TYPES.includes(type);
}

/** application/json, or a JSON-based type (`application/*+json`). */
export function isJsonType(contentType: string | undefined): boolean {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || /^application\/[\w.+-]+\+json$/.test(type);
}

export function parseBody(text: string, contentType: string | undefined): ParsedBody {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (isNdjsonType(contentType)) return parseLines(body);
  if (body.trim() === "") return { ok: false, problem: "empty body (expected a JSON object, an array of them, or NDJSON)" };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { ok: false, problem: `malformed JSON: ${(error as Error).message}` };
  }
  if (Array.isArray(value)) return { ok: true, shape: "array", values: value };
  if (typeof value === "object" && value !== null) return { ok: true, shape: "object", values: [value] };
  return { ok: false, problem: `expected a JSON object (one item) or an array of items, got ${value === null ? "null" : typeof value}` };
}

function parseLines(body: string): ParsedBody {
  const values: unknown[] = [];
  const lines = body.split("\n");
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") continue;
    try {
      values.push(JSON.parse(line));
    } catch (error) {
      return { ok: false, problem: `line ${i + 1}: malformed JSON: ${(error as Error).message}` };
    }
  }
  return { ok: true, shape: "lines", values };
}
