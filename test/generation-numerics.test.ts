/**
 * torch.topk tie order and torch.log_softmax rounding, against values produced by torch itself
 * (tools/python/gen_reference_extra.py -> test/fixtures/references/extra-{topk,log-softmax}.json).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { argmax, logSoftmaxRow, topk, topkOfRowSums } from "../src/runtime/generation/index.js";

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/references/${name}`, import.meta.url), "utf8"));

const decode = (c: number | string): number =>
  c === "nan" ? NaN : c === "inf" ? Infinity : c === "-inf" ? -Infinity : (c as number);

function f32FromHex(hex: string): Float32Array {
  const bytes = Buffer.from(hex, "hex");
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

describe("topk", () => {
  const { cases } = fixture("extra-topk.json") as { cases: { row: (number | string)[]; k: number; indices: number[] }[] };

  it("orders ties exactly like torch.topk on CPU (partial-sort and nth_element paths)", () => {
    let partialSortPath = 0;
    for (const c of cases) {
      const row = Float32Array.from(c.row, decode);
      if (c.k * 64 <= row.length) partialSortPath++;
      const got = topk(row, c.k);
      expect(Array.from(got.indices)).toEqual(c.indices);
      expect(Array.from(got.values)).toEqual(c.indices.map((i) => row[i]!));
    }
    expect(partialSortPath).toBeGreaterThanOrEqual(8);
    expect(cases.length - partialSortPath).toBeGreaterThan(50);
  });

  it("returns the k largest, largest first, on distinct values", () => {
    const row = Float32Array.from([0.5, -1, 3, 2.5, 7, -Infinity, 1]);
    const got = topk(row, 3);
    expect(Array.from(got.indices)).toEqual([4, 2, 3]);
    expect(Array.from(got.values)).toEqual([7, 3, 2.5]);
  });

  it("rejects k out of range", () => {
    expect(() => topk(new Float32Array(3), 4)).toThrow(RangeError);
  });
});

describe("argmax", () => {
  it("returns the first maximum, like torch.argmax", () => {
    expect(argmax(Float32Array.from([0, 1, 1, 0]))).toBe(1);
    expect(argmax(Float32Array.from([5, 0, 9, 9, 1, 9]), 1, 4)).toBe(2);
    expect(argmax(Float32Array.from([-Infinity, -Infinity]))).toBe(0);
  });
});

describe("logSoftmaxRow", () => {
  const { cases } = fixture("extra-log-softmax.json") as { cases: { input: string; output: string }[] };

  it("matches torch.log_softmax to within 2 ulps of the row's log-sum, preserving order inside each row", () => {
    let exact = 0;
    let total = 0;
    for (const c of cases) {
      const input = f32FromHex(c.input);
      const expected = f32FromHex(c.output);
      const got = new Float32Array(input.length);
      logSoftmaxRow(input, 0, input.length, got, 0);
      // Only torch's float32 log-sum term may differ (its vectorised sum order is CPU-dependent), so the
      // error is bounded by the ulp of the row's largest magnitude, not of each value.
      let magnitude = 0;
      for (const y of expected) magnitude = Math.max(magnitude, Math.abs(y));
      const ulp = 2 ** (Math.floor(Math.log2(magnitude)) - 23);
      for (let i = 0; i < input.length; i++) {
        expect(Math.abs(got[i]! - expected[i]!)).toBeLessThanOrEqual(2 * ulp);
        if (got[i] === expected[i]) exact++;
        total++;
      }
      const order = Array.from(input.keys()).sort((a, b) => input[b]! - input[a]! || a - b);
      for (let i = 1; i < order.length; i++) expect(got[order[i]!]!).toBeLessThanOrEqual(got[order[i - 1]!]!);
    }
    expect(exact / total).toBeGreaterThan(0.3);
  });

  it("works in place on a slice of a matrix", () => {
    const m = Float32Array.from([9, 9, Math.log(1), Math.log(3), 9]);
    logSoftmaxRow(m, 2, 2, m, 2);
    expect(m[2]).toBeCloseTo(Math.log(0.25), 6);
    expect(m[3]).toBeCloseTo(Math.log(0.75), 6);
    expect(m[0]).toBe(9);
    expect(m[4]).toBe(9);
  });
});

describe("topkOfRowSums", () => {
  it("equals topk over the float32 sums written out, ties included", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (const [rows, width, k] of [[4, 600, 8], [3, 50, 6], [2, 2000, 4], [5, 7, 10], [1, 300, 2]] as const) {
      const pool = [-1.25, -2.5, -0.5, -Infinity, 0];
      const scores = Float32Array.from({ length: rows * width + 3 }, () => pool[Math.floor(random() * pool.length)]!);
      const offsets = Float32Array.from({ length: rows }, (_, r) => (r === 0 ? 0 : r % 2 ? -1e9 : -1.25));
      const sums = new Float32Array(rows * width);
      for (let r = 0; r < rows; r++) for (let v = 0; v < width; v++) sums[r * width + v] = scores[3 + r * width + v]! + offsets[r]!;
      const expected = topk(sums, k);
      const got = topkOfRowSums(scores, 3, width, offsets, k);
      expect(Array.from(got.indices)).toEqual(Array.from(expected.indices));
      expect(Array.from(got.values)).toEqual(Array.from(expected.values));
    }
  });
});
