/**
 * Logits processors and config resolution on small hand-checked cases, each derived from the HF
 * semantics quoted in the test name.
 */
import { describe, expect, it } from "vitest";
import {
  buildEncoderBatch,
  buildLogitsProcessors,
  ForcedBosProcessor,
  ForcedEosProcessor,
  generationOptionsFromHfJson,
  MinLengthProcessor,
  MinNewTokensProcessor,
  NoRepeatNGramProcessor,
  RepetitionPenaltyProcessor,
  resolveGenerationConfig,
  SuppressTokensAtBeginProcessor,
  UnsupportedGenerationOptionError,
  type TokenRows,
} from "../src/runtime/generation/index.js";

function rows(...tokenRows: number[][]): TokenRows {
  const length = tokenRows[0]!.length;
  return { count: tokenRows.length, length, row: (i) => Int32Array.from(tokenRows[i]!) };
}

function bannedIn(scores: Float32Array, vocab: number, row: number): number[] {
  const out: number[] = [];
  for (let v = 0; v < vocab; v++) if (scores[row * vocab + v] === -Infinity) out.push(v);
  return out;
}

describe("NoRepeatNGramProcessor", () => {
  it("bans tokens that would repeat a trigram: HF fairseq semantics", () => {
    // Row 0: trigrams (2,5,6) (5,6,7) (6,7,5) (7,5,6); last bigram (5,6) was followed by 7 -> ban 7.
    // Row 1: last bigram (3,4) was followed by 3 and by 9 -> ban both.
    const scores = new Float32Array(2 * 10);
    new NoRepeatNGramProcessor(3).process(rows([2, 5, 6, 7, 5, 6], [3, 4, 3, 4, 9, 3, 4].slice(1)), scores, 10);
    expect(bannedIn(scores, 10, 0)).toEqual([7]);
    // row 1 is [4,3,4,9,3,4]: bigram (3,4) followed by 9 -> ban 9.
    expect(bannedIn(scores, 10, 1)).toEqual([9]);
  });

  it("bans nothing until the row holds ngram_size - 1 tokens (cur_len + 1 < n)", () => {
    const scores = new Float32Array(10);
    new NoRepeatNGramProcessor(3).process(rows([2]), scores, 10);
    expect(bannedIn(scores, 10, 0)).toEqual([]);
  });

  it("with n=1 bans every token already generated (empty prefix matches everywhere)", () => {
    const scores = new Float32Array(10);
    new NoRepeatNGramProcessor(1).process(rows([2, 0, 8, 0]), scores, 10);
    expect(bannedIn(scores, 10, 0)).toEqual([0, 2, 8]);
  });

  it("counts the decoder start token as part of the history (HF includes it in input_ids)", () => {
    const scores = new Float32Array(10);
    new NoRepeatNGramProcessor(2).process(rows([2, 4, 2]), scores, 10);
    expect(bannedIn(scores, 10, 0)).toEqual([4]);
  });
});

describe("length processors", () => {
  it("MinLength masks eos while input_ids.shape[-1] < min_length", () => {
    const scores = new Float32Array(8);
    new MinLengthProcessor(3, [2, 5]).process(rows([2, 0]), scores, 8);
    expect(bannedIn(scores, 8, 0)).toEqual([2, 5]);
    const later = new Float32Array(8);
    new MinLengthProcessor(3, [2, 5]).process(rows([2, 0, 7]), later, 8);
    expect(bannedIn(later, 8, 0)).toEqual([]);
  });

  it("MinNewTokens counts only tokens after the prompt", () => {
    const scores = new Float32Array(8);
    new MinNewTokensProcessor(1, 2, [2]).process(rows([2, 0]), scores, 8);
    expect(bannedIn(scores, 8, 0)).toEqual([2]);
    const later = new Float32Array(8);
    new MinNewTokensProcessor(1, 2, [2]).process(rows([2, 0, 3]), later, 8);
    expect(bannedIn(later, 8, 0)).toEqual([]);
  });

  it("ForcedBos forces the token at length 1 only: bos -> 0, everything else -> -inf", () => {
    const scores = Float32Array.from([-1, -2, -3, -4]);
    new ForcedBosProcessor(0).process(rows([2]), scores, 4);
    expect(Array.from(scores)).toEqual([0, -Infinity, -Infinity, -Infinity]);
    const later = Float32Array.from([-1, -2, -3, -4]);
    new ForcedBosProcessor(0).process(rows([2, 0]), later, 4);
    expect(Array.from(later)).toEqual([-1, -2, -3, -4]);
  });

  it("ForcedEos forces eos when the next token reaches max_length (length == max_length - 1)", () => {
    const scores = Float32Array.from([-1, -2, -3, -4, -5, -6, -7, -8]);
    new ForcedEosProcessor(4, [2, 3]).process(rows([2, 0, 5], [2, 0, 6]), scores, 4);
    expect(Array.from(scores)).toEqual([-Infinity, -Infinity, 0, 0, -Infinity, -Infinity, 0, 0]);
    const earlier = Float32Array.from([-1, -2, -3, -4]);
    new ForcedEosProcessor(4, [2]).process(rows([2, 0]), earlier, 4);
    expect(Array.from(earlier)).toEqual([-1, -2, -3, -4]);
  });
});

describe("RepetitionPenaltyProcessor", () => {
  it("divides positive and multiplies negative scores of seen tokens, once per distinct token", () => {
    const scores = Float32Array.from([2, -2, 1, 4]);
    new RepetitionPenaltyProcessor(2).process(rows([0, 1, 1, 0]), scores, 4);
    expect(Array.from(scores)).toEqual([1, -4, 1, 4]);
  });
});

describe("SuppressTokensAtBegin", () => {
  it("applies only at the begin index", () => {
    const scores = new Float32Array(4);
    new SuppressTokensAtBeginProcessor([3], 2).process(rows([2, 0]), scores, 4);
    expect(bannedIn(scores, 4, 0)).toEqual([3]);
  });
});

describe("buildLogitsProcessors", () => {
  it("uses HF's order: repetition, no-repeat-ngram, min length, min new tokens, forced bos, forced eos", () => {
    const config = resolveGenerationConfig({
      repetitionPenalty: 1.2, noRepeatNgramSize: 3, minLength: 30, minNewTokens: 5, forcedBosTokenId: 0,
      forcedEosTokenId: 2, eosTokenId: 2, decoderStartTokenId: 2, maxLength: 50,
    });
    expect(buildLogitsProcessors(config).map((p) => p.name)).toEqual([
      "repetition_penalty", "no_repeat_ngram", "min_length", "min_new_tokens", "forced_bos", "forced_eos",
    ]);
  });

  it("skips length processors without an eos token", () => {
    const config = resolveGenerationConfig({ minLength: 5, decoderStartTokenId: 2 });
    expect(buildLogitsProcessors(config)).toEqual([]);
  });

  it("puts begin_suppress one step later when forced bos occupies the first step", () => {
    const config = resolveGenerationConfig({ beginSuppressTokens: [7], forcedBosTokenId: 0, decoderStartTokenId: 2 });
    const processor = buildLogitsProcessors(config).find((p) => p.name === "begin_suppress_tokens");
    expect((processor as SuppressTokensAtBeginProcessor).beginIndex).toBe(2);
  });
});

describe("resolveGenerationConfig", () => {
  const distilbartGenerationConfig = {
    bos_token_id: 0, decoder_start_token_id: 2, early_stopping: true, eos_token_id: 2, forced_bos_token_id: 0,
    forced_eos_token_id: 2, length_penalty: 2.0, max_length: 142, min_length: 56, no_repeat_ngram_size: 3,
    num_beams: 4, pad_token_id: 1, transformers_version: "4.57.6", _from_model_config: true,
  };
  const modelDefaults = generationOptionsFromHfJson(distilbartGenerationConfig);

  it("lets call options override the model's generation_config.json", () => {
    const config = resolveGenerationConfig({ maxLength: 300, minLength: 30 }, { modelDefaults, maxPositionEmbeddings: 1024 });
    expect(config).toMatchObject({
      maxLength: 300, minLength: 30, numBeams: 4, lengthPenalty: 2, earlyStopping: true, noRepeatNgramSize: 3,
      forcedBosTokenId: 0, forcedEosTokenIds: [2], eosTokenIds: [2], padTokenId: 1, decoderStartTokenId: 2,
      beamFillTokenId: 1,
    });
  });

  it("null in call options unsets a model default (HF kwargs=None)", () => {
    const config = resolveGenerationConfig({ forcedBosTokenId: null }, { modelDefaults });
    expect(config.forcedBosTokenId).toBeNull();
  });

  it("max_new_tokens wins over max_length and counts from the decoder prompt", () => {
    const config = resolveGenerationConfig({ maxNewTokens: 10, maxLength: 300 }, { modelDefaults });
    expect(config.maxLength).toBe(11);
  });

  it("the global default max_length 20 means 20 new tokens, capped by max_position_embeddings", () => {
    expect(resolveGenerationConfig({ decoderStartTokenId: 2 }, { maxPositionEmbeddings: 1024 }).maxLength).toBe(21);
    expect(resolveGenerationConfig({ decoderStartTokenId: 2 }, { maxPositionEmbeddings: 12 }).maxLength).toBe(12);
    // Explicitly asking for 20 in the call keeps 20 (HF: has_default_max_length is False).
    expect(resolveGenerationConfig({ decoderStartTokenId: 2, maxLength: 20 }).maxLength).toBe(20);
  });

  it("min_new_tokens overrides min_length", () => {
    expect(resolveGenerationConfig({ minNewTokens: 4 }, { modelDefaults }).minLength).toBe(5);
  });

  it("falls back: pad -> eos[0], decoder start -> bos; fill token treats pad 0 as unset", () => {
    const config = resolveGenerationConfig({ eosTokenId: [7, 8], bosTokenId: 3 });
    expect(config.padTokenId).toBe(7);
    expect(config.decoderStartTokenId).toBe(3);
    expect(resolveGenerationConfig({ eosTokenId: 5, padTokenId: 0, bosTokenId: 0 }).beamFillTokenId).toBe(5);
    expect(resolveGenerationConfig({ bosTokenId: 0 }).beamFillTokenId).toBe(-1);
  });

  it("rejects invalid or unsupported settings instead of generating something else", () => {
    expect(() => resolveGenerationConfig({ numBeams: 2, numReturnSequences: 3, bosTokenId: 0 })).toThrow(RangeError);
    expect(() => resolveGenerationConfig({ numReturnSequences: 2, bosTokenId: 0 })).toThrow(RangeError);
    expect(() => resolveGenerationConfig({ doSample: true, bosTokenId: 0 })).toThrow(UnsupportedGenerationOptionError);
    expect(() => resolveGenerationConfig({ maxLength: 1, bosTokenId: 0 })).toThrow(RangeError);
    expect(() => resolveGenerationConfig({})).toThrow(/decoder_start_token_id/);
    expect(() => generationOptionsFromHfJson({ bad_words_ids: [[5]] })).toThrow(UnsupportedGenerationOptionError);
    expect(() => generationOptionsFromHfJson({ penalty_alpha: 0.6, top_k: 4 })).toThrow(UnsupportedGenerationOptionError);
    // Inert values of unsupported fields are fine (config.json often carries them).
    expect(() => generationOptionsFromHfJson({ bad_words_ids: null, diversity_penalty: 0.0 })).not.toThrow();
  });
});

describe("buildEncoderBatch", () => {
  it("right-pads ragged rows with the pad token and masks the padding", () => {
    const batch = buildEncoderBatch({ inputIds: [[0, 5, 2], [0, 2]] }, 1, [2]);
    expect(Array.from(batch.ids)).toEqual([0, 5, 2, 0, 2, 1]);
    expect(Array.from(batch.mask)).toEqual([1, 1, 1, 1, 1, 0]);
  });

  it("infers the mask of a rectangular batch as HF does: ids != pad, unless pad is an eos token", () => {
    expect(Array.from(buildEncoderBatch({ inputIds: [[0, 5, 1]] }, 1, [2]).mask)).toEqual([1, 1, 0]);
    expect(Array.from(buildEncoderBatch({ inputIds: [[0, 5, 2]] }, 2, [2]).mask)).toEqual([1, 1, 1]);
  });

  it("uses an explicit mask as given", () => {
    const batch = buildEncoderBatch({ inputIds: [[0, 5, 9]], attentionMask: [[1, 1, 0]] }, 1, [2]);
    expect(Array.from(batch.mask)).toEqual([1, 1, 0]);
    expect(() => buildEncoderBatch({ inputIds: [[0, 5]], attentionMask: [[1]] }, 1, [2])).toThrow(RangeError);
  });
});
