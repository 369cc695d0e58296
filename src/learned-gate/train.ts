import type { LabelledItem } from "./dataset.js";
import { extractFeatures, type FeatureSpec, type GateItemFeatures } from "./gate-features.js";
import type { GateModel } from "./gate-file.js";
import { fitTemperature } from "./calibration.js";
import { buildMatrix, type FeatureMatrix } from "./matrix.js";
import { seededRandom, shuffled } from "./random.js";
import { taskReport, type GateReport, type Outcome } from "./report.js";
import { classProbabilities, featureVector, mostProbable, type GateFeature, type TaskGate } from "./task-gate.js";
import { classScores, DEFAULT_BOOST_OPTIONS, predictOutputs, trainBoosted, type BoostedModel, type BoostOptions, type TrainingColumns } from "./trees.js";

export interface TrainGateOptions {
  features: FeatureSpec;
  boost: BoostOptions;
  /** Share of the items held out for calibration and the report (default 0.2); 0 trains on everything. */
  holdOut: number;
  /** Seed of the held-out split. */
  seed: number;
  /** A term is a feature only if at least this many items have it. */
  minItems: number;
  /** Terms each task's trees may split on: the ones that tell its classes apart best on their own. */
  maxTerms: number;
}

export const DEFAULT_TRAIN_OPTIONS: Omit<TrainGateOptions, "features"> = { boost: DEFAULT_BOOST_OPTIONS, holdOut: 0.2, seed: 1, minItems: 3, maxTerms: 500 };

/** Classes of a task: the expert names seen, sorted, then null (skip) if any item skips it. */
function classesOf(items: readonly LabelledItem[], task: string): Array<string | null> {
  const names = new Set<string>();
  let skip = false;
  for (const { route } of items) {
    if (!(task in route)) continue;
    const label = route[task];
    if (label === null) skip = true;
    else if (label !== undefined) names.add(label);
  }
  return [...[...names].sort(), ...(skip ? [null] : [])];
}

/** Entropy (nats) of class counts summing to n. */
function entropy(counts: ArrayLike<number>, n: number): number {
  let h = 0;
  for (let k = 0; k < counts.length; k++) {
    const c = counts[k] as number;
    if (c > 0) h -= (c / n) * Math.log(c / n);
  }
  return h;
}

/**
 * The terms that tell the classes apart best on their own (information gain of "has the term"),
 * at most `max`, best first, ties to the term seen first. A rule combining a phrase with anything
 * else still makes the phrase informative alone, so combinations survive this cut.
 */
function selectTerms(matrix: FeatureMatrix, examples: readonly number[], labels: Int32Array, K: number, max: number): number[] {
  const V = matrix.termNames.length;
  const counts = new Float64Array(V * K);
  const totals = new Float64Array(K);
  examples.forEach((i, e) => {
    const y = labels[e] as number;
    totals[y] = (totals[y] as number) + 1;
    for (const t of matrix.itemTerms[i] as Int32Array) counts[t * K + y] = (counts[t * K + y] as number) + 1;
  });
  const n = examples.length;
  const before = entropy(totals, n);
  const gains: Array<{ t: number; gain: number }> = [];
  const has = new Float64Array(K);
  const lacks = new Float64Array(K);
  for (let t = 0; t < V; t++) {
    let m = 0;
    for (let k = 0; k < K; k++) {
      has[k] = counts[t * K + k] as number;
      lacks[k] = (totals[k] as number) - (has[k] as number);
      m += has[k] as number;
    }
    if (m === 0 || m === n) continue;
    const gain = before - (m / n) * entropy(has, m) - ((n - m) / n) * entropy(lacks, n - m);
    if (gain > 1e-9) gains.push({ t, gain });
  }
  gains.sort((a, b) => b.gain - a.gain || a.t - b.t);
  return gains.slice(0, max).map((g) => g.t);
}

/** A task's training columns: every measurement, and the selected terms' postings. */
function columnsFor(matrix: FeatureMatrix, examples: readonly number[], terms: readonly number[]): TrainingColumns {
  const slot = new Int32Array(matrix.termNames.length).fill(-1);
  terms.forEach((t, s) => (slot[t] = s));
  const lists: number[][] = terms.map(() => []);
  examples.forEach((i, e) => {
    for (const t of matrix.itemTerms[i] as Int32Array) {
      const s = slot[t] as number;
      if (s >= 0) (lists[s] as number[]).push(e);
    }
  });
  return {
    examples: examples.length,
    numeric: matrix.numeric.map((column) => Float64Array.from(examples, (i) => column[i] as number)),
    postings: lists.map((l) => Int32Array.from(l)),
  };
}

/** Keeps only the features the trees split on, renumbering the nodes: the gate file lists what matters. */
function compact(model: BoostedModel, candidates: readonly GateFeature[]): { model: BoostedModel; features: GateFeature[] } {
  const used = new Set<number>();
  for (const trees of model.forests) for (const tree of trees) for (const node of tree) if (node.feature >= 0) used.add(node.feature);
  const order = [...used].sort((a, b) => a - b);
  const index = new Map(order.map((f, i) => [f, i]));
  const forests = model.forests.map((trees) => trees.map((tree) => tree.map((node) => (node.feature < 0 ? node : { ...node, feature: index.get(node.feature) as number }))));
  return { model: { ...model, forests }, features: order.map((f) => candidates[f] as GateFeature) };
}

/** What the gate did with one item for one task: the class it routed to and that class's probability. */
export interface Prediction {
  item: number;
  task: string;
  wanted: string | null;
  routed: string | null;
  probability: number;
}

/**
 * Scores `gate` on labelled items: per task, the items that have a label for it. `onPrediction`
 * sees every item's outcome (for a per-item listing).
 */
export function evaluateGate(
  gate: GateModel,
  items: readonly LabelledItem[],
  features?: readonly GateItemFeatures[],
  onPrediction?: (prediction: Prediction) => void,
): GateReport {
  const xs = features ?? items.map(({ item }) => extractFeatures(item, gate.features));
  const report: GateReport = { tasks: {} };
  for (const [task, taskGate] of Object.entries(gate.tasks)) {
    const classes = [...taskGate.classes];
    const outcomes: Outcome[] = [];
    items.forEach(({ route }, i) => {
      if (!(task in route)) return;
      const label = route[task] ?? null;
      let wanted = classes.indexOf(label);
      if (wanted < 0) wanted = classes.push(label) - 1;
      const p = classProbabilities(taskGate, featureVector(taskGate, xs[i] as GateItemFeatures));
      const predicted = mostProbable(p);
      outcomes.push({ wanted, predicted, confidence: p[predicted] as number });
      onPrediction?.({ item: i, task, wanted: label, routed: classes[predicted] ?? null, probability: p[predicted] as number });
    });
    report.tasks[task] = taskReport(classes, outcomes);
  }
  return report;
}

/**
 * Trains boosted trees per task named in the routes, on a seeded split; fits each task's
 * temperature on the held-out part and reports there. Deterministic: same items and options, same
 * gate, byte for byte.
 */
export function trainGate(items: readonly LabelledItem[], options: TrainGateOptions): { gate: GateModel; report: GateReport | null; trainItems: number; heldOutItems: number } {
  const order = shuffled(items.map((_, i) => i), seededRandom(options.seed ^ 0x9e3779b9));
  const heldCount = options.holdOut > 0 && items.length > 1 ? Math.max(1, Math.floor(items.length * options.holdOut)) : 0;
  const held = order.slice(0, heldCount).sort((a, b) => a - b);
  const fit = order.slice(heldCount).sort((a, b) => a - b);
  const fitItems = fit.map((i) => items[i] as LabelledItem);
  const matrix = buildMatrix(fitItems.map(({ item }) => item), options.features, options.minItems);
  const candidates: GateFeature[] = [
    ...matrix.numericNames.map((name, f) => ({ kind: matrix.numericKinds[f] as GateFeature["kind"], name })),
    ...matrix.termNames.map((name) => ({ kind: "term" as const, name })),
  ];
  const heldItems = held.map((i) => items[i] as LabelledItem);
  const heldFeatures = heldItems.map(({ item }) => extractFeatures(item, options.features));
  const tasks = [...new Set(items.flatMap(({ route }) => Object.keys(route)))].sort();
  const gate: GateModel = { features: options.features, tasks: {} };
  for (const task of tasks) {
    const classes = classesOf(items, task);
    const examples = fitItems.flatMap(({ route }, e) => (task in route ? [e] : []));
    const labels = Int32Array.from(examples, (e) => classes.indexOf((fitItems[e] as LabelledItem).route[task] ?? null));
    const terms = selectTerms(matrix, examples, labels, classes.length, options.maxTerms);
    const trained = trainBoosted(columnsFor(matrix, examples, terms), labels, classes.length, options.boost);
    const F = matrix.numericNames.length;
    const taskCandidates = [...candidates.slice(0, F), ...terms.map((t) => candidates[F + t] as GateFeature)];
    const { model, features } = compact(trained, taskCandidates);
    const taskGate: TaskGate = { classes, features, model, temperature: 1 };
    // Calibrate on the held-out items of this task (their labels were not trained on).
    const scores: Float64Array[] = [];
    const wanted: number[] = [];
    heldItems.forEach(({ route }, i) => {
      const k = task in route ? classes.indexOf(route[task] ?? null) : -1;
      if (k < 0) return;
      scores.push(classScores(predictOutputs(model, featureVector(taskGate, heldFeatures[i] as GateItemFeatures)), classes.length));
      wanted.push(k);
    });
    taskGate.temperature = fitTemperature(scores, wanted);
    gate.tasks[task] = taskGate;
  }
  const report = heldCount > 0 ? evaluateGate(gate, heldItems, heldFeatures) : null;
  return { gate, report, trainItems: fit.length, heldOutItems: heldCount };
}
