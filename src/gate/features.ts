import type { NewsItem } from "../core/news-item.js";
import { detectLanguage } from "../text/index.js";

/**
 * Languages the gate tells apart, from the content's first characters: a restricted guess is ~10x
 * cheaper than the routing features' full one, which matters when training on 10,000s of items.
 */
const GATE_LANGUAGES = ["eng", "fra", "deu", "spa", "ita", "por", "nld", "swe", "pol", "tur", "rus", "ukr", "arb", "hin", "jpn", "cmn", "kor", "ind", "vie"];
const LANGUAGE_SAMPLE = 300;

/** How a gate turns an item into features; stored in the gate file so routing uses the training's. */
export interface FeatureSpec {
  /** Size of the hashed feature space. */
  dim: number;
  /** Metadata fields (dotted paths) whose values become features, e.g. "author", "keyword". */
  fields: string[];
  /** Characters of the content that feed character n-grams (the headline always does). */
  charPrefix: number;
}

export const DEFAULT_FEATURE_SPEC: FeatureSpec = { dim: 1 << 16, fields: [], charPrefix: 600 };

/** One item as a sparse vector: hashed indices with values, and each one's readable name. */
export interface SparseFeatures {
  indices: Int32Array;
  values: Float32Array;
  /** For explanations: what each index stands for in this item ("words=812", "topic:opinion"). */
  names: string[];
}

/** FNV-1a, 32 bits: stable across runs and platforms, so a gate file means the same everywhere. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const WORD = /[\p{L}\p{N}]+/gu;

function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** Power-of-two bucket: 0, 1, 2-3, 4-7, ...; the gate learns per bucket, the reason shows the count. */
function bucket(n: number): string {
  if (n <= 0) return "0";
  const low = 2 ** Math.floor(Math.log2(n));
  return `${low}-${low * 2 - 1}`;
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
 * Features from the item alone: word unigrams and bigrams of headline and content, character
 * trigrams of the headline and the content's beginning (each group L2-normalised), length buckets,
 * language, topics and the named metadata fields (value 1 each). Hash collisions add up.
 */
export function extractFeatures(item: NewsItem, spec: FeatureSpec, options: { names?: boolean } = {}): SparseFeatures {
  const withNames = options.names ?? true;
  const acc = new Map<number, { value: number; name: string }>();
  const add = (key: string, value: number, name: string) => {
    const index = hash(key) % spec.dim;
    const entry = acc.get(index);
    if (entry) entry.value += value;
    else acc.set(index, { value, name });
  };
  const group = (prefix: string, terms: string[], label: (t: string) => string) => {
    if (!withNames) label = () => "";
    if (terms.length === 0) return;
    const counts = new Map<string, number>();
    for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
    let norm = 0;
    for (const c of counts.values()) norm += c * c;
    norm = Math.sqrt(norm);
    for (const [t, c] of counts) add(`${prefix}${t}`, c / norm, label(t));
  };

  const headline = typeof item.headline === "string" ? item.headline : "";
  const content = typeof item.content === "string" ? item.content : "";
  const headWords = words(headline);
  const bodyWords = words(content);
  group("h:", headWords, (t) => `headline:"${t}"`);
  group("w:", bodyWords, (t) => `"${t}"`);
  const bigrams: string[] = [];
  for (let i = 1; i < bodyWords.length; i++) bigrams.push(`${bodyWords[i - 1]} ${bodyWords[i]}`);
  group("b:", bigrams, (t) => `"${t}"`);
  const chars = ` ${headline.toLowerCase()} | ${content.slice(0, spec.charPrefix).toLowerCase()} `;
  const trigrams: string[] = [];
  for (let i = 0; i + 3 <= chars.length; i++) trigrams.push(chars.slice(i, i + 3));
  group("c:", trigrams, (t) => `chars:"${t}"`);

  const language = detectLanguage(content.slice(0, LANGUAGE_SAMPLE), { only: GATE_LANGUAGES }).language;
  add(`len:words:${bucket(bodyWords.length)}`, 1, `words=${bodyWords.length}`);
  add(`len:headline:${bucket(headWords.length)}`, 1, `headline words=${headWords.length}`);
  add(`lang:${language}`, 1, `language:${language}`);
  const topics = Array.isArray(item.topics) ? item.topics.filter((t): t is string => typeof t === "string") : [];
  for (const topic of topics) add(`topic:${topic.toLowerCase()}`, 1, `topic:${topic.toLowerCase()}`);
  for (const path of spec.fields) {
    const value = fieldValue(item, path);
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (v === undefined || v === null || typeof v === "object") continue;
      add(`field:${path}=${String(v).toLowerCase()}`, 1, `${path}=${String(v)}`);
    }
  }

  const sorted = [...acc.entries()].sort((a, b) => a[0] - b[0]);
  return {
    indices: Int32Array.from(sorted, ([index]) => index),
    values: Float32Array.from(sorted, ([, e]) => e.value),
    names: sorted.map(([, e]) => e.name),
  };
}
