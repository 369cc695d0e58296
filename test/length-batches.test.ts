import { describe, expect, it } from "vitest";
import { lengthBatches, pairBatches } from "../src/experts/neural/length-batches.js";
import { DEFAULT_SUMMARY_STATE_MIB, decoderStateBytes } from "../src/experts/neural/neural-summarizer-expert.js";

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

  it("takes a row limit that depends on the batch's longest row", () => {
    // 700 tokens of rows: the 600-wide batch holds one row, the 300-wide ones two.
    const limit = (width: number) => Math.floor(700 / width);
    expect(lengthBatches([300, 600, 300, 300], 10_000, limit)).toEqual([[1], [0, 2], [3]]);
  });
});

describe("pairBatches", () => {
  it("joins consecutive batches two at a time, longest first, where the pair fits", () => {
    const batches = [[5, 6], [0, 1], [2], [3, 4]];
    expect(pairBatches(batches, () => true)).toEqual([[5, 6, 0, 1], [2, 3, 4]]);
    expect(pairBatches(batches, () => false)).toEqual(batches);
    // At most 3 rows a call: the first pair does not fit, so the second batch pairs with the third.
    expect(pairBatches(batches, (a, b) => a.length + b.length <= 3)).toEqual([[5, 6], [0, 1, 2], [3, 4]]);
  });

  it("puts the bench's two length batches in one call when the state budget holds both", () => {
    const lengths = [281, 258, 227, 231, 231, 680, 609, 603, 578, 582];
    const bytes = decoderStateBytes({ decoder_layers: 6, d_model: 1024 }, 4, 300);
    const state = (batch: readonly number[]) => batch.length * bytes(Math.max(...batch.map((i) => lengths[i]!)));
    // 5 x 680 and 5 x 281 tokens: 482 MB + 375 MB of decoder state by the upper-bound count.
    for (const [mib, calls] of [[512, 2], [1024, 1]] as const) {
      const budget = mib * 2 ** 20;
      const batches = lengthBatches(lengths, 4096, (width) => Math.floor(budget / bytes(width)));
      expect(batches).toEqual([[5, 6, 7, 9, 8], [0, 1, 3, 4, 2]]);
      expect(pairBatches(batches, (a, b) => state(a) + state(b) <= budget), `${mib} MiB`).toHaveLength(calls);
    }
  });
});

describe("decoder state per article", () => {
  it("is every beam's keys and values at the summary limit plus the source's, per layer, in float32", () => {
    const config = { decoder_layers: 6, d_model: 1024 };
    // 2 (K, V) x 6 layers x 1024 x 4 bytes = 48 KiB per position; 4 beams x 320 (300 in chunks of 32) + 680 source.
    expect(decoderStateBytes(config, 4, 300)(680)).toBe(49_152 * (4 * 320 + 680));
    // So 1 GiB takes 11 articles of 680 tokens and 14 of 250 a static call; the default 512 MiB, 5 and 7.
    for (const [mib, long, short] of [[1024, 11, 14], [DEFAULT_SUMMARY_STATE_MIB, 5, 7]] as const) {
      const budget = mib * 2 ** 20;
      expect(Math.floor(budget / decoderStateBytes(config, 4, 300)(680)), `${mib} MiB`).toBe(long);
      expect(Math.floor(budget / decoderStateBytes(config, 4, 300)(250)), `${mib} MiB`).toBe(short);
    }
  });
});
