import { describe, expect, it } from "vitest";
import { lengthBatches } from "../src/experts/neural/length-batches.js";

describe("lengthBatches", () => {
  it("sorts by length and fills each batch up to the padded-token budget", () => {
    expect(lengthBatches([100, 300, 200, 250], 1000)).toEqual([[1, 3, 2], [0]]);
  });

  it("starts a new batch for a row under half the batch's width instead of padding it", () => {
    // The bench's mix: five ~600-token articles and five ~250-token ones.
    const lengths = [281, 258, 227, 231, 231, 680, 609, 603, 578, 582];
    expect(lengthBatches(lengths, 4096)).toEqual([[5, 6, 7, 9, 8], [0, 1, 3, 4, 2]]);
    expect(lengthBatches(lengths, 4096, Infinity, 0)).toEqual([[5, 6, 7, 9, 8, 0], [1, 3, 4, 2]]);
  });

  it("caps the rows per batch and gives an over-budget row a batch of its own", () => {
    expect(lengthBatches([10, 10, 10, 10, 10], 1000, 2)).toEqual([[0, 1], [2, 3], [4]]);
    expect(lengthBatches([5000, 10], 1000)).toEqual([[0], [1]]);
  });
});
