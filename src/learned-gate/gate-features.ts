import type { NewsItem } from "../core/news-item.js";
import { detectLanguage } from "../text/index.js";

/**
 * Languages the gate tells apart, from the content's first characters: a restricted guess is ~10x
 * cheaper than the routing features' full one, which matters when training on 10,000s of items.
 */
const GATE_LANGUAGES = ["eng", "fra", "deu", "spa", "ita", "por", "nld", "swe", "pol", "tur", "rus", "ukr", "arb", "hin", "jpn", "cmn", "kor", "ind", "vie"];
const LANGUAGE_SAMPLE = 200;
/** Longer metadata strings are prose, not categories: they give no term. */
const MAX_CATEGORY_CHARS = 200;

/** How a gate reads an item; stored in the gate file so routing reads items as training did. */
export interface FeatureSpec {
  /** Metadata fields (dotted paths) that become features, e.g. "author", "images", "publication_date". */
  fields: string[];
}

export const DEFAULT_FEATURE_SPEC: FeatureSpec = { fields: [] };

/**
 * What a numeric feature counts, for reading its values back: `count` is a whole number (words,
 * an array's length), `number` any number, `date` milliseconds since 1970 shown as an ISO date.
 */
export type NumericKind = "count" | "number" | "date";

/**
 * One item as the gate sees it. `numeric` holds measurements (the lengths always; metadata fields
 * when the item has them), each keyed by its name; `terms` the binary features the item has:
 * content words `"wrist"` and word pairs `"wrist injury"`, headline words `headline:"wrist"`,
 * `topic:tennis`, `language:eng` and metadata values `author=bbc`. A term is present however long
 * the article is, so one decisive phrase weighs the same in 50 words as in 5,000.
 */
export interface GateItemFeatures {
  numeric: Map<string, { kind: NumericKind; value: number }>;
  terms: Set<string>;
}

/** The lengths every item has; a missing headline counts 0 words. */
export const LENGTH_FEATURES = ["words", "characters", "sentences", "headline words"] as const;

const WORD = /[\p{L}\p{N}]+/gu;
/** A sentence ends at ., ! or ? (repeats and closing quotes included) followed by space or the end. */
const SENTENCE_END = /[.!?]+["'”’)\]]*(?=\s|$)/gu;
/** ISO 8601 dates, with or without a time: "2024-10-01", "2024-10-01T08:30:00Z". */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** Words as people count them (what `wc -w` says): runs of non-space characters. */
export function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || (c >= 0x2000 && c <= 0x200a) || c === 0x3000;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

/** Characters as people count them: code points, so an emoji is one. */
function countCharacters(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

function countSentences(text: string): number {
  const trimmed = text.trim();
  if (trimmed === "") return 0;
  const ends = trimmed.match(SENTENCE_END)?.length ?? 0;
  // Text after the last full stop is a sentence too ("Advertisement" closing an article).
  return /[.!?]+["'”’)\]]*$/u.test(trimmed) ? ends : ends + 1;
}

function fieldValue(item: NewsItem, path: string): unknown {
  let value: unknown = item;
  for (const key of path.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * A metadata field's features: a number (or a numeric string) is a measurement named after the
 * field; an ISO date one too, in milliseconds; an array gives its length (`images count`) and a
 * term per short scalar element; other short scalars give a term `field=value` (lower-cased).
 */
function addField(out: GateItemFeatures, path: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    out.numeric.set(`${path} count`, { kind: "count", value: value.length });
    for (const element of value) addCategory(out, path, element);
    return;
  }
  if (typeof value === "number" && Number.isFinite(value)) {
    out.numeric.set(path, { kind: "number", value });
  } else if (typeof value === "string") {
    const text = value.trim();
    if (NUMBER.test(text)) out.numeric.set(path, { kind: "number", value: Number(text) });
    else if (ISO_DATE.test(text) && Number.isFinite(Date.parse(text))) {
      // A date is a measurement, not a category: every item has a different one.
      out.numeric.set(path, { kind: "date", value: Date.parse(text) });
      return;
    }
  }
  addCategory(out, path, value);
}

function addCategory(out: GateItemFeatures, path: string, value: unknown): void {
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") return;
  const text = String(value).trim().toLowerCase();
  if (text !== "" && text.length <= MAX_CATEGORY_CHARS) out.terms.add(`${path}=${text}`);
}

/** The measurements of an item: its lengths, and the numeric metadata fields it has. */
function measure(headline: string, content: string, out: GateItemFeatures): void {
  out.numeric.set("words", { kind: "count", value: countWords(content) });
  out.numeric.set("characters", { kind: "count", value: countCharacters(content) });
  out.numeric.set("sentences", { kind: "count", value: countSentences(content) });
  out.numeric.set("headline words", { kind: "count", value: countWords(headline) });
}

/**
 * Receives an item's terms as they are found (repeats included). Words and word pairs come apart
 * so that training can number them without building a string per pair.
 */
export interface TermVisitor {
  /** A content word: the term `"word"`. */
  word(word: string): void;
  /** Two neighbouring content words: the term `"first second"`. */
  pair(first: string, second: string): void;
  /** Any other term, named in full: `headline:"word"`, `topic:tennis`, `language:eng`, `author=bbc`. */
  other(term: string): void;
}

export const wordTerm = (word: string) => `"${word}"`;
export const pairTerm = (first: string, second: string) => `"${first} ${second}"`;

/**
 * The item's features: measurements into `numeric` (returned), terms to `visit`. The one place that
 * says what the features are, for training (which numbers terms) and routing (which names them).
 */
export function readItem(item: NewsItem, spec: FeatureSpec, visit: TermVisitor): GateItemFeatures {
  const headline = typeof item.headline === "string" ? item.headline : "";
  const content = typeof item.content === "string" ? item.content : "";
  const out: GateItemFeatures = { numeric: new Map(), terms: new Set() };
  measure(headline, content, out);
  let previous: string | undefined;
  for (const word of content.toLowerCase().match(WORD) ?? []) {
    visit.word(word);
    if (previous !== undefined) visit.pair(previous, word);
    previous = word;
  }
  for (const word of headline.toLowerCase().match(WORD) ?? []) visit.other(`headline:"${word}"`);
  visit.other(`language:${detectLanguage(content.slice(0, LANGUAGE_SAMPLE), { only: GATE_LANGUAGES }).language}`);
  const topics = Array.isArray(item.topics) ? item.topics.filter((t): t is string => typeof t === "string") : [];
  for (const topic of topics) visit.other(`topic:${topic.trim().toLowerCase()}`);
  for (const path of spec.fields) addField(out, path, fieldValue(item, path));
  // Metadata categories were collected as terms by addField: pass them on like the others.
  for (const term of out.terms) visit.other(term);
  out.terms.clear();
  return out;
}

/** The item's features with every term named; the same item and spec always give the same features. */
export function extractFeatures(item: NewsItem, spec: FeatureSpec): GateItemFeatures {
  const terms = new Set<string>();
  const out = readItem(item, spec, {
    word: (w) => terms.add(wordTerm(w)),
    pair: (a, b) => terms.add(pairTerm(a, b)),
    other: (t) => terms.add(t),
  });
  out.terms = terms;
  return out;
}

/** A numeric value as a reason shows it: counts whole, dates as ISO dates, numbers in 4 digits. */
export function formatNumeric(kind: NumericKind, value: number): string {
  if (kind === "date") {
    const iso = new Date(value).toISOString();
    return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso.slice(0, 16);
  }
  if (kind === "count") return String(Math.round(value));
  return String(Number(value.toPrecision(4)));
}
