import { calibrationReport, type ReliabilityBin } from "./calibration.js";

/**
 * How well a gate's choices match the wanted routes, per task: accuracy, macro-F1, the confusion,
 * and how well its probabilities are calibrated (expected calibration error and the reliability
 * table it comes from).
 */
export interface TaskReport {
  items: number;
  accuracy: number;
  macro_f1: number;
  /** Class names in order; "(skip)" for null. */
  labels: string[];
  /** confusion[wanted][predicted], in `labels` order. */
  confusion: number[][];
  /** Expected calibration error of the top probability (ten bins). */
  ece: number;
  reliability: ReliabilityBin[];
}

/** One item's outcome: class indices into the task's classes, and the top probability. */
export interface Outcome {
  wanted: number;
  predicted: number;
  confidence: number;
}

export interface GateReport {
  tasks: Record<string, TaskReport>;
}

export function classLabel(c: string | null): string {
  return c === null ? "(skip)" : c;
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}

export function taskReport(classes: ReadonlyArray<string | null>, outcomes: readonly Outcome[]): TaskReport {
  const K = classes.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  let correct = 0;
  for (const { wanted, predicted } of outcomes) {
    (confusion[wanted] as number[])[predicted]! += 1;
    if (wanted === predicted) correct++;
  }
  // Macro-F1 over the classes that occur (wanted or predicted) in this set.
  const f1s: number[] = [];
  for (let k = 0; k < K; k++) {
    const tp = (confusion[k] as number[])[k] as number;
    const wanted = (confusion[k] as number[]).reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + (row[k] as number), 0);
    if (wanted === 0 && predicted === 0) continue;
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = wanted === 0 ? 0 : tp / wanted;
    f1s.push(precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall));
  }
  return {
    items: outcomes.length,
    accuracy: outcomes.length === 0 ? 0 : round4(correct / outcomes.length),
    macro_f1: f1s.length === 0 ? 0 : round4(f1s.reduce((a, b) => a + b, 0) / f1s.length),
    labels: classes.map(classLabel),
    confusion,
    ...calibrationReport(outcomes.map((o) => ({ confidence: o.confidence, correct: o.wanted === o.predicted }))),
  };
}

/**
 * The report as text: one block per task, a confusion table with wanted rows and predicted columns,
 * then the reliability table (per band of top probability: items, mean probability, accuracy).
 */
export function formatReport(report: GateReport, title: string): string {
  const lines = [title];
  for (const [task, r] of Object.entries(report.tasks)) {
    lines.push(`  ${task}: ${r.items} items, accuracy ${(r.accuracy * 100).toFixed(1)}%, macro-F1 ${r.macro_f1.toFixed(3)}, calibration error ${r.ece.toFixed(3)}`);
    const width = Math.max(8, ...r.labels.map((l) => l.length));
    lines.push(`    ${"wanted \\ routed".padEnd(width)}  ${r.labels.map((l) => l.padStart(width)).join("  ")}`);
    r.confusion.forEach((row, i) => {
      lines.push(`    ${(r.labels[i] as string).padEnd(width)}  ${row.map((n) => String(n).padStart(width)).join("  ")}`);
    });
    lines.push("    probability   items  mean prob  accuracy");
    for (const bin of r.reliability) {
      lines.push(`    ${bin.low.toFixed(1)}-${bin.high.toFixed(1)}    ${String(bin.items).padStart(7)}  ${bin.confidence.toFixed(3).padStart(9)}  ${bin.accuracy.toFixed(3).padStart(8)}`);
    }
  }
  return lines.join("\n");
}

/**
 * For a task whose classes include its costly (neural) expert, from the confusion alone: the share
 * of items the gate sends to it, the share of neural calls avoided against running it on every item
 * (`--router all`), and the agreement kept: items routed as wanted, or to the neural expert itself
 * (whose answer is the reference).
 */
export function costSummary(r: TaskReport, costly: ReadonlySet<string>): { neural_routed: number; neural_calls_avoided: number; agreement_kept: number } | undefined {
  const n = r.labels.findIndex((l) => costly.has(l));
  if (n < 0 || r.items === 0) return undefined;
  const routed = r.confusion.reduce((a, row) => a + (row[n] as number), 0);
  const diagonal = r.confusion.reduce((a, row, i) => a + (row[i] as number), 0);
  const kept = diagonal + routed - ((r.confusion[n] as number[])[n] as number);
  return {
    neural_routed: round4(routed / r.items),
    neural_calls_avoided: round4(1 - routed / r.items),
    agreement_kept: round4(kept / r.items),
  };
}
