import { describeModelNotAvailable } from "../src/cli/model-messages.js";
import { ModelNotAvailableError } from "../src/models/model-errors.js";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExpertUnavailableError, type ExpertContext } from "../src/core/expert.js";
import type { NewsItem } from "../src/core/news-item.js";
import { NeuralSentimentExpert, type NeuralSentimentOutput } from "../src/experts/neural/index.js";
import { OnnxSequenceClassifier } from "../src/runtime/onnx/sequence-classifier.js";
import { splitSentences } from "../src/text/sentences.js";

// References: sentiment.json (tools/python/make_references.py) and extra-neural-sentiment.json
// (tools/python/make_extra_neural_sentiment_refs.py, news-moe's sentence-window rule), both HF PyTorch.
const FIXTURES = join(import.meta.dirname, "fixtures");
const MODEL_DIR = join(FIXTURES, "models", "tiny-distilbert-sst2");
const reference = JSON.parse(readFileSync(join(FIXTURES, "references", "sentiment.json"), "utf8")) as any;
const extra = JSON.parse(readFileSync(join(FIXTURES, "references", "extra-neural-sentiment.json"), "utf8")) as any;
const LABELS = ["NEGATIVE", "POSITIVE"] as const; // the fixture's id2label
const TOLERANCE = 1e-4;

const context: ExpertContext = { warn: () => {} };
const item = (id: string, content: string): NewsItem => ({ id, content });

function expectClose(actual: ArrayLike<number>, expected: readonly number[], what: string) {
  expect(actual.length, what).toBe(expected.length);
  expected.forEach((value, i) => expect(Math.abs(actual[i]! - value), `${what}[${i}]: ${actual[i]} vs ${value}`).toBeLessThan(TOLERANCE));
}

function ok(result: NeuralSentimentOutput | Error): NeuralSentimentOutput {
  if (result instanceof Error) throw result;
  return result;
}

describe("OnnxSequenceClassifier on the tiny DistilBERT SST-2 fixture", () => {
  let classifier: OnnxSequenceClassifier;
  beforeAll(async () => {
    classifier = await OnnxSequenceClassifier.create(join(MODEL_DIR, "onnx", "model.onnx"), { padTokenId: 0, maxInputLength: 512 });
  });
  afterAll(() => classifier.dispose());

  it("gives HF's logits for every reference text, one at a time", async () => {
    for (const c of reference.cases) {
      const [logits] = await classifier.logits([c.input_ids]);
      expectClose(logits!, c.logits, c.name);
    }
  });

  it("gives HF's logits for all reference texts in one padded batch", async () => {
    const rows = reference.cases.map((c: any) => c.input_ids);
    const logits = await classifier.logits(rows);
    reference.cases.forEach((c: any, i: number) => expectClose(logits[i]!, c.logits, `batched ${c.name}`));
    const padded = reference.padded_batch;
    const unpadded = padded.input_ids.map((row: number[], i: number) => row.slice(0, padded.attention_mask[i].filter(Boolean).length));
    (await classifier.logits(unpadded)).forEach((row, i) => expectClose(row, padded.logits[i], `padded batch row ${i}`));
  });

  it("gives HF's logits for every window of the over-512-token reference text and of news-moe's windows", async () => {
    const windows = [...reference.long_text.windows, ...extra.cases.flatMap((c: any) => c.windows)];
    const logits = await classifier.logits(windows.map((w: any) => w.input_ids));
    windows.forEach((w: any, i: number) => expectClose(logits[i]!, w.logits, `window ${i}`));
  });

  it("refuses a row longer than the model instead of failing inside onnxruntime", async () => {
    await expect(classifier.logits([new Array(513).fill(1000)])).rejects.toThrow(/row 0 has 513 tokens; the model takes at most 512/);
  });
});

describe("NeuralSentimentExpert", () => {
  const expert = new NeuralSentimentExpert({ sentimentModel: MODEL_DIR });
  beforeAll(() => expert.load());
  afterAll(() => expert.dispose());

  it("classifies each reference text like pipeline('sentiment-analysis'), with NEUTRAL below the threshold", async () => {
    const cases = reference.cases.filter((c: any) => c.text.trim() !== "");
    const results = await expert.analyze(cases.map((c: any) => item(c.name, c.text)), context);
    let neutral = 0;
    cases.forEach((c: any, i: number) => {
      const out = ok(results[i]!);
      expectClose([out.probabilities.NEGATIVE!, out.probabilities.POSITIVE!], c.probs, c.name);
      expect(out.windows).toBe(1);
      expect(out.tokens).toBe(c.input_ids.length - 2);
      const top = Math.max(...c.probs);
      if (top >= 0.75) {
        expect(out.sentiment_label, c.name).toBe(c.pipeline.label);
        expect(Math.abs(out.sentiment_score - c.pipeline.score)).toBeLessThan(TOLERANCE);
      } else {
        neutral++;
        expect(out.sentiment_label, c.name).toBe("NEUTRAL");
        expect(Math.abs(out.sentiment_score - (1 - Math.abs(c.probs[1] - c.probs[0])))).toBeLessThan(TOLERANCE);
      }
    });
    expect(neutral).toBeGreaterThan(0); // the reference has texts on both sides of the threshold
  });

  it("with neutralThreshold 0.5 gives exactly the pipeline's labels", async () => {
    const binary = new NeuralSentimentExpert({ sentimentModel: MODEL_DIR, neutralThreshold: 0.5 });
    try {
      const cases = reference.cases.filter((c: any) => c.text.trim() !== "");
      const results = await binary.analyze(cases.map((c: any) => item(c.name, c.text)), context);
      cases.forEach((c: any, i: number) => expect(ok(results[i]!).sentiment_label, c.name).toBe(c.pipeline.label));
    } finally {
      await binary.dispose();
    }
  });

  describe.each(extra.cases as any[])("whole article in sentence windows: $name", (c: any) => {
    it("finds the reference's sentences", () => {
      expect(splitSentences(c.text).map((s) => s.text)).toEqual(c.sentences);
    });

    it("cuts the reference's windows", async () => {
      expect(await expert.inputWindows(c.text)).toEqual(c.windows.map((w: any) => w.input_ids));
    });

    it("aggregates to the reference probabilities and label", async () => {
      const [result] = await expert.analyze([item(c.name, c.text)], context);
      const out = ok(result!);
      expect(out.windows).toBe(c.windows.length);
      expect(out.tokens).toBe(c.windows.reduce((n: number, w: any) => n + w.tokens, 0));
      expectClose([out.probabilities.NEGATIVE!, out.probabilities.POSITIVE!], LABELS.map((l) => c.probabilities[l]), c.name);
      expect(out.sentiment_label).toBe(c.label);
      expect(Math.abs(out.sentiment_score - c.score)).toBeLessThan(TOLERANCE);
    });
  });

  it("puts windows of many articles through shared runs without changing any article's result", async () => {
    const texts = extra.cases.map((c: any) => c.text as string);
    const together = await expert.analyze(texts.map((t: string, i: number) => item(`a${i}`, t)), context);
    const tight = new NeuralSentimentExpert({ sentimentModel: MODEL_DIR, tokenBudget: 600 }); // one window per run
    try {
      const apart = await tight.analyze(texts.map((t: string, i: number) => item(`a${i}`, t)), context);
      together.forEach((r, i) => {
        const a = ok(r);
        const b = ok(apart[i]!);
        expect(a.sentiment_label).toBe(b.sentiment_label);
        expect(Math.abs(a.probabilities.POSITIVE! - b.probabilities.POSITIVE!)).toBeLessThan(1e-5);
      });
    } finally {
      await tight.dispose();
    }
  });

  it("returns an Error for an empty item and results for the others", async () => {
    const results = await expert.analyze(
      [item("first", reference.cases[0].text), item("blank", "  \n "), item("third", reference.cases[1].text)],
      context,
    );
    expect(results[1]).toBeInstanceOf(Error);
    expect((results[1] as Error).message).toMatch(/content is empty.*"blank"/);
    expect(ok(results[0]!).probabilities.POSITIVE).toBeCloseTo(reference.cases[0].probs[1], 4);
    expect(ok(results[2]!).probabilities.POSITIVE).toBeCloseTo(reference.cases[1].probs[1], 4);
  });

  it("stops when the run is aborted instead of returning partial results", async () => {
    const controller = new AbortController();
    controller.abort(new Error("SIGINT"));
    await expect(
      expert.analyze([item("a", reference.cases[0].text)], { ...context, signal: controller.signal }),
    ).rejects.toThrow(/SIGINT/);
  });

  it("declares itself English-only and batches up to its maxBatchSize", () => {
    expect(expert.languages).toEqual(["eng"]);
    expect(expert.maxBatchSize).toBeGreaterThan(1);
  });

  it("runs the int8 graph with dtype q8", async () => {
    const q8 = new NeuralSentimentExpert({ sentimentModel: MODEL_DIR, dtype: "q8" });
    try {
      const [result] = await q8.analyze([item("q8", reference.cases[0].text)], context);
      const out = ok(result!);
      expect(out.probabilities.NEGATIVE! + out.probabilities.POSITIVE!).toBeCloseTo(1, 6);
      // int8 weights move the probabilities a little, not a lot.
      expect(Math.abs(out.probabilities.POSITIVE! - reference.cases[0].probs[1])).toBeLessThan(0.1);
    } finally {
      await q8.dispose();
    }
  });
});

describe("NeuralSentimentExpert availability", () => {
  const missingDir = join(FIXTURES, "models", "no-such-model");

  it("constructs without touching the model", () => {
    expect(() => new NeuralSentimentExpert({ sentimentModel: missingDir })).not.toThrow();
  });

  it("load() on a missing model throws ExpertUnavailableError naming the model and how to get it", async () => {
    const expert = new NeuralSentimentExpert({ sentimentModel: missingDir });
    const error = await expert.load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExpertUnavailableError);
    const reason = (error as ExpertUnavailableError).reason;
    expect(reason).toContain(missingDir);
    expect(reason).toMatch(/does not exist/);
    // The typed cause carries what a front end needs to say how to get the model; the CLI says it.
    const cause = (error as ExpertUnavailableError).cause;
    expect(cause).toBeInstanceOf(ModelNotAvailableError);
    expect(describeModelNotAvailable(cause as ModelNotAvailableError)).toMatch(/To get it/);
  });

  it("probe(): a local model is available, a missing one is not", async () => {
    expect(await new NeuralSentimentExpert({ sentimentModel: MODEL_DIR }).probe()).toEqual({ available: true });
    const missing = await new NeuralSentimentExpert({ sentimentModel: missingDir }).probe();
    expect(missing.available).toBe(false);
  });

  it("probe(): an uncached hub model counts as available online (downloaded on first use), not offline", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "news-moe-empty-cache-"));
    const online = new NeuralSentimentExpert({ sentimentModel: "example-org/not-cached-model", cacheDir });
    expect(await online.probe()).toEqual({ available: true, downloadable: true });
    const offline = new NeuralSentimentExpert({ sentimentModel: "example-org/not-cached-model", cacheDir, offline: true });
    const result = await offline.probe();
    expect(result.available).toBe(false);
    if (!result.available) {
      expect(result.reason).toMatch(/example-org\/not-cached-model/);
      expect(result.reason).toMatch(/offline mode is on/);
    }
  });

  it("rejects a model whose classes are not named", async () => {
    // The BART fixture's config has id2label LABEL_0..2 and no model.onnx: unavailable, with the reason.
    const expert = new NeuralSentimentExpert({ sentimentModel: join(FIXTURES, "models", "tiny-distilbart-cnn-6-6") });
    await expect(expert.load()).rejects.toBeInstanceOf(ExpertUnavailableError);
  });
});
