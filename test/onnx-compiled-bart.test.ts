/**
 * The compiled decoder (src/runtime/onnx/compiler): compiled from either published decoder file of the
 * tiny distilbart, generate() must still give HF transformers' tokens on every summarization reference;
 * the int8 compilation must give the tokens of the published int8 graph; compilations are reused until
 * the source changes; models the compiler cannot take keep running on the published graphs.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate, generationOptionsFromHfJson, type SearchStats } from "../src/runtime/generation/index.js";
import { loadBartOnnx } from "../src/runtime/onnx/bart-onnx.js";
import { sourceGroupCut, type CompiledBartModel } from "../src/runtime/onnx/compiled-bart.js";
import { BART_COMPILER_VERSION, compileBartDecoder } from "../src/runtime/onnx/compiler/compile-bart.js";
import { loadOnnxModel } from "../src/runtime/onnx/compiler/onnx-proto.js";
import { openBart } from "../src/runtime/onnx/open-bart.js";
import { calls, expectScores, MODEL_DIR } from "./helpers/summarization-references.js";
import { compiledTinyBart } from "./helpers/compiled-tiny-bart.js";

const config = JSON.parse(readFileSync(join(MODEL_DIR, "config.json"), "utf8")) as Record<string, unknown>;
const generationConfig = JSON.parse(readFileSync(join(MODEL_DIR, "generation_config.json"), "utf8")) as Record<string, unknown>;
let dir: string;

beforeAll(() => {
  // A copy: compiled graphs are written beside their source, and the fixtures stay untouched.
  dir = mkdtempSync(join(tmpdir(), "news-moe-compiled-"));
  cpSync(MODEL_DIR, dir, { recursive: true, filter: (source) => !source.includes(".news-moe-c") });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** fp32 with the compiled encoder, int8 with the published one (the compiled int8 encoder is tested in onnx-compiled-encoder.test.ts). */
function compiledModel(source: string, quantized = false, resident = true): Promise<CompiledBartModel> {
  return compiledTinyBart(dir, source, quantized, resident);
}

// The second source runs as openBart loads it by default: the encoder released once a call is encoded
// and the step before the next call encodes, so every reference after the first runs on reloaded sessions.
for (const [source, resident] of [["decoder_model_merged.onnx", true], ["decoder_model.onnx", false]] as const) {
  describe(`compiled from ${source}${resident ? "" : ", sessions loaded by phase"}: token-identical to HF generate()`, () => {
    let model: CompiledBartModel;
    const totals: SearchStats = { modelScoredSteps: 0, replayedSteps: 0, hostScoredSteps: 0 };
    beforeAll(async () => {
      model = await compiledModel(source, false, resident);
    });
    afterAll(async () => {
      await model.dispose();
    });

    for (const call of calls) {
      it(`${call.name} ${JSON.stringify(call.kwargs)}`, async () => {
        const options = generationOptionsFromHfJson(call.kwargs);
        const input = call.attentionMask ? { inputIds: call.inputIds, attentionMask: call.attentionMask } : { inputIds: call.inputIds };
        const result = await generate(model, input, options, { stats: totals });
        expect(result.sequences).toEqual(call.sequences);
        const lengthPenalty = Number(call.kwargs["length_penalty"] ?? generationConfig["length_penalty"] ?? 1);
        expectScores(result.sequencesScores, call.scores, call.sequences, lengthPenalty, 1);
      });
    }

    it("took most beam steps from the graph's own top-K", () => {
      expect(totals.modelScoredSteps - totals.replayedSteps).toBeGreaterThan(totals.hostScoredSteps);
    });

    it(resident ? "keeps every session loaded" : "holds only the step after a call: the encoder went when the call's articles were encoded", () => {
      expect(model.loadedSessions).toEqual({ encoder: resident, step: true });
    });
  });
}

/** Token ids of a made-up article: <s>, `length - 2` ids from `seed`, </s>. */
const article = (length: number, seed: number) => Int32Array.from({ length }, (_, i) => (i === 0 ? 0 : i === length - 1 ? 2 : 4 + ((seed * 31 + i * 7) % 200)));

describe("encoder feed", () => {
  it("encodes a padded batch one article at a time into two source groups: each article's cross-attention keys/values as alone, zeros on its group's padding", async () => {
    const model = await compiledModel("decoder_model_merged.onnx");
    try {
      const layers = Number(config["decoder_layers"]);
      const heads = Number(config["decoder_attention_heads"]);
      const headDim = Number(config["d_model"]) / heads;
      const alone = async (ids: Int32Array) => {
        const state = await model.encode({ rows: 1, length: ids.length, ids, mask: new Int32Array(ids.length).fill(1) });
        expect(state.groups.map((g) => g.articles)).toEqual([1, 0]);
        const kv = state.groups[0]!.crossKv.slice(0, 2 * layers * heads * ids.length * headDim);
        model.release(state);
        return kv;
      };
      // A first, wider batch leaves its buffer (non-zero everywhere) to the next call.
      model.release(await model.encode({ rows: 2, length: 24, ids: Int32Array.from([...article(24, 1), ...article(24, 2)]), mask: new Int32Array(48).fill(1) }));
      const texts = [article(9, 3), article(17, 4), article(15, 5)];
      const S = 17;
      const ids = new Int32Array(texts.length * S).fill(1);
      const mask = new Int32Array(texts.length * S);
      texts.forEach((text, row) => {
        ids.set(text, row * S);
        mask.fill(1, row * S, row * S + text.length);
      });
      const state = await model.encode({ rows: texts.length, length: S, ids, mask });
      // Padded positions read: 3 x 17 = 51 as one group; 9 + 2 x 17 = 43 cut after the first; 2 x 17 + 15 = 49 after the second.
      expect(state.groups.map((g) => [g.articles, g.sourceLength])).toEqual([[1, 9], [2, 17]]);
      const expected = await Promise.all(texts.map(alone));
      for (const [row, text] of texts.entries()) {
        const group = state.groups[row === 0 ? 0 : 1]!;
        const slot = row === 0 ? 0 : row - 1;
        const width = group.sourceLength;
        const own = text.length;
        expect(Array.from(group.encoderBias.subarray(slot * width, (slot + 1) * width)).map((b) => b === 0)).toEqual(Array.from({ length: width }, (_, i) => i < own));
        for (let p = 0; p < 2 * layers; p++) {
          for (let h = 0; h < heads; h++) {
            const at = (((p * group.capacity + slot) * heads + h) * width) * headDim;
            const from = (p * heads + h) * own * headDim;
            expect(Array.from(group.crossKv.subarray(at, at + own * headDim))).toEqual(Array.from(expected[row]!.subarray(from, from + own * headDim)));
            expect(group.crossKv.subarray(at + own * headDim, at + width * headDim).every((v) => v === 0)).toBe(true);
          }
        }
      }
      model.release(state);
      // Padding before a row's last token cannot be left out, and the compiled encoder has no mask.
      const gap = { rows: 1, length: 5, ids: Int32Array.of(0, 11, 1, 57, 2), mask: Int32Array.of(1, 1, 0, 1, 1) };
      await expect(model.encode(gap)).rejects.toThrow(/right-padded rows only/);
    } finally {
      await model.dispose();
    }
  });
});

describe("beam reorders", () => {
  it("rename cache slots: after swapping beams the next step's logits are those of rows that never moved", async () => {
    const model = await compiledModel("decoder_model_merged.onnx");
    try {
      const ids = Int32Array.from([0, 11, 57, 9, 301, 44, 2]);
      const encode = () => model.encode({ rows: 1, length: ids.length, ids, mask: new Int32Array(ids.length).fill(1) });
      const start = Int32Array.of(2);
      // Both states: one row, then four beams of it, then a step with a different token per beam.
      const swapped = await encode();
      await model.decode(swapped, start, 1);
      model.selectRows(swapped, Int32Array.of(0, 0, 0, 0));
      await model.decode(swapped, Int32Array.of(100, 200, 300, 400), 1);
      // Beams 0<->1 and 2<->3 trade places, and beam 0 is continued twice (row 3 takes it over).
      model.selectRows(swapped, Int32Array.of(1, 0, 3, 0));
      expect(Array.from(swapped.physical)).not.toEqual([0, 1, 2, 3]);
      const afterSwap = await model.decode(swapped, Int32Array.of(7, 8, 9, 10), 1);

      const direct = await encode();
      await model.decode(direct, start, 1);
      model.selectRows(direct, Int32Array.of(0, 0, 0, 0));
      // The same histories, laid out in the swapped rows' order from the start.
      await model.decode(direct, Int32Array.of(200, 100, 400, 100), 1);
      const reference = await model.decode(direct, Int32Array.of(7, 8, 9, 10), 1);
      expect(Array.from(afterSwap)).toEqual(Array.from(reference));
      model.release(swapped);
      model.release(direct);
    } finally {
      await model.dispose();
    }
  });
});

describe("source groups", () => {
  it("cut where padding each part to its own longest reads the fewest positions, or not at all", () => {
    // The bench's two length batches, as one call: 5 x 680 + 5 x 281 instead of 10 x 680.
    expect(sourceGroupCut([680, 609, 603, 578, 582, 281, 258, 231, 231, 227])).toBe(5);
    // Not in length order: 2 x 160 + 12 beats 3 x 160 and 96 + 2 x 160.
    expect(sourceGroupCut([96, 160, 12])).toBe(2);
    expect(sourceGroupCut([10, 10, 10])).toBe(3);
    expect(sourceGroupCut([7])).toBe(1);
  });

  it("dropping articles compacts each group, an emptied first group included: the rest decode as in a call of their own", async () => {
    const model = await compiledModel("decoder_model_merged.onnx");
    try {
      const batch = (texts: Int32Array[]) => {
        const S = Math.max(...texts.map((t) => t.length));
        const ids = new Int32Array(texts.length * S).fill(1);
        const mask = new Int32Array(texts.length * S);
        texts.forEach((text, row) => {
          ids.set(text, row * S);
          mask.fill(1, row * S, row * S + text.length);
        });
        return { rows: texts.length, length: S, ids, mask };
      };
      const texts = [article(17, 6), article(9, 7), article(8, 8)];
      const tokens = [10, 11, 12, 13, 14, 15];
      /** Two beams of each article, one step, then only `kept` articles; their next step's logits. */
      const afterDropping = async (kept: number[], groupsAfter: number[]) => {
        const state = await model.encode(batch(texts));
        // 17 + 2 x 9 padded positions beat 3 x 17 and 2 x 17 + 8.
        expect(state.groups.map((g) => g.articles)).toEqual([1, 2]);
        await model.decode(state, Int32Array.of(2, 2, 2), 1);
        model.selectRows(state, Int32Array.of(0, 0, 1, 1, 2, 2));
        await model.decode(state, Int32Array.from(tokens), 1);
        model.selectRows(state, Int32Array.from(kept.flatMap((a) => [2 * a, 2 * a + 1])));
        expect(state.groups.map((g) => g.articles)).toEqual(groupsAfter);
        const logits = await model.decode(state, Int32Array.of(7, 8, 9, 10), 1);
        model.release(state);
        return logits;
      };
      const ownCall = async (kept: number[]) => {
        const state = await model.encode(batch(kept.map((a) => texts[a]!)));
        await model.decode(state, Int32Array.of(2, 2), 1);
        model.selectRows(state, Int32Array.of(0, 0, 1, 1));
        await model.decode(state, Int32Array.from(kept.flatMap((a) => [tokens[2 * a]!, tokens[2 * a + 1]!])), 1);
        const logits = await model.decode(state, Int32Array.of(7, 8, 9, 10), 1);
        model.release(state);
        return logits;
      };
      for (const [kept, groupsAfter] of [[[1, 2], [0, 2]], [[0, 2], [1, 1]]] as const) {
        const dropped = await afterDropping([...kept], [...groupsAfter]);
        const reference = await ownCall([...kept]);
        expect(dropped.length).toBe(reference.length);
        let worst = 0;
        for (let i = 0; i < reference.length; i++) worst = Math.max(worst, Math.abs(dropped[i]! - reference[i]!));
        expect(worst, `kept ${kept}`).toBeLessThan(1e-5);
      }
    } finally {
      await model.dispose();
    }
  });
});

describe("int8 compiled from the published *_quantized decoder", () => {
  it("quantizes each article's rows on their own: an article's logits are bit for bit the same whichever article shares its steps", async () => {
    // Same row counts on both sides, so the float kernels (the tied LM head) take the same paths; only
    // the quantization of the int8 products could carry the partner into the first article's numbers.
    const model = await compiledModel("decoder_model_merged_quantized.onnx", true);
    try {
      const texts = [article(12, 9), article(12, 10), article(12, 11)];
      const beamTokens = [[40, 41], [900, 7000], [3, 25000]];
      /** The articles' first step (one row each) and second step (two beams each) logits, [rows, V] each. */
      const steps = async (articles: number[]) => {
        const ids = Int32Array.from(articles.flatMap((a) => [...texts[a]!]));
        const state = await model.encode({ rows: articles.length, length: 12, ids, mask: new Int32Array(ids.length).fill(1) });
        const first = await model.decode(state, Int32Array.from(articles.map(() => 2)), 1);
        model.selectRows(state, Int32Array.from(articles.flatMap((_, i) => [i, i])));
        const second = await model.decode(state, Int32Array.from(articles.flatMap((a) => beamTokens[a]!)), 1);
        model.release(state);
        return [first, second];
      };
      const besideOne = await steps([0, 1]);
      const besideTwo = await steps([0, 2]);
      besideOne.forEach((logits, step) => {
        const firstArticle = logits.subarray(0, logits.length / 2);
        const other = besideTwo[step]!.subarray(0, logits.length / 2);
        const differing = firstArticle.filter((value, i) => !Object.is(value, other[i])).length;
        expect(differing, `step ${step + 1}: logits of the first article that change with its partner`).toBe(0);
      });
      // The partners themselves differ (the check above compares something).
      expect(besideOne[1]![besideOne[1]!.length - 1]).not.toBe(besideTwo[1]![besideTwo[1]!.length - 1]);
    } finally {
      await model.dispose();
    }
  });

  it("runs each layer's self-attention q, k and v as one int8 product of the three matrices side by side", async () => {
    const compiled = await compileBartDecoder(join(dir, "onnx", "decoder_model_merged_quantized.onnx"), { config });
    const nodes = loadOnnxModel(compiled.step).model.graph!.node ?? [];
    const producer = new Map(nodes.flatMap((node) => (node.output ?? []).map((output) => [output, node] as const)));
    const products = nodes.filter((node) => node.opType === "MatMulInteger");
    const grouped = products.filter((node) => producer.get(node.input![1]!)?.opType === "Concat");
    const layers = config["decoder_layers"] as number;
    expect(grouped).toHaveLength(layers);
    for (const node of grouped) expect(producer.get(node.input![1]!)?.input).toHaveLength(3);
    // q+k+v, out, cross q, cross out, fc1, fc2: six int8 products a layer where there were eight (the
    // LM head is one more when its matrix is quantized; this fixture's is the tied float table).
    expect([layers * 6, layers * 6 + 1]).toContain(products.length);
  });

  it("gives the tokens of the published int8 graphs on the tutorial's calls", async () => {
    const compiled = await compiledModel("decoder_model_merged_quantized.onnx", true);
    const published = await loadBartOnnx(dir, { quantized: true, decoder: "merged", intraOpNumThreads: 1 });
    try {
      for (const call of calls.filter((c) => c.name.startsWith("pipeline_"))) {
        const options = generationOptionsFromHfJson(call.kwargs);
        const ours = await generate(compiled, { inputIds: call.inputIds }, options);
        const theirs = await generate(published, { inputIds: call.inputIds }, options);
        expect(ours.sequences, call.name).toEqual(theirs.sequences);
      }
    } finally {
      await Promise.all([compiled.dispose(), published.dispose()]);
    }
  });
});

describe("compilation cache", () => {
  it("reuses a compilation of the same bytes and recompiles when the source changes", async () => {
    const source = join(dir, "onnx", "decoder_model_merged.onnx");
    const first = await compileBartDecoder(source, { config });
    let compiles = 0;
    const again = await compileBartDecoder(source, { config, onCompile: () => compiles++ });
    expect(again.compiled).toBe(false);
    expect(again.step).toBe(first.step);
    // Touched, same bytes: the hash says it is the same model.
    utimesSync(source, new Date(), new Date(Date.now() + 5000));
    expect((await compileBartDecoder(source, { config, onCompile: () => compiles++ })).compiled).toBe(false);
    expect(compiles).toBe(0);
    // Another model's bytes (the manifest no longer matches): compiled anew.
    const manifest = source.replace(/\.onnx$/, `.news-moe-c${BART_COMPILER_VERSION}.json`);
    const recorded = JSON.parse(readFileSync(manifest, "utf8")) as { source: { sha256: string; mtimeMs: number } };
    recorded.source.sha256 = "0".repeat(64);
    recorded.source.mtimeMs = 0;
    writeFileSync(manifest, JSON.stringify(recorded));
    const rebuilt = await compileBartDecoder(source, { config, onCompile: () => compiles++ });
    expect(rebuilt.compiled).toBe(true);
    expect(compiles).toBe(1);
  });

  it("writes no weights: the compiled graphs refer to the source's bytes", async () => {
    const compiled = await compileBartDecoder(join(dir, "onnx", "decoder_model_merged.onnx"), { config });
    const sourceSize = readFileSync(join(dir, "onnx", "decoder_model_merged.onnx")).length;
    expect(readFileSync(compiled.step).length).toBeLessThan(sourceSize / 10);
    expect(readFileSync(compiled.step).includes(Buffer.from("decoder_model_merged.onnx"))).toBe(true);
  });

  it("keeps the token-embedding table out of the step: its rows come in as an input, read from the source file", async () => {
    const compiled = await compileBartDecoder(join(dir, "onnx", "decoder_model_merged.onnx"), { config });
    const step = loadOnnxModel(compiled.step);
    const graph = step.model.graph!;
    expect((graph.input ?? []).map((input) => input.name)).toContain("token_embeddings");
    expect((graph.input ?? []).map((input) => input.name)).not.toContain("input_ids");
    // No Gather reads rows of a vocabulary-sized initializer (the LM head's MatMul still uses the table).
    const vocab = config["vocab_size"] as number;
    const gathered = (graph.node ?? []).filter((node) => node.opType === "Gather").map((node) => step.weights.get(node.input![0]!));
    expect(gathered.filter((weight) => weight?.dims[0] === vocab)).toEqual([]);
    const { stepTable } = compiled;
    expect(stepTable.file).toBe(join(dir, "onnx", "decoder_model_merged.onnx"));
    expect([stepTable.rows, stepTable.width]).toEqual([vocab, config["d_model"]]);
  });
});

describe("models the compiler does not take", () => {
  it("run on the published graphs, with the reason", async () => {
    const opened = await openBart(
      {
        encoder: join(dir, "onnx", "encoder_model.onnx"),
        decoderMerged: join(dir, "onnx", "decoder_model_merged.onnx"),
        config: { ...config, activation_function: "relu" },
        generationConfig,
      },
      { intraOpNumThreads: 1 },
    );
    try {
      expect(opened.engine).toBe("published");
      expect(opened.fallbackReason).toMatch(/activation_function relu/);
      const call = calls.find((c) => c.name === "pipeline_tutorial_football")!;
      const result = await generate(opened.model, { inputIds: call.inputIds }, generationOptionsFromHfJson(call.kwargs));
      expect(result.sequences).toEqual(call.sequences);
    } finally {
      await opened.model.dispose();
    }
  });

  it("say which file and what is missing when the graph is not a BART decoder", async () => {
    const sentiment = new URL("./fixtures/models/tiny-distilbert-sst2/onnx/model.onnx", import.meta.url).pathname;
    const copy = join(dir, "not-a-decoder.onnx");
    cpSync(sentiment, copy);
    let compiles = 0;
    await expect(compileBartDecoder(copy, { config, onCompile: () => compiles++ })).rejects.toThrow(/not-a-decoder\.onnx: no MatMul \+ bias for decoder layer 0/);
    // Remembered: the next load gives the same reason without parsing the graph again.
    await expect(compileBartDecoder(copy, { config, onCompile: () => compiles++ })).rejects.toThrow(/not-a-decoder\.onnx: no MatMul \+ bias for decoder layer 0/);
    expect(compiles).toBe(1);
    // Under another config (the layout checks depend on its layer count) the graph is looked at again.
    await expect(compileBartDecoder(copy, { config: { ...config, decoder_layers: 1 }, onCompile: () => compiles++ })).rejects.toThrow(/not-a-decoder\.onnx/);
    expect(compiles).toBe(2);
  });
});
