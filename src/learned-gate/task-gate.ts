import { softmax } from "./calibration.js";
import { formatNumeric, type GateItemFeatures, type NumericKind } from "./gate-features.js";
import { classScores, predictOutputs, type BoostedModel, type TreeNode } from "./trees.js";

/** A feature a task's trees read: a measurement by its kind, or a term the item has or lacks. */
export interface GateFeature {
  kind: NumericKind | "term";
  name: string;
}

/** One task's gate: its classes are expert names, `null` meaning "skip the task". */
export interface TaskGate {
  classes: Array<string | null>;
  /** The features the trees split on; a node's `feature` indexes this list. */
  features: GateFeature[];
  model: BoostedModel;
  /** Divides the class scores before the softmax: fitted on the held-out split (1 = as trained). */
  temperature: number;
}

/** The item's value of each of the task's features: a term 1 or 0, a missing measurement NaN. */
export function featureVector(gate: TaskGate, x: GateItemFeatures): Float64Array {
  return Float64Array.from(gate.features, ({ kind, name }) => (kind === "term" ? (x.terms.has(name) ? 1 : 0) : (x.numeric.get(name)?.value ?? Number.NaN)));
}

/** Calibrated class probabilities, in `gate.classes` order. */
export function classProbabilities(gate: TaskGate, vector: ArrayLike<number>): Float64Array {
  return softmax(classScores(predictOutputs(gate.model, vector), gate.classes.length), gate.temperature);
}

export function mostProbable(p: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if ((p[k] as number) > (p[best] as number)) best = k;
  return best;
}

function signed(x: number): string {
  return `${x >= 0 ? "+" : ""}${x.toFixed(1)}`;
}

/** What one side of a split says about an item, in the feature's own terms. */
function describeSide(gate: TaskGate, feature: number, above: boolean, threshold: number, value: number): string {
  const { kind, name } = gate.features[feature] as GateFeature;
  if (kind === "term") return above ? name : `no ${name}`;
  if (Number.isNaN(value)) return `no ${name}`;
  // A split that only tells items with the measurement from those without it.
  if (threshold <= -Number.MAX_VALUE) return `${name}=${formatNumeric(kind, value)} (has one)`;
  if (kind === "count") return `${name}=${formatNumeric(kind, value)} ${above ? `above ${Math.floor(threshold)}` : `below ${Math.ceil(threshold)}`}`;
  const words = kind === "date" ? (above ? "after" : "before") : above ? "above" : "below";
  return `${name}=${formatNumeric(kind, value)} ${words} ${formatNumeric(kind, threshold)}`;
}

/**
 * The features that decided class `k`'s probability for this item, in the feature's terms
 * (`words=412 above 398 +2.1`, `"wrist injury" +3.0`, `no topic:tennis +0.8`): the ones that pushed
 * it up the most, or with `against`, down the most (why a class lost). Each split on the item's path
 * contributes the change in its tree's value (child minus node); a split on output o counts for
 * class k as the change in k's log-odds against the other classes' mean, divided by the temperature
 * like the probabilities. Splits on the same feature and side add up; the threshold shown is the
 * one of the split that contributed most.
 */
export function explain(gate: TaskGate, vector: ArrayLike<number>, k: number, top: number, against = false): string {
  const K = gate.classes.length;
  const { outputs, forests } = gate.model;
  const parts = new Map<string, { c: number; best: number; text: string }>();
  forests.forEach((trees, o) => {
    // How a change of 1 in output o moves class k's score against the others' mean.
    const weight = outputs === 1 ? (k === 1 ? 1 : -1) : o === k ? 1 : -1 / (K - 1);
    for (const tree of trees) {
      let node = tree[0] as TreeNode;
      while (node.feature >= 0) {
        const value = vector[node.feature] as number;
        const above = value > node.threshold;
        const child = tree[above ? node.right : node.left] as TreeNode;
        const c = (weight * (child.value - node.value)) / gate.temperature;
        const key = `${node.feature}:${above}`;
        const part = parts.get(key);
        if (!part) parts.set(key, { c, best: Math.abs(c), text: describeSide(gate, node.feature, above, node.threshold, value) });
        else {
          part.c += c;
          if (Math.abs(c) > part.best) {
            part.best = Math.abs(c);
            part.text = describeSide(gate, node.feature, above, node.threshold, value);
          }
        }
        node = child;
      }
    }
  });
  const sign = against ? -1 : 1;
  const shown = [...parts.values()].filter((p) => sign * p.c >= 0.05).sort((a, b) => sign * (b.c - a.c) || (a.text < b.text ? -1 : 1));
  if (shown.length === 0) return "no feature stood out (the classes' base rates decided)";
  return shown.slice(0, top).map((p) => `${p.text} ${signed(p.c)}`).join(", ");
}
