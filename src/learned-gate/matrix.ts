import type { NewsItem } from "../core/news-item.js";
import { pairTerm, readItem, wordTerm, type FeatureSpec, type NumericKind, type TermVisitor } from "./gate-features.js";

/**
 * A training set's features in columns: each numeric feature's value per item (NaN where the item
 * lacks it), and per item the ids of the terms it has, among the terms at least `minDocs` items
 * share. Terms are turned into ids item by item, so 10,000s of long articles fit in memory.
 */
export interface FeatureMatrix {
  items: number;
  numericNames: string[];
  numericKinds: NumericKind[];
  numeric: Float64Array[];
  termNames: string[];
  /** Per item, its terms' ids, ascending. */
  itemTerms: Int32Array[];
}

/** Pairs are keyed by their words' ids: a number, so no string is built for a pair seen before. */
const PAIR_KEY = 2 ** 24;

export function buildMatrix(items: readonly NewsItem[], spec: FeatureSpec, minDocs: number): FeatureMatrix {
  const names: string[] = [];
  const docs: number[] = [];
  /** The last item that had each term: counts an item once however often it repeats the term. */
  const lastItem: number[] = [];
  const words = new Map<string, number>();
  const pairs = new Map<number, number>();
  const others = new Map<string, number>();
  const raw: Int32Array[] = [];
  const numericIndex = new Map<string, number>();
  const numericKinds: NumericKind[] = [];
  const numericValues: Array<Array<[number, number]>> = [];
  let current = -1;
  let ids: number[] = [];
  const newTerm = (name: string) => {
    docs.push(0);
    lastItem.push(-1);
    return names.push(name) - 1;
  };
  const seen = (id: number) => {
    if (lastItem[id] === current) return;
    lastItem[id] = current;
    docs[id] = (docs[id] as number) + 1;
    ids.push(id);
  };
  const wordId = (word: string) => {
    let id = words.get(word);
    if (id === undefined) words.set(word, (id = newTerm(wordTerm(word))));
    return id;
  };
  const visitor: TermVisitor = {
    word: (word) => seen(wordId(word)),
    pair: (first, second) => {
      const key = wordId(first) * PAIR_KEY + wordId(second);
      let id = pairs.get(key);
      if (id === undefined) pairs.set(key, (id = newTerm(pairTerm(first, second))));
      seen(id);
    },
    other: (term) => {
      let id = others.get(term);
      if (id === undefined) others.set(term, (id = newTerm(term)));
      seen(id);
    },
  };
  items.forEach((item, i) => {
    current = i;
    ids = [];
    const features = readItem(item, spec, visitor);
    for (const [name, { kind, value }] of features.numeric) {
      let f = numericIndex.get(name);
      if (f === undefined) {
        f = numericKinds.push(kind) - 1;
        numericIndex.set(name, f);
        numericValues.push([]);
      }
      (numericValues[f] as Array<[number, number]>).push([i, value]);
    }
    raw.push(Int32Array.from(ids));
  });
  if (names.length >= PAIR_KEY) throw new RangeError(`too many distinct terms to number (${names.length})`);

  // Keep the terms enough items share, renumbered in order of first appearance (deterministic).
  const kept = new Int32Array(names.length).fill(-1);
  const termNames: string[] = [];
  names.forEach((name, id) => {
    if ((docs[id] as number) >= minDocs) kept[id] = termNames.push(name) - 1;
  });
  const itemTerms = raw.map((list) => {
    const out: number[] = [];
    for (const id of list) {
      const k = kept[id] as number;
      if (k >= 0) out.push(k);
    }
    return Int32Array.from(out).sort();
  });

  const numericNames = [...numericIndex.keys()];
  const numeric = numericValues.map((pairs) => {
    const column = new Float64Array(items.length).fill(Number.NaN);
    for (const [i, value] of pairs) column[i] = value;
    return column;
  });
  return { items: items.length, numericNames, numericKinds, numeric, termNames, itemTerms };
}
