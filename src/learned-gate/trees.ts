/**
 * Gradient-boosted decision trees for the gate, in plain TypeScript. Why trees: a user's rule is a
 * threshold ("at least 400 words"), a phrase ("mentions a recall") or a combination of the two, and
 * a depth-limited tree states exactly that; a linear model can only approximate a threshold with a
 * steep slope and cannot express AND at all. No randomness: the same columns and options give the
 * same trees, bit for bit (sums run in a fixed order, ties go to the earlier feature).
 *
 * Every split reads one feature: the item goes right when its value is above the threshold. A term
 * is 1 when the item has it and 0 when not (threshold 0.5); a missing measurement is NaN and goes
 * left, like the smallest values.
 */

export interface BoostOptions {
  /** Boosting rounds: trees per output. */
  rounds: number;
  /** Most splits from the root to a leaf. */
  depth: number;
  learningRate: number;
  /** L2 penalty on leaf values (XGBoost's lambda): keeps small leaves from shouting. */
  l2: number;
  /** Least summed hessian on each side of a split (XGBoost's min_child_weight). */
  minChildWeight: number;
  /** Most distinct thresholds a numeric feature is tried at (its values' quantiles beyond that). */
  maxBins: number;
}

export const DEFAULT_BOOST_OPTIONS: BoostOptions = { rounds: 60, depth: 3, learningRate: 0.1, l2: 1, minChildWeight: 1, maxBins: 1024 };

/**
 * One node. A leaf has `feature` -1. `value` is the node's own Newton step (what it would add as a
 * leaf): the difference between a child's value and its parent's is what the split contributed,
 * which is how decisions are explained.
 */
export interface TreeNode {
  feature: number;
  threshold: number;
  left: number;
  right: number;
  value: number;
}

export type Tree = TreeNode[];

/**
 * A boosted model over `features` columns. Two classes have one output, the log-odds of the second
 * class over the first; more classes have one output per class (softmax).
 */
export interface BoostedModel {
  outputs: number;
  base: number[];
  /** Per output, its trees in the order they were added. */
  forests: Tree[][];
}

/** The training set of one task, over its candidate features, in the form the trees read fast. */
export interface TrainingColumns {
  examples: number;
  /** Numeric features: a value per example (NaN where missing). */
  numeric: Float64Array[];
  /** Term features, numbered after the numeric ones: the examples that have each, ascending. */
  postings: Int32Array[];
}

/** Six significant digits: the file holds exactly the values training used, and small. */
export function roundValue(x: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(6));
}

interface Bins {
  /** The bin of each example. */
  of: Uint16Array;
  /** thresholds[b]: between bin b and b + 1. */
  thresholds: Float64Array;
}

/**
 * Cuts a numeric column into at most `maxBins` bins of whole runs of equal values; a threshold lies
 * halfway between neighbouring bins, so a rule's cut is found to within the gap the data leaves.
 */
function binColumn(column: Float64Array, maxBins: number): Bins {
  const n = column.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const key = (i: number) => (Number.isNaN(column[i] as number) ? -Infinity : (column[i] as number));
  order.sort((a, b) => key(a) - key(b) || a - b);
  let distinct = 0;
  for (let r = 0; r < n; r++) if (r === 0 || key(order[r] as number) !== key(order[r - 1] as number)) distinct++;
  const of = new Uint16Array(n);
  const lows: number[] = [];
  const highs: number[] = [];
  let bin = -1;
  for (let r = 0; r < n; r++) {
    const v = key(order[r] as number);
    const newRun = r === 0 || v !== key(order[r - 1] as number);
    // A new bin at each new value while there are few; past maxBins, at quantile steps.
    if (newRun && (bin < 0 || distinct <= maxBins || r >= ((bin + 1) * n) / maxBins) && bin + 1 < maxBins) {
      bin++;
      lows.push(v);
      highs.push(v);
    }
    of[order[r] as number] = bin;
    highs[bin] = v;
  }
  const thresholds = new Float64Array(Math.max(0, lows.length - 1));
  for (let b = 0; b + 1 < lows.length; b++) {
    const below = highs[b] as number;
    // Only missing values below: any present value is above (JSON has no -Infinity).
    thresholds[b] = below === -Infinity ? -Number.MAX_VALUE : (below + (lows[b + 1] as number)) / 2;
  }
  return { of, thresholds };
}

interface Split {
  gain: number;
  feature: number;
  /** For numeric features, the last bin on the left. */
  bin: number;
}

/** What every tree of a task reads: the columns, the numeric bins, and each example's terms (rows). */
interface Grower {
  columns: TrainingColumns;
  bins: Bins[];
  options: BoostOptions;
  /** Example e's terms are rowTerms[rowStart[e] .. rowStart[e + 1]). */
  rowStart: Int32Array;
  rowTerms: Int32Array;
  /** Scratch: marks the examples that have the term being split on. */
  marks: Uint8Array;
}

function makeGrower(columns: TrainingColumns, options: BoostOptions): Grower {
  const n = columns.examples;
  const rowStart = new Int32Array(n + 1);
  for (const examples of columns.postings) for (const e of examples) rowStart[e + 1] = (rowStart[e + 1] as number) + 1;
  for (let e = 0; e < n; e++) rowStart[e + 1] = (rowStart[e + 1] as number) + (rowStart[e] as number);
  const rowTerms = new Int32Array(rowStart[n] as number);
  const fill = rowStart.slice(0, n);
  columns.postings.forEach((examples, t) => {
    for (const e of examples) rowTerms[fill[e]!++] = t;
  });
  return { columns, bins: columns.numeric.map((c) => binColumn(c, options.maxBins)), options, rowStart, rowTerms, marks: new Uint8Array(n) };
}

function score(g: number, h: number, l2: number): number {
  return (g * g) / (h + l2);
}

/** A node still to split: its examples, their gradient sums, and the sums over those with each term. */
interface OpenNode {
  id: number;
  examples: Int32Array;
  G: number;
  H: number;
  termG: Float64Array;
  termH: Float64Array;
}

/** Sums of g and h over the examples that have each term, read row by row. */
function termSums(grower: Grower, examples: Int32Array, g: Float64Array, h: Float64Array): { termG: Float64Array; termH: Float64Array } {
  const M = grower.columns.postings.length;
  const termG = new Float64Array(M);
  const termH = new Float64Array(M);
  const { rowStart, rowTerms } = grower;
  for (const e of examples) {
    const ge = g[e] as number;
    const he = h[e] as number;
    for (let j = rowStart[e] as number, end = rowStart[e + 1] as number; j < end; j++) {
      const t = rowTerms[j] as number;
      termG[t] = (termG[t] as number) + ge;
      termH[t] = (termH[t] as number) + he;
    }
  }
  return { termG, termH };
}

/** The best split of a node: numeric features by a histogram over their bins, terms from the node's sums. */
function bestSplit(grower: Grower, node: OpenNode, g: Float64Array, h: Float64Array): Split {
  const { bins, options } = grower;
  const F = bins.length;
  const split: Split = { gain: 1e-9, feature: -1, bin: -1 };
  const parent = score(node.G, node.H, options.l2);
  for (let f = 0; f < F; f++) {
    const { of, thresholds } = bins[f] as Bins;
    const nb = thresholds.length + 1;
    if (nb < 2) continue;
    const histG = new Float64Array(nb);
    const histH = new Float64Array(nb);
    for (const e of node.examples) {
      const b = of[e] as number;
      histG[b] = (histG[b] as number) + (g[e] as number);
      histH[b] = (histH[b] as number) + (h[e] as number);
    }
    let GL = 0;
    let HL = 0;
    for (let b = 0; b + 1 < nb; b++) {
      GL += histG[b] as number;
      HL += histH[b] as number;
      const HR = node.H - HL;
      if (HL < options.minChildWeight || HR < options.minChildWeight) continue;
      const gain = score(GL, HL, options.l2) + score(node.G - GL, HR, options.l2) - parent;
      if (gain > split.gain) Object.assign(split, { gain, feature: f, bin: b });
    }
  }
  for (let t = 0; t < node.termG.length; t++) {
    const HR = node.termH[t] as number;
    const HL = node.H - HR;
    if (HL < options.minChildWeight || HR < options.minChildWeight) continue;
    const GR = node.termG[t] as number;
    const gain = score(node.G - GR, HL, options.l2) + score(GR, HR, options.l2) - parent;
    if (gain > split.gain) Object.assign(split, { gain, feature: F + t, bin: -1 });
  }
  return split;
}

/**
 * Grows one tree on gradients g and hessians h, level by level; returns it and each example's leaf.
 * Only the smaller child of a split sums its terms; the larger one takes its parent's sums minus
 * the smaller's, which halves the work where most of it is.
 */
function growTree(grower: Grower, g: Float64Array, h: Float64Array): { tree: Tree; leafOf: Int32Array } {
  const { columns, bins, options, marks } = grower;
  const n = columns.examples;
  const F = bins.length;
  const tree: Tree = [];
  const leafOf = new Int32Array(n);
  const newNode = (examples: Int32Array) => {
    let G = 0;
    let H = 0;
    for (const e of examples) {
      G += g[e] as number;
      H += h[e] as number;
    }
    const id = tree.push({ feature: -1, threshold: 0, left: -1, right: -1, value: roundValue((-G / (H + options.l2)) * options.learningRate) }) - 1;
    return { id, examples, G, H };
  };
  let level: OpenNode[] = [];
  const all = Int32Array.from({ length: n }, (_, e) => e);
  level.push({ ...newNode(all), ...termSums(grower, all, g, h) });
  for (let depth = 0; depth < options.depth && level.length > 0; depth++) {
    const next: OpenNode[] = [];
    const last = depth + 1 === options.depth;
    for (const node of level) {
      const split = bestSplit(grower, node, g, h);
      if (split.feature < 0) {
        for (const e of node.examples) leafOf[e] = node.id;
        continue;
      }
      const left: number[] = [];
      const right: number[] = [];
      if (split.feature < F) {
        const of = (bins[split.feature] as Bins).of;
        for (const e of node.examples) ((of[e] as number) > split.bin ? right : left).push(e);
      } else {
        const postings = columns.postings[split.feature - F] as Int32Array;
        for (const e of postings) marks[e] = 1;
        for (const e of node.examples) (marks[e] ? right : left).push(e);
        for (const e of postings) marks[e] = 0;
      }
      const l = newNode(Int32Array.from(left));
      const r = newNode(Int32Array.from(right));
      const parent = tree[node.id] as TreeNode;
      parent.feature = split.feature;
      parent.threshold = split.feature < F ? ((bins[split.feature] as Bins).thresholds[split.bin] as number) : 0.5;
      parent.left = l.id;
      parent.right = r.id;
      if (last) {
        for (const e of left) leafOf[e] = l.id;
        for (const e of right) leafOf[e] = r.id;
        continue;
      }
      const [small, large] = left.length <= right.length ? [l, r] : [r, l];
      const sums = termSums(grower, small.examples, g, h);
      const termG = Float64Array.from(node.termG, (x, t) => x - (sums.termG[t] as number));
      const termH = Float64Array.from(node.termH, (x, t) => x - (sums.termH[t] as number));
      next.push({ ...small, ...sums }, { ...large, termG, termH });
    }
    level = next;
  }
  for (const node of level) for (const e of node.examples) leafOf[e] = node.id;
  return { tree, leafOf };
}

/** Class scores from the outputs: two classes score [0, f], more score f itself. */
export function classScores(outputs: Float64Array, classes: number): Float64Array {
  if (classes === 1) return Float64Array.of(0);
  if (classes === 2) return Float64Array.of(0, outputs[0] as number);
  return outputs;
}

/** Trains the model on `labels` (class indices 0..classes-1), one per example. */
export function trainBoosted(columns: TrainingColumns, labels: Int32Array, classes: number, options: BoostOptions = DEFAULT_BOOST_OPTIONS): BoostedModel {
  const n = columns.examples;
  const outputs = classes <= 1 ? 0 : classes === 2 ? 1 : classes;
  const counts = new Float64Array(Math.max(classes, 1));
  for (const y of labels) counts[y] = (counts[y] as number) + 1;
  // Start from the class priors (smoothed), so the first trees learn the rule, not the base rate.
  const prior = (k: number) => Math.log(((counts[k] as number) + 1) / (n + classes));
  const base = outputs === 1 ? [roundValue(prior(1) - prior(0))] : Array.from({ length: outputs }, (_, k) => roundValue(prior(k)));
  const model: BoostedModel = { outputs, base, forests: Array.from({ length: outputs }, () => []) };
  if (outputs === 0 || n === 0) return model;
  const grower = makeGrower(columns, options);
  const F = new Float64Array(n * outputs);
  for (let e = 0; e < n; e++) for (let o = 0; o < outputs; o++) F[e * outputs + o] = base[o] as number;
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const p = new Float64Array(n * outputs);
  for (let round = 0; round < options.rounds; round++) {
    // Probabilities at the start of the round: every output's tree of this round fits the same ones.
    for (let e = 0; e < n; e++) {
      if (outputs === 1) {
        p[e] = 1 / (1 + Math.exp(-(F[e] as number)));
        continue;
      }
      let max = -Infinity;
      for (let o = 0; o < outputs; o++) max = Math.max(max, F[e * outputs + o] as number);
      let total = 0;
      for (let o = 0; o < outputs; o++) total += p[e * outputs + o] = Math.exp((F[e * outputs + o] as number) - max);
      for (let o = 0; o < outputs; o++) p[e * outputs + o] = (p[e * outputs + o] as number) / total;
    }
    for (let o = 0; o < outputs; o++) {
      const target = outputs === 1 ? 1 : o;
      for (let e = 0; e < n; e++) {
        const pe = p[e * outputs + o] as number;
        g[e] = pe - (labels[e] === target ? 1 : 0);
        h[e] = Math.max(pe * (1 - pe), 1e-6);
      }
      const { tree, leafOf } = growTree(grower, g, h);
      (model.forests[o] as Tree[]).push(tree);
      for (let e = 0; e < n; e++) F[e * outputs + o] = (F[e * outputs + o] as number) + ((tree[leafOf[e] as number] as TreeNode).value);
    }
  }
  return model;
}

/** The model's raw outputs for one item, given its value of each feature (terms 0/1, missing NaN). */
export function predictOutputs(model: BoostedModel, x: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(model.base);
  model.forests.forEach((trees, o) => {
    let sum = out[o] as number;
    for (const tree of trees) {
      let id = 0;
      for (let node = tree[0] as TreeNode; node.feature >= 0; node = tree[id] as TreeNode) id = (x[node.feature] as number) > node.threshold ? node.right : node.left;
      sum += (tree[id] as TreeNode).value;
    }
    out[o] = sum;
  });
  return out;
}
