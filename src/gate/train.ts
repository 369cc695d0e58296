import { extractFeatures, type FeatureSpec, type SparseFeatures } from "./features.js";
import type { GateModel, TaskGate } from "./gate-file.js";
import type { LabelledItem } from "./dataset.js";
import { predictProbabilities, seededRandom, shuffled, trainLogistic, type TrainOptions } from "./logistic.js";
import { taskReport, type GateReport } from "./report.js";

export interface TrainGateOptions {
  features: FeatureSpec;
  train: TrainOptions;
  /** Share of the items held out for the report (default 0.2); 0 trains on everything. */
  holdOut: number;
}

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

/** The most probable class of a task for one item. */
export function predictClass(gate: TaskGate, x: SparseFeatures): number {
  const p = predictProbabilities(gate.model, x);
  let best = 0;
  for (let k = 1; k < p.length; k++) if ((p[k] as number) > (p[best] as number)) best = k;
  return best;
}

/** Scores `gate` on labelled items: per task, the items that have a label for it. */
export function evaluateGate(gate: GateModel, items: readonly LabelledItem[], features?: readonly SparseFeatures[]): GateReport {
  const xs = features ?? items.map(({ item }) => extractFeatures(item, gate.features, { names: false }));
  const report: GateReport = { tasks: {} };
  for (const [task, taskGate] of Object.entries(gate.tasks)) {
    const classes = [...taskGate.classes];
    const pairs: Array<[number, number]> = [];
    items.forEach(({ route }, i) => {
      if (!(task in route)) return;
      const label = route[task] ?? null;
      let wanted = classes.indexOf(label);
      if (wanted < 0) wanted = classes.push(label) - 1;
      pairs.push([wanted, predictClass(taskGate, xs[i] as SparseFeatures)]);
    });
    report.tasks[task] = taskReport(classes, pairs);
  }
  return report;
}

/**
 * Trains one multinomial logistic model per task named in the routes, on a seeded split; reports
 * on the held-out part. Deterministic: same items and options, same gate.
 */
export function trainGate(items: readonly LabelledItem[], options: TrainGateOptions): { gate: GateModel; report: GateReport | null; trainItems: number; heldOutItems: number } {
  const xs = items.map(({ item }) => extractFeatures(item, options.features, { names: false }));
  const order = shuffled(items.map((_, i) => i), seededRandom(options.train.seed ^ 0x9e3779b9));
  const heldCount = options.holdOut > 0 && items.length > 1 ? Math.max(1, Math.floor(items.length * options.holdOut)) : 0;
  const held = order.slice(0, heldCount).sort((a, b) => a - b);
  const fit = order.slice(heldCount).sort((a, b) => a - b);
  const tasks = [...new Set(items.flatMap(({ route }) => Object.keys(route)))].sort();
  const gate: GateModel = { features: options.features, tasks: {} };
  for (const task of tasks) {
    const classes = classesOf(items, task);
    const examples = fit
      .filter((i) => task in (items[i] as LabelledItem).route)
      .map((i) => ({ x: xs[i] as SparseFeatures, y: classes.indexOf((items[i] as LabelledItem).route[task] ?? null) }));
    gate.tasks[task] = { classes, model: trainLogistic(examples, options.features.dim, classes.length, options.train) };
  }
  const report = heldCount > 0 ? evaluateGate(gate, held.map((i) => items[i] as LabelledItem), held.map((i) => xs[i] as SparseFeatures)) : null;
  return { gate, report, trainItems: fit.length, heldOutItems: heldCount };
}
