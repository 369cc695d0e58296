import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate, generationOptionsFromHfJson } from "../src/runtime/generation/index.js";
import { loadBartOnnx } from "../src/runtime/onnx/bart-onnx.js";
import { compileBartEncoder, TOKEN_EMBEDDINGS_INPUT } from "../src/runtime/onnx/compiler/compile-bart-encoder.js";
import { loadOnnxModel } from "../src/runtime/onnx/compiler/onnx-proto.js";
import { openBart } from "../src/runtime/onnx/open-bart.js";
import { OnnxSession } from "../src/runtime/onnx/session.js";
import { TokenTable } from "../src/runtime/onnx/token-table.js";
import { calls, MODEL_DIR } from "./helpers/summarization-references.js";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "news-moe-encoder-"));
  cpSync(MODEL_DIR, dir, { recursive: true, filter: (source) => !/\.news-moe-[ce]\d/.test(source) });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = JSON.parse(readFileSync(join(MODEL_DIR, "config.json"), "utf8")) as Record<string, unknown>;

/** Articles of different lengths, each encoded alone and unpadded, as the compiled model feeds them. */
const ARTICLES = [
  [0, 713, 16, 10, 1296, 9, 5, 2706, 18, 1421, 2],
  [0, 31414, 232, 2],
  Array.from({ length: 60 }, (_, i) => (i === 0 ? 0 : i === 59 ? 2 : 4 + ((i * 37) % 900))),
];

async function encoderOutput(session: OnnxSession, table: TokenTable | null, ids: readonly number[]): Promise<Float32Array> {
  const dims = [1, ids.length];
  const feeds: Record<string, ort.Tensor> = {};
  if (session.hasInput("attention_mask")) feeds["attention_mask"] = new ort.Tensor("int64", new BigInt64Array(ids.length).fill(1n), dims);
  if (session.hasInput("input_ids")) feeds["input_ids"] = new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), dims);
  if (table) feeds[TOKEN_EMBEDDINGS_INPUT] = table.lookup(ids, dims);
  return (await session.run(feeds))["last_hidden_state"]!.data as Float32Array;
}

/** Opens the compiled graph with ONNX Runtime's flash attention switched off (read when a session is created). */
async function withoutFlashAttention(graph: string): Promise<OnnxSession> {
  process.env["ORT_DISABLE_FLASH_ATTENTION"] = "1";
  try {
    return await OnnxSession.create(graph);
  } finally {
    delete process.env["ORT_DISABLE_FLASH_ATTENTION"];
  }
}

describe("encoder compiled without its token table, with fused attention", () => {
  const file = "encoder_model.onnx";
  it("computes the published encoder's hidden states: bit for bit without flash attention, within float rounding with it", async () => {
    const source = join(dir, "onnx", file);
    const compiled = await compileBartEncoder(source, { config });
    expect(compiled.compiled).toBe(true);
    const published = await OnnxSession.create(source);
    const flash = await OnnxSession.create(compiled.graph);
    const unfused = await withoutFlashAttention(compiled.graph);
    const table = new TokenTable(compiled.table!);
    try {
      expect(flash.inputNames).toEqual([TOKEN_EMBEDDINGS_INPUT]);
      let flashDiffers = false;
      for (const ids of ARTICLES) {
        const expected = await encoderOutput(published, null, ids);
        // The same graph on the unfused kernel: the same products in the same order as the published graph.
        const exact = await encoderOutput(unfused, table, ids);
        expect(Buffer.from(exact.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
        const fast = await encoderOutput(flash, table, ids);
        expect(fast.length).toBe(expected.length);
        let largest = 0;
        for (let i = 0; i < fast.length; i++) largest = Math.max(largest, Math.abs(fast[i]! - expected[i]!));
        expect(largest).toBeLessThan(1e-5);
        flashDiffers ||= largest > 0;
      }
      // Flash attention really ran (its block-wise softmax rounds differently somewhere).
      expect(flashDiffers).toBe(true);
    } finally {
      table.close();
      await Promise.all([published.release(), flash.release(), unfused.release()]);
    }
  });

  it("holds no weights and no table: every weight refers to the source's bytes, the table is not one of them", async () => {
    const source = join(dir, "onnx", file);
    const compiled = await compileBartEncoder(source, { config });
    expect(statSync(compiled.graph).size).toBeLessThan(200_000);
    const graph = loadOnnxModel(compiled.graph);
    const sourceWeights = loadOnnxModel(source).weights;
    const tableName = [...sourceWeights.values()].find((w) => w.dims[0] === compiled.table!.rows && w.dims.length === 2)!.name;
    expect(graph.weights.has(tableName)).toBe(false);
    for (const weight of graph.weights.values()) {
      if (weight.inline) continue;
      const original = sourceWeights.get(weight.name);
      if (original) {
        expect(weight.file).toBe(source);
        expect(weight.offset).toBe(original.offset);
      } else {
        // The graph's own constants (GELU's, the positions' offset): a few bytes each.
        expect(weight.length).toBeLessThanOrEqual(8);
      }
    }
    // The table's rows as the file has them: row 713 of the source tensor.
    const table = new TokenTable(compiled.table!);
    try {
      const raw = loadOnnxModel(source).model.graph!.initializer!.find((t) => t.name === tableName)!.rawData!;
      const row = table.gather([713]);
      expect(Buffer.from(row).equals(Buffer.from(raw.subarray(713 * table.rowBytes, 714 * table.rowBytes)))).toBe(true);
      expect(() => table.gather([compiled.table!.rows])).toThrow(/outside the vocabulary/);
    } finally {
      table.close();
    }
  });
});

describe("int8 encoder compiled with fused attention", () => {
  const file = "encoder_model_quantized.onnx";

  /** Mean absolute difference. */
  const meanGap = (a: Float32Array, b: Float32Array): number => a.reduce((sum, x, i) => sum + Math.abs(x - b[i]!), 0) / a.length;

  it("computes the published int8 encoder's hidden states: bit for bit without flash attention, as close to fp32 as the published int8 with it", async () => {
    const source = join(dir, "onnx", file);
    const compiled = await compileBartEncoder(source, { config });
    expect(compiled.compiled).toBe(true);
    // The quantized table stays in the graph, looked up there as the published graph does.
    expect(compiled.table).toBeNull();
    const fp32 = await compileBartEncoder(join(dir, "onnx", "encoder_model.onnx"), { config });
    const published = await OnnxSession.create(source);
    const flash = await OnnxSession.create(compiled.graph);
    const unfused = await withoutFlashAttention(compiled.graph);
    const reference = await OnnxSession.create(fp32.graph);
    const table = new TokenTable(fp32.table!);
    try {
      expect(flash.inputNames).toEqual(["input_ids"]);
      let largest = 0;
      for (const ids of ARTICLES) {
        const expected = await encoderOutput(published, null, ids);
        // Same products, same order: the int8 chains as published, ORT's fusions of the published graph.
        const exact = await encoderOutput(unfused, null, ids);
        expect(Buffer.from(exact.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
        // Flash attention rounds differently; the next product quantizes its output, and a value that
        // lands on the other side of a rounding step moves by a whole step: apart by quantization noise,
        // no further from the fp32 encoder than the published int8 is.
        const fast = await encoderOutput(flash, null, ids);
        for (let i = 0; i < fast.length; i++) largest = Math.max(largest, Math.abs(fast[i]! - expected[i]!));
        const float = await encoderOutput(reference, table, ids);
        expect(meanGap(fast, float)).toBeLessThan(1.25 * meanGap(expected, float) + 1e-6);
      }
      expect(largest).toBeGreaterThan(0);
      expect(largest).toBeLessThan(0.05);
    } finally {
      table.close();
      await Promise.all([published.release(), flash.release(), unfused.release(), reference.release()]);
    }
  });

  it("holds no weights: every weight refers to the source's bytes, the quantized token table included", async () => {
    const source = join(dir, "onnx", file);
    const compiled = await compileBartEncoder(source, { config });
    expect(compiled.compiled).toBe(false); // compiled by the test above, reused
    expect(statSync(compiled.graph).size).toBeLessThan(200_000);
    const graph = loadOnnxModel(compiled.graph);
    const sourceWeights = loadOnnxModel(source).weights;
    expect(graph.weights.has("encoder.embed_tokens.weight_quantized")).toBe(true);
    for (const weight of graph.weights.values()) {
      if (weight.inline) continue;
      const original = sourceWeights.get(weight.name);
      if (original) expect([weight.file, weight.offset]).toEqual([source, original.offset]);
      else expect(weight.length).toBeLessThanOrEqual(8);
    }
  });

  it("gives the published int8 graphs' summaries on the tutorial's calls, loaded as analyze loads it", async () => {
    const generationConfig = JSON.parse(readFileSync(join(MODEL_DIR, "generation_config.json"), "utf8")) as Record<string, unknown>;
    const files = { encoder: join(dir, "onnx", file), decoderMerged: join(dir, "onnx", "decoder_model_merged_quantized.onnx"), config, generationConfig };
    const opened = await openBart(files, { engine: "compiled", intraOpNumThreads: 1 });
    const published = await loadBartOnnx(dir, { quantized: true, decoder: "merged", intraOpNumThreads: 1 });
    try {
      expect(opened.engine).toBe("compiled");
      for (const call of calls.filter((c) => c.name.startsWith("pipeline_"))) {
        const options = generationOptionsFromHfJson(call.kwargs);
        const ours = await generate(opened.model, { inputIds: call.inputIds }, options);
        const theirs = await generate(published, { inputIds: call.inputIds }, options);
        expect(ours.sequences, call.name).toEqual(theirs.sequences);
      }
    } finally {
      await Promise.all([opened.model.dispose(), published.dispose()]);
    }
  });
});

describe("graphs the encoder compiler does not take", () => {
  it("are refused with the file and what is missing, and the refusal is remembered", async () => {
    const copy = join(dir, "not-an-encoder.onnx");
    cpSync(new URL("./fixtures/models/tiny-distilbert-sst2/onnx/model.onnx", import.meta.url).pathname, copy);
    let compiles = 0;
    await expect(compileBartEncoder(copy, { config, onCompile: () => compiles++ })).rejects.toThrow(/not-an-encoder\.onnx: no MatMul \+ bias for encoder layer 0/);
    await expect(compileBartEncoder(copy, { config, onCompile: () => compiles++ })).rejects.toThrow(/not-an-encoder\.onnx/);
    expect(compiles).toBe(1);
  });
});
