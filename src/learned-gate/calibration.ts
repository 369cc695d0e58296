/**
 * Calibration: the gate's probabilities are the mixture's weights and the budget's "need", so 0.9
 * should be right nine times in ten. Boosted trees are sure of themselves; one temperature per task,
 * fitted on the held-out split, divides the class scores so that their log-loss there is least.
 */

export function softmax(z: ArrayLike<number>, temperature = 1): Float64Array {
  let max = -Infinity;
  for (let k = 0; k < z.length; k++) max = Math.max(max, (z[k] as number) / temperature);
  const p = new Float64Array(z.length);
  let total = 0;
  for (let k = 0; k < z.length; k++) total += p[k] = Math.exp((z[k] as number) / temperature - max);
  for (let k = 0; k < z.length; k++) p[k] = (p[k] as number) / total;
  return p;
}

/** Mean negative log-likelihood of the labels under the scores divided by `temperature`. */
function logLoss(scores: readonly Float64Array[], labels: readonly number[], temperature: number): number {
  let total = 0;
  scores.forEach((z, i) => {
    const p = softmax(z, temperature)[labels[i] as number] as number;
    total -= Math.log(Math.max(p, 1e-15));
  });
  return total / Math.max(scores.length, 1);
}

/**
 * Temperatures tried: from twice as sure as trained (0.5; a rule the held-out items all follow
 * pushes towards certainty, which unseen items do not earn) to nearly uniform (16).
 */
const LOG_T_MIN = Math.log(0.5);
const LOG_T_MAX = Math.log(16);

/**
 * The temperature in [0.5, 16] with the least held-out log-loss, by golden-section search on its
 * logarithm (the loss is unimodal there); 1 when there is nothing to fit on. Rounded to 4 digits.
 */
export function fitTemperature(scores: readonly Float64Array[], labels: readonly number[]): number {
  if (scores.length === 0) return 1;
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = LOG_T_MIN;
  let b = LOG_T_MAX;
  let c = b - ratio * (b - a);
  let d = a + ratio * (b - a);
  let fc = logLoss(scores, labels, Math.exp(c));
  let fd = logLoss(scores, labels, Math.exp(d));
  for (let i = 0; i < 40; i++) {
    if (fc <= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = logLoss(scores, labels, Math.exp(c));
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = logLoss(scores, labels, Math.exp(d));
    }
  }
  return Number(Math.exp((a + b) / 2).toPrecision(4));
}

/** One row of a reliability table: the items whose top probability fell in [low, high). */
export interface ReliabilityBin {
  low: number;
  high: number;
  items: number;
  /** Mean top probability of those items. */
  confidence: number;
  /** Share of those items whose most probable class was the wanted one. */
  accuracy: number;
}

export const RELIABILITY_BINS = 10;

/**
 * Expected calibration error over ten equal-width bins of the top probability: the item-weighted
 * mean gap between confidence and accuracy; and the table it comes from (bins with items only).
 */
export function calibrationReport(outcomes: ReadonlyArray<{ confidence: number; correct: boolean }>): { ece: number; reliability: ReliabilityBin[] } {
  const items = new Array<number>(RELIABILITY_BINS).fill(0);
  const confidence = new Array<number>(RELIABILITY_BINS).fill(0);
  const correct = new Array<number>(RELIABILITY_BINS).fill(0);
  for (const o of outcomes) {
    const b = Math.min(RELIABILITY_BINS - 1, Math.floor(o.confidence * RELIABILITY_BINS));
    items[b]! += 1;
    confidence[b]! += o.confidence;
    if (o.correct) correct[b]! += 1;
  }
  let ece = 0;
  const reliability: ReliabilityBin[] = [];
  for (let b = 0; b < RELIABILITY_BINS; b++) {
    const n = items[b] as number;
    if (n === 0) continue;
    const meanConfidence = (confidence[b] as number) / n;
    const accuracy = (correct[b] as number) / n;
    ece += (n / outcomes.length) * Math.abs(meanConfidence - accuracy);
    reliability.push({ low: b / RELIABILITY_BINS, high: (b + 1) / RELIABILITY_BINS, items: n, confidence: round4(meanConfidence), accuracy: round4(accuracy) });
  }
  return { ece: round4(ece), reliability };
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
