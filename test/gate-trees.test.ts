/** The gate's model pieces on data small enough to know the answer by hand: trees, temperature, ECE. */
import { describe, expect, it } from "vitest";
import { calibrationReport, fitTemperature } from "../src/learned-gate/calibration.js";
import { predictOutputs, trainBoosted, type TrainingColumns } from "../src/learned-gate/trees.js";

describe("boosted trees", () => {
  it("put a threshold halfway between the last value of one class and the first of the other; missing values go left", () => {
    // Values 1..100 (and 10 items without one); the rule: above 37 is class 1.
    const values = Float64Array.from({ length: 110 }, (_, i) => (i < 100 ? i + 1 : Number.NaN));
    const labels = Int32Array.from(values, (v) => (v > 37 ? 1 : 0));
    const columns: TrainingColumns = { examples: 110, numeric: [values], postings: [] };
    const model = trainBoosted(columns, labels, 2, { rounds: 20, depth: 2, learningRate: 0.3, l2: 1, minChildWeight: 1, maxBins: 1024 });
    expect(model.outputs).toBe(1);
    const root = model.forests[0]![0]![0]!;
    expect(root).toMatchObject({ feature: 0, threshold: 37.5 });
    const logit = (v: number) => predictOutputs(model, [v])[0]!;
    expect(logit(37)).toBeLessThan(-1);
    expect(logit(38)).toBeGreaterThan(1);
    expect(logit(Number.NaN)).toBe(logit(1));
    // Deterministic: the same data, the same trees.
    expect(trainBoosted(columns, labels, 2, { rounds: 20, depth: 2, learningRate: 0.3, l2: 1, minChildWeight: 1, maxBins: 1024 })).toEqual(model);
  });

  it("learn an AND of a term and a threshold", () => {
    // 200 items: a term on the even ones, a value 0..99 twice over; class 1 = term AND value >= 50.
    const values = Float64Array.from({ length: 200 }, (_, i) => i % 100);
    const postings = [Int32Array.from({ length: 100 }, (_, k) => 2 * k)];
    const labels = Int32Array.from({ length: 200 }, (_, i) => (i % 2 === 0 && i % 100 >= 50 ? 1 : 0));
    const model = trainBoosted({ examples: 200, numeric: [values], postings }, labels, 2, { rounds: 30, depth: 2, learningRate: 0.3, l2: 1, minChildWeight: 1, maxBins: 1024 });
    for (let i = 0; i < 200; i++) expect(predictOutputs(model, [i % 100, i % 2 === 0 ? 1 : 0])[0]! > 0, `item ${i}`).toBe(labels[i] === 1);
  });
});

describe("calibration", () => {
  it("fits the temperature that makes a constant score as sure as its labels", () => {
    // Every item scores [0, 2]; 70 of 100 are class 1. Least log-loss when sigmoid(2 / T) = 0.7,
    // i.e. T = 2 / ln(0.7 / 0.3) = 2.3604.
    const scores = Array.from({ length: 100 }, () => Float64Array.of(0, 2));
    const labels = Array.from({ length: 100 }, (_, i) => (i < 70 ? 1 : 0));
    expect(fitTemperature(scores, labels)).toBeCloseTo(2.3604, 3);
  });

  it("measures the expected calibration error over ten bands", () => {
    // 10 items at 0.95, 8 right; 10 at 0.62, 6 right: ECE = 0.5 * |0.95 - 0.8| + 0.5 * |0.62 - 0.6| = 0.085.
    const outcomes = [
      ...Array.from({ length: 10 }, (_, i) => ({ confidence: 0.95, correct: i < 8 })),
      ...Array.from({ length: 10 }, (_, i) => ({ confidence: 0.62, correct: i < 6 })),
    ];
    const { ece, reliability } = calibrationReport(outcomes);
    expect(ece).toBeCloseTo(0.085, 4);
    expect(reliability).toEqual([
      { low: 0.6, high: 0.7, items: 10, confidence: 0.62, accuracy: 0.6 },
      { low: 0.9, high: 1, items: 10, confidence: 0.95, accuracy: 0.8 },
    ]);
  });
});
