import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileWithoutTokenTable } from "../src/runtime/onnx/compiler/compile-without-table.js";
import { loadOnnxModel } from "../src/runtime/onnx/compiler/onnx-proto.js";
import { OnnxSequenceClassifier } from "../src/runtime/onnx/sequence-classifier.js";

const MODEL_DIR = "test/fixtures/models/tiny-distilbert-sst2";
let dir: string;

beforeAll(() => {
  // A copy: compiled graphs are written beside their source, and the fixtures stay untouched.
  dir = mkdtempSync(join(tmpdir(), "news-moe-classifier-"));
  cpSync(MODEL_DIR, dir, { recursive: true, filter: (source) => !/\.news-moe-t\d/.test(source) });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Rows of different lengths (the batch pads them), with [CLS] 101 and [SEP] 102 around the text. */
const ROWS = [
  [101, 2023, 3185, 2001, 6057, 102],
  [101, 1037, 2204, 2154, 2005, 1996, 2880, 1010, 2021, 2025, 2005, 2149, 102],
  [101, 102],
];

describe("sequence classifier compiled without its token table", () => {
  it("gives the published graph's logits bit for bit, reading the table's rows from the source file", async () => {
    const source = join(dir, "onnx", "model.onnx");
    const published = await OnnxSequenceClassifier.create(source, { padTokenId: 0, threads: 1 });
    let compiles = 0;
    const lean = await OnnxSequenceClassifier.open(source, { padTokenId: 0, threads: 1, onCompile: () => compiles++ });
    try {
      expect(compiles).toBe(1);
      const expected = await published.logits(ROWS);
      const actual = await lean.logits(ROWS);
      expect(actual.map((row) => Array.from(row))).toEqual(expected.map((row) => Array.from(row)));
      await expect(lean.logits([[101, 999_999, 102]])).rejects.toThrow(/token id 999999 is outside the vocabulary/);
    } finally {
      await Promise.all([published.dispose(), lean.dispose()]);
    }
  });

  it("holds no table: the graph gathers from no vocabulary-sized initializer and refers to the source's bytes", async () => {
    const source = join(dir, "onnx", "model.onnx");
    const compiled = await compileWithoutTokenTable(source);
    expect(compiled.compiled).toBe(false); // compiled by the test above, reused
    expect(statSync(compiled.graph).size).toBeLessThan(statSync(source).size / 10);
    const graph = loadOnnxModel(compiled.graph);
    expect([...graph.weights.values()].some((w) => w.dims[0] === compiled.table.rows)).toBe(false);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    expect([compiled.table.rows, compiled.table.width]).toEqual([config["vocab_size"], config["dim"]]);
  });

  it("refuses a quantized table (the int8 classifier is compiled with fused attention instead: onnx-compiled-classifier.test.ts)", async () => {
    const source = join(dir, "onnx", "model_quantized.onnx");
    await expect(compileWithoutTokenTable(source)).rejects.toThrow(/quantized; the published graph runs/);
  });

  it("a compiled graph ONNX Runtime will not open: the published graph classifies instead, and the reason is told", async () => {
    const copy = mkdtempSync(join(tmpdir(), "news-moe-classifier-fallback-"));
    try {
      cpSync(MODEL_DIR, copy, { recursive: true, filter: (source) => !/\.news-moe-t\d/.test(source) });
      const source = join(copy, "onnx", "model.onnx");
      const compiled = await compileWithoutTokenTable(source);
      // The manifest still matches the source, so the graph is taken as compiled; its bytes are not a model.
      writeFileSync(compiled.graph, "not an ONNX graph");
      const reasons: string[] = [];
      const classifier = await OnnxSequenceClassifier.open(source, { padTokenId: 0, threads: 1, onFallback: (reason) => reasons.push(reason) });
      const published = await OnnxSequenceClassifier.create(source, { padTokenId: 0, threads: 1 });
      try {
        expect(reasons).toHaveLength(1);
        expect(reasons[0]).toContain(compiled.graph);
        expect((await classifier.logits(ROWS)).map((row) => Array.from(row))).toEqual((await published.logits(ROWS)).map((row) => Array.from(row)));
      } finally {
        await Promise.all([classifier.dispose(), published.dispose()]);
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
