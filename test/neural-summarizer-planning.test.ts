import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { summarizationPipelineDefaults, summarizationPrefix } from "../src/experts/neural/summarization-settings.js";
import { planEncoderInputs, type SummaryInputContext } from "../src/experts/neural/summary-windows.js";
import { resolveGenerationConfig } from "../src/runtime/generation/index.js";
import { HfTokenizer } from "../src/runtime/tokenizer.js";
import { splitSentences } from "../src/text/sentences.js";

// References: summarization.json (tools/python/make_references.py, HF transformers 4.57.6).
const FIXTURES = join(import.meta.dirname, "fixtures");
const MODEL_DIR = join(FIXTURES, "models", "tiny-distilbart-cnn-6-6");
const reference = JSON.parse(readFileSync(join(FIXTURES, "references", "summarization.json"), "utf8")) as any;
const config = JSON.parse(readFileSync(join(MODEL_DIR, "config.json"), "utf8")) as Record<string, unknown>;
const generationConfig = JSON.parse(readFileSync(join(MODEL_DIR, "generation_config.json"), "utf8")) as Record<string, unknown>;

const HF_FIELDS: Record<string, string> = {
  maxLength: "max_length",
  minLength: "min_length",
  numBeams: "num_beams",
  lengthPenalty: "length_penalty",
  earlyStopping: "early_stopping",
  noRepeatNgramSize: "no_repeat_ngram_size",
  forcedBosTokenId: "forced_bos_token_id",
  padTokenId: "pad_token_id",
  decoderStartTokenId: "decoder_start_token_id",
  numReturnSequences: "num_return_sequences",
  repetitionPenalty: "repetition_penalty",
};

describe("summarisation settings as pipeline('summarization') resolves them", () => {
  it("uses the config prefix the pipeline prepends", () => {
    expect(summarizationPrefix(config)).toBe(reference.pipeline_facts.prefix);
  });

  it("matches the pipeline's generation config, and the tutorial call's effective config", () => {
    const defaults = summarizationPipelineDefaults(config, generationConfig);
    const pipelineConfig = resolveGenerationConfig(defaults, { maxPositionEmbeddings: 1024 });
    const hf = reference.pipeline_facts.pipeline_generation_config;
    for (const [ours, theirs] of Object.entries(HF_FIELDS)) {
      expect((pipelineConfig as any)[ours], theirs).toEqual(hf[theirs]);
    }
    expect(pipelineConfig.forcedEosTokenIds).toEqual([hf.forced_eos_token_id]);
    expect(pipelineConfig.eosTokenIds).toEqual([hf.eos_token_id]);

    const tutorial = reference.cases.find((c: any) => c.name === "pipeline_tutorial_football");
    const call = resolveGenerationConfig({ ...defaults, maxLength: 300, minLength: 30, doSample: false }, { maxPositionEmbeddings: 1024 });
    for (const [ours, theirs] of Object.entries(HF_FIELDS)) {
      expect((call as any)[ours], theirs).toEqual(tutorial.effective_generation_config[theirs]);
    }
  });

  it("lets the pipeline's num_beams=4 win over a model's own, as HF does, then task params on top", () => {
    const plainConfig = { ...config, task_specific_params: {} };
    expect(summarizationPipelineDefaults(plainConfig, { ...generationConfig, num_beams: 2 }).numBeams).toBe(4);
    expect(summarizationPipelineDefaults(config, { ...generationConfig, num_beams: 2 }).numBeams).toBe(4); // task params: 4
    const noMaxLength = { ...generationConfig };
    delete noMaxLength["max_length"];
    // A model without its own max_length keeps the pipeline's max_new_tokens=256.
    expect(summarizationPipelineDefaults(plainConfig, noMaxLength).maxNewTokens).toBe(256);
    expect(summarizationPipelineDefaults(plainConfig, generationConfig).maxNewTokens).toBeNull();
  });
});

describe("encoder inputs for long articles (the reference chunking rule)", () => {
  let input: SummaryInputContext;
  beforeAll(async () => {
    const tokenizer = await HfTokenizer.fromFiles(join(MODEL_DIR, "tokenizer.json"), join(MODEL_DIR, "tokenizer_config.json"));
    input = { tokenizer, prefix: " ", limit: 1024 };
  });

  it("feeds an article that fits as a whole, like the pipeline (1,024 tokens exactly)", () => {
    for (const name of ["pipeline_tutorial_football", "pipeline_tutorial_1024_tokens"]) {
      const c = reference.cases.find((x: any) => x.name === name);
      const plan = planEncoderInputs(input, c.text, "chunk");
      expect(plan.mode).toBe("whole");
      expect(plan.windows[0].ids).toEqual(c.input_ids[0]);
    }
  });

  it.each(reference.chunking_cases as any[])("$name: same sentences, windows and ids", (c: any) => {
    // news-moe's sentence splitter and the reference's regex agree on these articles.
    const regexSentences = c.article.split(/(?<=[.!?])\s+/).map((s: string) => s.trim()).filter(Boolean);
    expect(splitSentences(c.article).map((s) => s.text)).toEqual(regexSentences);

    const plan = planEncoderInputs(input, c.article, "chunk");
    expect(plan.mode).toBe("chunk");
    expect(plan.inputTokens).toBe(c.n_tokens);
    expect(plan.windows.map((w) => w.text)).toEqual(c.result.windows.map((w: any) => w.text));
    expect(plan.windows.map((w) => w.ids)).toEqual(c.result.windows.map((w: any) => w.input_ids));
    if (c.result.resummary) {
      const next = planEncoderInputs(input, c.result.joined, "chunk");
      expect(next.mode).toBe(c.result.resummary.chunked ? "chunk" : "whole");
      expect(next.windows[0]!.ids).toEqual(c.result.resummary.input_ids);
    }
  });

  it("truncate keeps the first 1,024 tokens, ending with </s>, as HF truncation=True does", () => {
    const c = reference.chunking_cases[1];
    const plan = planEncoderInputs(input, c.article, "truncate");
    expect(plan.mode).toBe("truncate");
    const whole = input.tokenizer.encode(" " + c.article);
    expect(plan.windows[0].ids).toEqual([...whole.slice(0, 1023), 2]);
  });

  it("cuts a sentence longer than the window at words, and a word longer than the window at tokens", () => {
    const longSentence = Array.from({ length: 1500 }, (_, i) => `player${i % 50}`).join(" ") + ".";
    const plan = planEncoderInputs(input, `A short opening. ${longSentence} A short ending.`, "chunk");
    expect(plan.windows.length).toBeGreaterThan(2);
    for (const w of plan.windows) {
      expect(w.ids.length).toBeLessThanOrEqual(1024);
      expect(w.ids[0]).toBe(0);
      expect(w.ids.at(-1)).toBe(2);
      expect(w.ids).toEqual(input.tokenizer.encode(" " + w.text)); // word windows re-tokenise exactly
    }
    const oneWord = "q7".repeat(900); // 1,800 tokens without a space, in under 2,000 characters
    const wordPlan = planEncoderInputs(input, oneWord, "chunk");
    expect(wordPlan.windows.length).toBeGreaterThan(1);
    const body = wordPlan.windows.flatMap((w) => w.ids.slice(1, -1));
    expect(body).toEqual(input.tokenizer.encode(" " + oneWord, { addSpecialTokens: false }));
    for (const w of wordPlan.windows) expect(w.ids.length).toBeLessThanOrEqual(1024);
  });
});
