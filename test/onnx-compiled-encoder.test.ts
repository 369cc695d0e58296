import { cpSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileBartEncoder, TOKEN_EMBEDDINGS_INPUT } from "../src/runtime/onnx/compiler/compile-bart-encoder.js";
import { loadOnnxModel } from "../src/runtime/onnx/compiler/onnx-proto.js";
import { OnnxSession } from "../src/runtime/onnx/session.js";
import { TokenTable } from "../src/runtime/onnx/token-table.js";

const MODEL_DIR = "test/fixtures/models/tiny-distilbart-cnn-6-6";
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "news-moe-encoder-"));
  cpSync(MODEL_DIR, dir, { recursive: true, filter: (source) => !/\.news-moe-[ce]\d/.test(source) });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Two articles of different lengths, the shorter padded with the pad id (1) as generate() does. */
const IDS = [
  [0, 713, 16, 10, 1296, 9, 5, 2706, 18, 1421, 2],
  [0, 31414, 232, 2, 1, 1, 1, 1, 1, 1, 1],
];

async function encoderOutput(session: OnnxSession, table: TokenTable | null): Promise<Float32Array> {
  const dims = [IDS.length, IDS[0]!.length];
  const flat = IDS.flat();
  const feeds: Record<string, ort.Tensor> = {
    attention_mask: new ort.Tensor("int64", BigInt64Array.from(flat, (id) => (id === 1 ? 0n : 1n)), dims),
  };
  if (session.hasInput("input_ids")) feeds["input_ids"] = new ort.Tensor("int64", BigInt64Array.from(flat, BigInt), dims);
  if (table) feeds[TOKEN_EMBEDDINGS_INPUT] = table.lookup(flat, dims);
  return (await session.run(feeds))["last_hidden_state"]!.data as Float32Array;
}

describe("encoder compiled without its token table", () => {
  const file = "encoder_model.onnx";
  it("gives the published encoder's hidden states bit for bit, with the table read from the file", async () => {
    const source = join(dir, "onnx", file);
    const compiled = await compileBartEncoder(source);
    expect(compiled.compiled).toBe(true);
    const published = await OnnxSession.create(source);
    const rebuilt = await OnnxSession.create(compiled.graph);
    const table = new TokenTable(compiled.table);
    try {
      expect(rebuilt.inputNames).toContain(TOKEN_EMBEDDINGS_INPUT);
      const expected = await encoderOutput(published, null);
      const actual = await encoderOutput(rebuilt, table);
      expect(actual.length).toBe(expected.length);
      expect(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    } finally {
      table.close();
      await Promise.all([published.release(), rebuilt.release()]);
    }
  });

  it("holds no weights and no table: every initializer but the table refers to the source's bytes", async () => {
    const source = join(dir, "onnx", file);
    const compiled = await compileBartEncoder(source);
    expect(statSync(compiled.graph).size).toBeLessThan(200_000);
    const graph = loadOnnxModel(compiled.graph);
    const sourceWeights = loadOnnxModel(source).weights;
    const tableName = [...sourceWeights.values()].find((w) => w.dims[0] === compiled.table.rows && w.dims.length === 2)!.name;
    expect(graph.weights.has(tableName)).toBe(false);
    for (const weight of graph.weights.values()) {
      if (weight.inline) continue;
      expect(weight.file).toBe(source);
      expect(weight.offset).toBe(sourceWeights.get(weight.name)!.offset);
    }
    // The table's rows as the file has them: row 713 of the source tensor.
    const table = new TokenTable(compiled.table);
    try {
      const raw = loadOnnxModel(source).model.graph!.initializer!.find((t) => t.name === tableName)!.rawData!;
      const row = table.gather([713]);
      expect(Buffer.from(row).equals(Buffer.from(raw.subarray(713 * table.rowBytes, 714 * table.rowBytes)))).toBe(true);
      expect(() => table.gather([compiled.table.rows])).toThrow(/outside the vocabulary/);
    } finally {
      table.close();
    }
  });
});

describe("quantized encoder", () => {
  it("is not compiled: its table's lookup is fused with the dequantization, which changes results when fed from outside", async () => {
    const source = join(dir, "onnx", "encoder_model_quantized.onnx");
    let compiles = 0;
    await expect(compileBartEncoder(source, { onCompile: () => compiles++ })).rejects.toThrow(/token-embedding table is quantized/);
    // Remembered: the next load does not parse the source again to learn the same.
    await expect(compileBartEncoder(source, { onCompile: () => compiles++ })).rejects.toThrow(/token-embedding table is quantized/);
    expect(compiles).toBe(1);
  });
});
