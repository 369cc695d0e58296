/**
 * TF-IDF sentence vectors and the weighted cosine-similarity graph between them (the "continuous
 * LexRank" graph, Erkan & Radev 2004).
 *
 * Cost: building vectors is linear in the number of terms. Similarities go through an inverted index
 * (term → sentences containing it), so only sentence pairs that share a term are ever touched:
 * O(Σ_t df_t²) for document frequencies df_t, at worst O(n²·terms) for n sentences, which is why the
 * summariser bounds n. Stop words are already gone, which keeps df_t small.
 */

/** Sparse vector: term index → weight, L2-normalised so a dot product is the cosine. */
export type SparseVector = Map<number, number>;

export interface SentenceGraph {
  /** Neighbours of each sentence with the edge weight (cosine similarity), both directions stored. */
  neighbours: Array<Array<{ to: number; weight: number }>>;
}

/**
 * Vectors with sublinear term frequency (1 + ln tf) and smoothed IDF (ln((n + 1)/(df + 1)) + 1),
 * computed over the given sentences. A sentence without terms gets an empty vector.
 */
export function tfidfVectors(termsPerSentence: readonly (readonly string[])[]): SparseVector[] {
  const termIds = new Map<string, number>();
  const counts = termsPerSentence.map((terms) => {
    const tf = new Map<number, number>();
    for (const term of terms) {
      let id = termIds.get(term);
      if (id === undefined) {
        id = termIds.size;
        termIds.set(term, id);
      }
      tf.set(id, (tf.get(id) ?? 0) + 1);
    }
    return tf;
  });
  const df = new Float64Array(termIds.size);
  for (const tf of counts) for (const id of tf.keys()) df[id] = (df[id] ?? 0) + 1;
  const n = termsPerSentence.length;
  return counts.map((tf) => {
    const vector: SparseVector = new Map();
    let norm = 0;
    for (const [id, count] of tf) {
      const weight = (1 + Math.log(count)) * (Math.log((n + 1) / ((df[id] ?? 0) + 1)) + 1);
      vector.set(id, weight);
      norm += weight * weight;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (const [id, weight] of vector) vector.set(id, weight / norm);
    return vector;
  });
}

export function cosine(a: SparseVector, b: SparseVector): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let dot = 0;
  for (const [id, weight] of small) {
    const other = large.get(id);
    if (other !== undefined) dot += weight * other;
  }
  return dot;
}

/** Edges between sentences whose cosine similarity is at least `minSimilarity` (> 0). */
export function similarityGraph(vectors: readonly SparseVector[], minSimilarity: number): SentenceGraph {
  const postings = new Map<number, Array<{ sentence: number; weight: number }>>();
  vectors.forEach((vector, sentence) => {
    for (const [id, weight] of vector) {
      let list = postings.get(id);
      if (!list) postings.set(id, (list = []));
      list.push({ sentence, weight });
    }
  });
  const neighbours: SentenceGraph["neighbours"] = vectors.map(() => []);
  vectors.forEach((vector, i) => {
    const dots = new Map<number, number>();
    for (const [id, weight] of vector) {
      for (const posting of postings.get(id) ?? []) {
        // Each unordered pair once: only partners after i.
        if (posting.sentence > i) dots.set(posting.sentence, (dots.get(posting.sentence) ?? 0) + weight * posting.weight);
      }
    }
    for (const [j, similarity] of dots) {
      if (similarity >= minSimilarity) {
        neighbours[i]?.push({ to: j, weight: similarity });
        neighbours[j]?.push({ to: i, weight: similarity });
      }
    }
  });
  return { neighbours };
}
