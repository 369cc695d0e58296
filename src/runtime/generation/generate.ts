/**
 * `generate()`: Hugging Face `model.generate(...)` for encoder-decoder models, token for token.
 *
 *   const model = await loadBartOnnx("models/distilbart-cnn-6-6");
 *   const { sequences, sequencesScores } = await generate(model, { inputIds: [[0, 713, 16, 2]] }, {
 *     maxLength: 300, minLength: 30,      // like HF kwargs; unspecified fields come from the model's
 *   });                                   // generation_config.json (num_beams=4, length_penalty=2, ...)
 *
 * Settings are resolved as HF resolves them (`generation-config.ts`); `numBeams > 1` runs beam search,
 * otherwise greedy search. Inputs are token ids (tokenisation lives elsewhere); ragged rows are
 * right-padded with the pad token and masked, as a tokenizer with `padding=True` would. Without an
 * explicit mask a rectangular batch gets HF's inferred mask: `ids != pad` when the pad token occurs in
 * the input and is not an eos token, otherwise all ones.
 *
 * Output rows are HF's: decoder start token first, padded to a common length with the pad token (beam
 * search: `pad_token_id or eos_token_id[0]`). `sequencesScores` is HF's `sequences_scores` (beam search
 * only), `num_return_sequences` consecutive rows per input.
 */

import { beamSearch, type SearchResult, type SearchStats } from "./beam-search.js";
import {
  resolveGenerationConfig,
  type GenerationOptions,
  type ResolvedGenerationConfig,
} from "./generation-config.js";
import { greedySearch } from "./greedy-search.js";
import { buildLogitsProcessors, type LogitsProcessor } from "./logits-processors.js";
import type { DecoderState, Seq2SeqModel, TokenBatch } from "./seq2seq-model.js";

export interface GenerateInput {
  /** Encoder token ids, one row per article. */
  inputIds: readonly (readonly number[])[];
  /** Optional encoder attention mask, same shape as `inputIds`. */
  attentionMask?: readonly (readonly number[])[];
}

export interface GenerateControls {
  /** Extra processors, run after the built-in ones (HF: custom `logits_processor`). */
  logitsProcessors?: readonly LogitsProcessor[];
  /** Remove finished articles from the decoder batch (exact, faster). Default true. */
  dropFinished?: boolean;
  /** Aborts between decoder steps. */
  signal?: AbortSignal;
  /** Let a model that scores beam candidates itself do so (default true; beam search only). */
  scoreInModel?: boolean;
  /** Filled with how beam-search steps were scored. */
  stats?: SearchStats;
}

/** Model-side defaults `generate` reads: a `Seq2SeqModel` may carry them. */
export interface GenerationDefaultsSource {
  /** Parsed `generation_config.json` (or `config.json`'s generation fields). */
  readonly generationDefaults?: GenerationOptions;
}

export type GenerationResult = SearchResult;

/** Builds the padded encoder batch and its mask. Exported for tests. */
export function buildEncoderBatch(input: GenerateInput, padTokenId: number | null, eosTokenIds: readonly number[]): TokenBatch {
  const rows = input.inputIds.length;
  let length = 0;
  for (const row of input.inputIds) length = Math.max(length, row.length);
  if (rows > 0 && length === 0) throw new RangeError("generate: input rows are empty");
  const ragged = input.inputIds.some((row) => row.length !== length);
  const ids = new Int32Array(rows * length).fill(padTokenId ?? 0);
  const mask = new Int32Array(rows * length);
  input.inputIds.forEach((row, r) => {
    if (row.length === 0) throw new RangeError(`generate: input row ${r} is empty`);
    ids.set(row, r * length);
  });
  if (input.attentionMask) {
    if (input.attentionMask.length !== rows) throw new RangeError("generate: attentionMask has the wrong number of rows");
    input.attentionMask.forEach((row, r) => {
      if (row.length !== input.inputIds[r]!.length) throw new RangeError(`generate: attentionMask row ${r} has the wrong length`);
      mask.set(row, r * length);
    });
  } else if (ragged) {
    input.inputIds.forEach((row, r) => mask.fill(1, r * length, r * length + row.length));
  } else {
    // HF `_prepare_attention_mask_for_generation`.
    const canInfer = padTokenId !== null && ids.includes(padTokenId) && !eosTokenIds.includes(padTokenId);
    for (let i = 0; i < ids.length; i++) mask[i] = canInfer && ids[i] === padTokenId ? 0 : 1;
  }
  return { rows, length, ids, mask };
}

/** Resolves `options` against the model's defaults exactly as `generate` does. */
export function resolveForModel(
  model: Seq2SeqModel & GenerationDefaultsSource,
  options: GenerationOptions = {},
): ResolvedGenerationConfig {
  return resolveGenerationConfig(options, {
    modelDefaults: model.generationDefaults ?? {},
    ...(model.maxPositionEmbeddings !== undefined ? { maxPositionEmbeddings: model.maxPositionEmbeddings } : {}),
  });
}

export async function generate<S extends DecoderState>(
  model: Seq2SeqModel<S> & GenerationDefaultsSource,
  input: GenerateInput,
  options: GenerationOptions = {},
  controls: GenerateControls = {},
): Promise<GenerationResult> {
  const config = resolveForModel(model, options);
  const batchSize = input.inputIds.length;
  if (batchSize === 0) return config.numBeams > 1 ? { sequences: [], sequencesScores: [] } : { sequences: [] };
  const batch = buildEncoderBatch(input, config.padTokenId, config.eosTokenIds);
  if (model.maxInputLength !== undefined && batch.length > model.maxInputLength) {
    throw new RangeError(
      `generate: input has ${batch.length} tokens, the model accepts at most ${model.maxInputLength}; truncate or chunk it first`,
    );
  }
  const processors = buildLogitsProcessors(config, controls.logitsProcessors ?? []);
  const searchOptions = {
    ...(controls.dropFinished !== undefined ? { dropFinished: controls.dropFinished } : {}),
    ...(controls.signal ? { signal: controls.signal } : {}),
    ...(controls.scoreInModel !== undefined ? { scoreInModel: controls.scoreInModel } : {}),
    ...(controls.stats ? { stats: controls.stats } : {}),
  };
  const state = await model.encode(batch);
  try {
    return config.numBeams > 1
      ? await beamSearch(model, state, config, processors, batchSize, searchOptions)
      : await greedySearch(model, state, config, processors, batchSize, searchOptions);
  } finally {
    model.release(state);
  }
}
