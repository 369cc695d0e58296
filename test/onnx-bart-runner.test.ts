/**
 * The ONNX BART runner's cache handling: row gathers, cross-attention KV kept (not copied) across beam
 * steps, reordering equal to recomputation, dropping finished articles, quantized files, limits.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEncoderBatch, generate } from "../src/runtime/generation/index.js";
import {
  bartFilesInDirectory,
  compactRowsInPlace,
  gatherRows,
  gatherRowsInPlace,
  groupSourceRows,
  keepsRowGroups,
  loadBartOnnx,
  type BartOnnxModel,
} from "../src/runtime/onnx/index.js";

const MODEL_DIR = new URL("./fixtures/models/tiny-distilbart-cnn-6-6/", import.meta.url).pathname;
const reference = JSON.parse(readFileSync(new URL("./fixtures/references/summarization.json", import.meta.url), "utf8")) as {
  cases: { name: string; input_ids: number[][]; attention_mask: number[][]; sequences: number[][]; generation_kwargs?: Record<string, unknown> }[];
};
const caseNamed = (name: string) => reference.cases.find((c) => c.name === name)!;

describe("row gathers", () => {
  const rows = 5;
  const rowSize = 3;
  const data = Float32Array.from({ length: rows * rowSize }, (_, i) => i);
  for (const selection of [[0, 1, 2, 3, 4], [1, 0, 2, 4, 3], [0, 0, 0, 3, 3], [4, 4, 1, 1, 0], [2, 3, 4, 0, 1]]) {
    it(`in place equals a fresh gather for ${selection}`, () => {
      const source = Int32Array.from(selection);
      const inPlace = data.slice();
      gatherRowsInPlace(inPlace, rowSize, source);
      const fresh = gatherRows(data, rowSize, source);
      expect(Array.from(inPlace)).toEqual(Array.from(fresh));
      expect(Array.from(fresh.subarray(0, rowSize))).toEqual([selection[0]! * 3, selection[0]! * 3 + 1, selection[0]! * 3 + 2]);
    });
  }

  it("gathers to a different row count (beam expansion, dropping rows)", () => {
    const expanded = gatherRows(data, rowSize, Int32Array.from([1, 1, 1]));
    expect(Array.from(expanded)).toEqual([3, 4, 5, 3, 4, 5, 3, 4, 5]);
    const ints = gatherRows(BigInt64Array.from([1n, 2n, 3n, 4n]), 2, Int32Array.from([1]));
    expect(Array.from(ints)).toEqual([3n, 4n]);
  });

  it("shrinks in place: the first rows hold the selection", () => {
    const inPlace = data.slice();
    gatherRowsInPlace(inPlace, rowSize, Int32Array.from([4, 2, 2]));
    expect(Array.from(inPlace.subarray(0, 9))).toEqual([12, 13, 14, 6, 7, 8, 6, 7, 8]);
  });

  it("compacts a pure drop of rows in place and refuses anything else", () => {
    const compacted = data.slice();
    expect(compactRowsInPlace(compacted, rowSize, Int32Array.from([1, 3, 4]))).toBe(true);
    expect(Array.from(compacted.subarray(0, 9))).toEqual([3, 4, 5, 9, 10, 11, 12, 13, 14]);
    const untouched = data.slice();
    expect(compactRowsInPlace(untouched, rowSize, Int32Array.from([1, 0]))).toBe(false);
    expect(compactRowsInPlace(untouched, rowSize, Int32Array.from([0, 0]))).toBe(false);
    expect(Array.from(untouched)).toEqual(Array.from(data));
  });

  it("picks per-article source rows that turn dropping an article into a compaction", () => {
    const article = Int32Array.from([0, 0, 1, 1, 2, 2]);
    // Article 1 finished; articles 0 and 2 keep two rows each (beam order inside them is irrelevant).
    expect(Array.from(groupSourceRows(article, Int32Array.from([0, 0, 2, 2])))).toEqual([0, 1, 4, 5]);
    // Expansion after the first step: one row per article becomes four.
    expect(Array.from(groupSourceRows(Int32Array.from([0, 1]), Int32Array.from([0, 0, 1, 1])))).toEqual([0, 0, 1, 1]);
  });

  it("knows when rows stay within their article (cross KV can be kept)", () => {
    const article = Int32Array.from([0, 0, 1, 1]);
    expect(keepsRowGroups(article, Int32Array.from([1, 1, 3, 2]))).toBe(true);
    expect(keepsRowGroups(article, Int32Array.from([2, 1, 3, 2]))).toBe(false);
    expect(keepsRowGroups(article, Int32Array.from([0, 1]))).toBe(false);
  });
});

for (const layout of ["split", "merged"] as const) {
  describe(`BART runner, ${layout} decoder`, () => {
    let model: BartOnnxModel;
    beforeAll(async () => {
      model = await loadBartOnnx(MODEL_DIR, { decoder: layout, intraOpNumThreads: 1 });
    });
    afterAll(async () => {
      await model.dispose();
    });

    it("keeps cross-attention KV tensors across beam reorders and reorders self-attention like recomputation", async () => {
      const c = caseNamed("beam4_batch3_padded");
      const batch = buildEncoderBatch({ inputIds: c.input_ids.slice(0, 2), attentionMask: c.attention_mask.slice(0, 2) }, 1, [2]);
      const vocab = model.vocabSize;

      // Reference: two beams per article fed the same tokens, no reordering.
      const plain = await model.encode(batch);
      await model.decode(plain, Int32Array.from([2, 2]), 1);
      model.selectRows(plain, Int32Array.from([0, 0, 1, 1]));
      await model.decode(plain, Int32Array.from([0, 0, 0, 0]), 1);
      const plainLogits = (await model.decode(plain, Int32Array.from([100, 200, 300, 400]), 1)).slice();

      const state = await model.encode(batch);
      await model.decode(state, Int32Array.from([2, 2]), 1);
      model.selectRows(state, Int32Array.from([0, 0, 1, 1]));
      expect(state.crossKv![0]!.dims[0]).toBe(4);
      await model.decode(state, Int32Array.from([0, 0, 0, 0]), 1);
      const cross = state.crossKv!.slice();
      const mask = state.encoderMask;
      // Swap the beams inside each article: rows move, cross KV and the mask must not.
      model.selectRows(state, Int32Array.from([1, 0, 3, 2]));
      expect(state.crossKv!.every((t, i) => t === cross[i])).toBe(true);
      expect(state.encoderMask).toBe(mask);
      const logits = await model.decode(state, Int32Array.from([200, 100, 400, 300]), 1);
      for (const [row, plainRow] of [[0, 1], [1, 0], [2, 3], [3, 2]] as const) {
        for (let v = 0; v < vocab; v += 997) {
          expect(logits[row * vocab + v]).toBeCloseTo(plainLogits[plainRow * vocab + v]!, 4);
        }
      }
      expect(state.crossKv!.every((t, i) => t === cross[i])).toBe(true);

      // Dropping article 0 moves article 1's cross KV down inside the same buffer (no new memory).
      const article1Cross = (cross[0]!.data as Float32Array).slice(2 * (cross[0]!.data.length / 4));
      model.selectRows(state, Int32Array.from([3, 2]));
      expect(state.crossKv![0]!.dims[0]).toBe(2);
      expect((state.crossKv![0]!.data as Float32Array).buffer).toBe((cross[0]!.data as Float32Array).buffer);
      expect(Array.from(state.crossKv![0]!.data as Float32Array)).toEqual(Array.from(article1Cross));
      expect(Array.from(state.article)).toEqual([1, 1]);
      // The swapped rows' next logits still match the plain run's article-1 rows.
      const after = await model.decode(state, Int32Array.from([7, 7]), 1);
      const plainAfter = await model.decode(plain, Int32Array.from([7, 7, 7, 7]), 1);
      for (let v = 0; v < vocab; v += 997) {
        expect(after[0 * vocab + v]).toBeCloseTo(plainAfter[2 * vocab + v]!, 4);
        expect(after[1 * vocab + v]).toBeCloseTo(plainAfter[3 * vocab + v]!, 4);
      }
      model.release(state);
      model.release(plain);
      await expect(model.decode(state, Int32Array.from([5, 5]), 1)).rejects.toThrow(/after release/);
    });

    it("gives the same sequences with and without dropping finished articles", async () => {
      for (const name of ["beam4_batch3_padded", "greedy_batch3_padded"]) {
        const c = caseNamed(name);
        const input = { inputIds: c.input_ids, attentionMask: c.attention_mask };
        const options = { numBeams: c.generation_kwargs!["num_beams"] as number, maxLength: c.generation_kwargs!["max_length"] as number, minLength: c.generation_kwargs!["min_length"] as number };
        const kept = await generate(model, input, options, { dropFinished: false });
        expect(kept.sequences).toEqual(c.sequences);
      }
    });

    it("refuses inputs longer than max_position_embeddings with a clear error", async () => {
      const ids = [Array.from({ length: 1025 }, (_, i) => (i === 0 ? 0 : 100))];
      await expect(generate(model, { inputIds: ids }, { maxLength: 10 })).rejects.toThrow(/at most 1024/);
    });
  });
}

describe("quantized files", () => {
  for (const layout of ["split", "merged"] as const) {
    it(`run and produce well-formed output (${layout}; not compared with HF)`, async () => {
      const model = await loadBartOnnx(MODEL_DIR, { quantized: true, decoder: layout, intraOpNumThreads: 1 });
      try {
        const c = caseNamed("beam4_batch3_padded");
        const result = await generate(model, { inputIds: c.input_ids, attentionMask: c.attention_mask }, { maxLength: 40, minLength: 10 });
        expect(result.sequences).toHaveLength(3);
        for (const [i, row] of result.sequences.entries()) {
          expect(row.length).toBe(result.sequences[0]!.length);
          expect(row[0]).toBe(2); // decoder start
          expect(row[1]).toBe(0); // forced BOS
          const end = row.indexOf(2, 1);
          expect(end).toBeGreaterThanOrEqual(10); // min_length 10 counts the start token
          expect(row.slice(end + 1).every((t) => t === 1)).toBe(true); // padding after eos
          expect(row.every((t) => t >= 0 && t < model.vocabSize)).toBe(true);
          expect(result.sequencesScores![i]!).toBeLessThan(0);
        }
      } finally {
        await model.dispose();
      }
    });
  }
});

describe("loading", () => {
  it("reports missing files", async () => {
    await expect(loadBartOnnx("/nonexistent-model-dir")).rejects.toThrow(/encoder_model\.onnx not found/);
  });

  it("prefers the merged decoder, and uses the split pair when only that is given", async () => {
    const merged = await loadBartOnnx(MODEL_DIR, { intraOpNumThreads: 1 });
    expect(merged.merged).toBe(true);
    await merged.dispose();
    const splitOnly = bartFilesInDirectory(MODEL_DIR);
    delete splitOnly.decoderMerged;
    const split = await loadBartOnnx(splitOnly, { intraOpNumThreads: 1 });
    expect(split.merged).toBe(false);
    await split.dispose();
  });

  it("falls back to the merged decoder when the split pair is not given", async () => {
    const files = bartFilesInDirectory(MODEL_DIR);
    delete files.decoder;
    delete files.decoderWithPast;
    const model = await loadBartOnnx(files, { intraOpNumThreads: 1 });
    try {
      expect(model.merged).toBe(true);
      const c = caseNamed("beam4_short_input");
      const result = await generate(model, { inputIds: c.input_ids }, { numBeams: 4, maxLength: 40, minLength: 5 });
      expect(result.sequences).toEqual(c.sequences);
    } finally {
      await model.dispose();
    }
    await expect(loadBartOnnx(files, { decoder: "split" })).rejects.toThrow(/decoder_with_past_model/);
  });

  it("reads the model's generation defaults from generation_config.json", async () => {
    const model = await loadBartOnnx(MODEL_DIR, { intraOpNumThreads: 1 });
    try {
      expect(model.merged).toBe(true);
      expect(model.generationDefaults).toMatchObject({ numBeams: 4, lengthPenalty: 2, maxLength: 142, minLength: 56, noRepeatNgramSize: 3, earlyStopping: true, forcedBosTokenId: 0, forcedEosTokenId: 2 });
    } finally {
      await model.dispose();
    }
    await expect(model.encode(buildEncoderBatch({ inputIds: [[0, 2]] }, 1, [2]))).rejects.toThrow(/released/);
  });
});
