/**
 * The int8 sequence classifier compiled with fused attention (compiler/compile-distilbert-classifier.ts):
 * each row runs alone, unpadded, and gets the published int8 graph's logits for that row alone (bit for
 * bit with flash attention switched off); the compiled graph refers to the source's weights; a model it
 * does not take keeps running as published.
 */
import { cpSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileDistilBertClassifier } from "../src/runtime/onnx/compiler/compile-distilbert-classifier.js";
import { loadOnnxModel } from "../src/runtime/onnx/compiler/onnx-proto.js";
import { compileClassifier, OnnxSequenceClassifier } from "../src/runtime/onnx/sequence-classifier.js";

const MODEL_DIR = "test/fixtures/models/tiny-distilbert-sst2";
let dir: string;

beforeAll(() => {
  // A copy: compiled graphs are written beside their source, and the fixtures stay untouched.
  dir = mkdtempSync(join(tmpdir(), "news-moe-int8-classifier-"));
  cpSync(MODEL_DIR, dir, { recursive: true, filter: (source) => !/\.news-moe-[td]\d/.test(source) });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** [CLS] 101, `length - 2` ids spread over the vocabulary, [SEP] 102. */
function row(length: number, seed: number): number[] {
  let state = seed;
  const ids = [101];
  for (let i = 1; i < length - 1; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    ids.push(1000 + (state % 28_000));
  }
  return [...ids, 102];
}

const ROWS = [row(6, 1), row(13, 2), row(2, 3), row(60, 4), row(512, 5)];

/** Opens `graph` with ONNX Runtime's flash attention switched off (read when a session is created). */
async function withoutFlashAttention(graph: string): Promise<OnnxSequenceClassifier> {
  process.env["ORT_DISABLE_FLASH_ATTENTION"] = "1";
  try {
    return await OnnxSequenceClassifier.create(graph, { padTokenId: 0, threads: 1 });
  } finally {
    delete process.env["ORT_DISABLE_FLASH_ATTENTION"];
  }
}

const bits = (logits: Float32Array[]) => logits.map((l) => Array.from(l));

describe("int8 classifier compiled with fused attention", () => {
  const source = () => join(dir, "onnx", "model_quantized.onnx");

  it("gives each row the published int8 graph's logits for that row alone: bit for bit without flash attention, within 1e-5 with it", async () => {
    let compiles = 0;
    const compiled = await OnnxSequenceClassifier.open(source(), { padTokenId: 0, threads: 1, onCompile: () => compiles++ });
    expect(compiles).toBe(1);
    expect(compiled.modelPath).toMatch(/model_quantized\.news-moe-d\d+\.model\.onnx$/);
    const unfused = await withoutFlashAttention(compiled.modelPath);
    const published = await OnnxSequenceClassifier.create(source(), { padTokenId: 0, threads: 1 });
    try {
      const alone: Float32Array[] = [];
      for (const r of ROWS) alone.push(...(await published.logits([r])));
      expect(bits(await unfused.logits(ROWS))).toEqual(bits(alone));
      const fast = await compiled.logits(ROWS);
      let largest = 0;
      fast.forEach((logits, r) => logits.forEach((x, i) => (largest = Math.max(largest, Math.abs(x - alone[r]![i]!)))));
      expect(largest).toBeLessThan(1e-5);
      // The published graph quantizes each activation over the whole padded batch, so there a row's logits
      // move with its batch-mates; compiled, the rows run alone and they do not.
      const batched = await published.logits(ROWS);
      expect(bits(batched)).not.toEqual(bits(alone));
      expect(bits(await compiled.logits([...ROWS].reverse()))).toEqual(bits(fast).reverse());
    } finally {
      await Promise.all([compiled.dispose(), unfused.dispose(), published.dispose()]);
    }
  });

  it("holds no weights: every weight refers to the source's bytes; the compilation is reused", async () => {
    const config = { model_type: "distilbert", dim: 16, n_heads: 2, n_layers: 6, activation: "gelu" };
    const compiled = await compileDistilBertClassifier(source(), { config });
    expect(compiled.compiled).toBe(false); // compiled by the test above, reused
    expect(statSync(compiled.graph).size).toBeLessThan(statSync(source()).size / 4);
    const graph = loadOnnxModel(compiled.graph);
    const sourceWeights = loadOnnxModel(source()).weights;
    for (const weight of graph.weights.values()) {
      if (weight.inline) continue;
      const original = sourceWeights.get(weight.name);
      if (original) expect([weight.file, weight.offset]).toEqual([source(), original.offset]);
      else expect(weight.length).toBeLessThanOrEqual(8);
    }
  });

  it("is refused, and the published graph runs, when the config does not describe the graph", async () => {
    const other = join(dir, "onnx", "model_quantized.onnx");
    await expect(compileDistilBertClassifier(other, { config: { model_type: "bert", dim: 16, n_heads: 2, n_layers: 6 } })).rejects.toThrow(/model_type bert is not distilbert/);
    await expect(compileDistilBertClassifier(other, { config: { model_type: "distilbert", dim: 16, n_heads: 2, n_layers: 5 } })).rejects.toThrow(/more layers than config\.json's n_layers 5/);
    // Without config.json beside the onnx folder there is nothing to compile from: published, with its mask.
    const bare = mkdtempSync(join(tmpdir(), "news-moe-int8-classifier-bare-"));
    try {
      cpSync(join(dir, "onnx"), join(bare, "onnx"), { recursive: true, filter: (path) => !/\.news-moe-/.test(path) });
      expect(await compileClassifier(join(bare, "onnx", "model_quantized.onnx"))).toBeNull();
      const published = await OnnxSequenceClassifier.open(join(bare, "onnx", "model_quantized.onnx"), { padTokenId: 0, threads: 1 });
      try {
        expect(published.modelPath).toBe(join(bare, "onnx", "model_quantized.onnx"));
        expect((await published.logits(ROWS)).length).toBe(ROWS.length);
      } finally {
        await published.dispose();
      }
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
