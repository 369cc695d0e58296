/**
 * Personalised PageRank on a weighted undirected graph, by power iteration:
 *     r ← (1 − d)·p + d·(Wᵀ D⁻¹ r) + d·(mass of edgeless nodes)·p
 * where D is the weighted degree and p the personalisation (teleport) distribution. Nodes without
 * edges hand their mass back through p, so r stays a probability distribution.
 * Each iteration costs O(nodes + edges); it stops when the L1 change falls below `tolerance`.
 */
import type { SentenceGraph } from "./sentence-graph.js";

export interface PageRankOptions {
  damping?: number;
  tolerance?: number;
  maxIterations?: number;
}

export interface PageRankResult {
  scores: Float64Array;
  iterations: number;
  converged: boolean;
}

export function personalisedPageRank(
  graph: SentenceGraph,
  personalisation: Float64Array,
  options: PageRankOptions = {},
): PageRankResult {
  const damping = options.damping ?? 0.85;
  const tolerance = options.tolerance ?? 1e-9;
  const maxIterations = options.maxIterations ?? 200;
  const n = graph.neighbours.length;
  const degree = new Float64Array(n);
  graph.neighbours.forEach((edges, i) => {
    for (const edge of edges) degree[i] = (degree[i] ?? 0) + edge.weight;
  });

  let rank = Float64Array.from(personalisation);
  let next = new Float64Array(n);
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    let edgelessMass = 0;
    next.fill(0);
    for (let i = 0; i < n; i++) {
      const mass = rank[i] ?? 0;
      const d = degree[i] ?? 0;
      if (d === 0) {
        edgelessMass += mass;
        continue;
      }
      for (const edge of graph.neighbours[i] ?? []) next[edge.to] = (next[edge.to] ?? 0) + (mass * edge.weight) / d;
    }
    let change = 0;
    for (let i = 0; i < n; i++) {
      const p = personalisation[i] ?? 0;
      const value = (1 - damping) * p + damping * ((next[i] ?? 0) + edgelessMass * p);
      change += Math.abs(value - (rank[i] ?? 0));
      next[i] = value;
    }
    [rank, next] = [next, rank];
    if (change < tolerance) return { scores: rank, iterations: iteration, converged: true };
  }
  return { scores: rank, iterations: maxIterations, converged: false };
}
