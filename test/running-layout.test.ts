import { describe, expect, it } from "vitest";
import { chooseGroup, paddedPositionsAfterJoin } from "../src/runtime/onnx/running-layout.js";
import { MASKED, SourceGroup } from "../src/runtime/onnx/source-groups.js";

/** A group of live articles with these source lengths, padded to `width` as the layout stores them. */
function groupOf(lengths: number[], width: number): SourceGroup {
  const capacity = Math.max(4, lengths.length);
  const bias = new Float32Array(capacity * width).fill(MASKED);
  lengths.forEach((length, a) => bias.fill(0, a * width, a * width + length));
  return new SourceGroup(lengths.length, capacity, width, new Float32Array(0), bias);
}

describe("running layout: padding a join adds", () => {
  const maxPositions = 1024;

  it("counts a short article beside long ones at the long ones' width", () => {
    // Group 0 holds two articles of 600 and 640 tokens at width 640; group 1 is empty.
    const groups = [groupOf([600, 640], 640), groupOf([], 0)];
    // A 100-token article costs group 1 its own width (128 positions: 100 rounded up to a multiple of 64)
    // and group 0 640; the empty group wins.
    expect(chooseGroup(groups, 100, maxPositions)).toBe(1);
    // Padding after the join, by hand: group 0 stores 2 x 640 for 1,240 tokens (40 padded); group 1
    // stores 1 x 128 for 100 tokens (28 padded).
    expect(paddedPositionsAfterJoin(groups, 100, maxPositions)).toBe(40 + 28);
  });

  it("counts the width a long article forces on every article of its group", () => {
    // Both groups hold short articles; a 700-token article joins the group where it reads least padding.
    const groups = [groupOf([100, 120, 90], 128), groupOf([300], 320)];
    // Group 0: 4 x 704 - 3 x 128 = 2,432 more positions read; group 1: 2 x 704 - 320 = 1,088. Group 1.
    expect(chooseGroup(groups, 700, maxPositions)).toBe(1);
    // After: group 0 unchanged (3 x 128 - 310 = 74 padded); group 1 is 2 x 704 for 1,000 tokens (408).
    expect(paddedPositionsAfterJoin(groups, 700, maxPositions)).toBe(74 + 408);
  });
});
