import type { NewsItem } from "../core/news-item.js";
import { detectLanguage } from "../text/index.js";

/**
 * Languages the gate tells apart, from the content's first characters: a restricted guess is ~10x
 * cheaper than the routing features' full one, which matters when training on 10,000s of items.
 */
const GATE_LANGUAGES = ["eng", "fra", "deu", "spa", "ita", "por", "nld", "swe", "pol", "tur", "rus", "ukr", "arb", "hin", "jpn", "cmn", "kor", "ind", "vie"];
const LANGUAGE_SAMPLE = 200;

/** How a gate turns an item into features; stored in the gate file so routing uses the training's. */
export interface FeatureSpec {
  /** Size of the hashed feature space. */
  dim: number;
  /** Metadata fields (dotted paths) whose values become features, e.g. "author", "keyword". */
  fields: string[];
  /** Characters of the content that feed character n-grams (the headline always does). */
  charPrefix: number;
}

export const DEFAULT_FEATURE_SPEC: FeatureSpec = { dim: 1 << 16, fields: [], charPrefix: 300 };

/** One item as a sparse vector: hashed indices with values, and each one's readable name. */
export interface SparseFeatures {
  indices: Int32Array;
  values: Float32Array;
  /** For explanations: what each index stands for in this item ("words=812", "topic:opinion"). */
  names: string[];
}

const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a, 32 bits, continuing from `h`: stable across runs and platforms, and no string to build. */
function fnv(h: number, text: string, from = 0, to = text.length): number {
  for (let i = from; i < to; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
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
  const values = new Map<number, number>();
  const names = new Map<number, string>();
  const slot = (h: number) => (h >>> 0) % spec.dim;
  const add = (key: string, value: number, name: string) => {
    const index = slot(fnv(FNV_OFFSET, key));
    values.set(index, (values.get(index) ?? 0) + value);
    if (withNames && !names.has(index)) names.set(index, name);
  };
  /** A group of counted terms, L2-normalised so that long texts do not outweigh short ones. */
  const group = (counts: Map<number, number>) => {
    let norm = 0;
    for (const c of counts.values()) norm += c * c;
    norm = Math.sqrt(norm);
    for (const [index, c] of counts) values.set(index, (values.get(index) ?? 0) + c / norm);
  };
  const count = (counts: Map<number, number>, index: number, name: () => string) => {
    counts.set(index, (counts.get(index) ?? 0) + 1);
    if (withNames && !names.has(index)) names.set(index, name());
  };

  const headline = typeof item.headline === "string" ? item.headline : "";
  const content = typeof item.content === "string" ? item.content : "";
  const headWords = words(headline);
  const bodyWords = words(content);
  const head = new Map<number, number>();
  const hPrefix = fnv(FNV_OFFSET, "h:");
  for (const t of headWords) count(head, slot(fnv(hPrefix, t)), () => `headline:"${t}"`);
  group(head);
  const body = new Map<number, number>();
  const wPrefix = fnv(FNV_OFFSET, "w:");
  for (const t of bodyWords) count(body, slot(fnv(wPrefix, t)), () => `"${t}"`);
  group(body);
  const pairs = new Map<number, number>();
  const bPrefix = fnv(FNV_OFFSET, "b:");
  for (let i = 1; i < bodyWords.length; i++) {
    const a = bodyWords[i - 1] as string;
    const b = bodyWords[i] as string;
    count(pairs, slot(fnv(fnv(fnv(bPrefix, a), " "), b)), () => `"${a} ${b}"`);
  }
  group(pairs);
  const chars = ` ${headline.toLowerCase()} | ${content.slice(0, spec.charPrefix).toLowerCase()} `;
  const trigrams = new Map<number, number>();
  const cPrefix = fnv(FNV_OFFSET, "c:");
  for (let i = 0; i + 3 <= chars.length; i++) count(trigrams, slot(fnv(cPrefix, chars, i, i + 3)), () => `chars:"${chars.slice(i, i + 3)}"`);
  group(trigrams);

  const language = detectLanguage(content.slice(0, LANGUAGE_SAMPLE), { only: GATE_LANGUAGES }).language;
  add(`len:words:${bucket(bodyWords.length)}`, 1, `words=${bodyWords.length}`);
  add(`len:headline:${bucket(headWords.length)}`, 1, `headline words=${headWords.length}`);
  add(`lang:${language}`, 1, `language:${language}`);
  const topics = Array.isArray(item.topics) ? item.topics.filter((t): t is string => typeof t === "string") : [];
  for (const topic of topics) add(`topic:${topic.toLowerCase()}`, 1, `topic:${topic.toLowerCase()}`);
  for (const path of spec.fields) {
    const value = fieldValue(item, path);
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === undefined || v === null || typeof v === "object") continue;
      add(`field:${path}=${String(v).toLowerCase()}`, 1, `${path}=${String(v)}`);
    }
  }

  const indices = Int32Array.from([...values.keys()].sort((a, b) => a - b));
  return {
    indices,
    values: Float32Array.from(indices, (index) => values.get(index) as number),
    names: withNames ? Array.from(indices, (index) => names.get(index) ?? "") : [],
  };
}
