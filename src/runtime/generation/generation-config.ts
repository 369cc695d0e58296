/**
 * Generation settings and how they are resolved, following transformers 4.57 `generate()`.
 *
 * Precedence, highest first (transformers: `_prepare_generation_config`, `GenerationConfig.update`):
 *   1. the call's options (`GenerationOptions` passed to `generate`); `null` explicitly unsets a value
 *      (HF: passing `forced_bos_token_id=None`), `undefined` means "not given";
 *   2. the model's defaults: `generation_config.json` when the model ships one, otherwise the generation
 *      fields of `config.json` (HF: `GenerationConfig.from_model_config`). The two are never merged: a
 *      `generation_config.json` replaces `config.json`'s generation fields entirely;
 *   3. `GenerationConfig()`'s global defaults (`DEFAULT_GENERATION_OPTIONS`).
 *
 * Then the derived values (transformers: `_prepare_special_tokens`, `_prepare_generated_length`):
 *   - `eos_token_id` becomes a list; an unset `pad_token_id` falls back to the first eos token;
 *   - an unset `decoder_start_token_id` falls back to `bos_token_id`;
 *   - `max_length` counts the decoder prompt (the decoder start token), so `max_length=142` means at
 *     most 141 generated tokens; `max_new_tokens`, when set, wins: `max_length = max_new_tokens + prompt`;
 *   - when the call gives no `max_length` and the resolved one is the global default 20, it becomes
 *     20 + prompt, capped at `max_position_embeddings` ("20 new tokens by default");
 *   - `min_new_tokens`, when set, overrides `min_length` with `min_new_tokens + prompt`.
 *
 * Options that change what HF would generate but that this engine does not implement (sampling, group
 * beam search, constraints, bad words...) are rejected rather than silently ignored.
 */

export type EarlyStopping = boolean | "never";

/** The generation options we understand, in camelCase; each maps to the HF field in `HF_FIELD_NAMES`. */
export interface GenerationOptions {
  maxLength?: number | null;
  maxNewTokens?: number | null;
  minLength?: number | null;
  minNewTokens?: number | null;
  numBeams?: number | null;
  lengthPenalty?: number | null;
  earlyStopping?: EarlyStopping | null;
  numReturnSequences?: number | null;
  noRepeatNgramSize?: number | null;
  repetitionPenalty?: number | null;
  forcedBosTokenId?: number | null;
  forcedEosTokenId?: number | readonly number[] | null;
  suppressTokens?: readonly number[] | null;
  beginSuppressTokens?: readonly number[] | null;
  bosTokenId?: number | null;
  eosTokenId?: number | readonly number[] | null;
  padTokenId?: number | null;
  decoderStartTokenId?: number | null;
  doSample?: boolean | null;
  numBeamGroups?: number | null;
  /** Accepted for compatibility and ignored: with or without a cache HF generates the same tokens. */
  useCache?: boolean | null;
}

/** `GenerationConfig().max_length`; also the value HF treats as "no max length chosen". */
const HF_DEFAULT_MAX_LENGTH = 20;

/** `GenerationConfig()` defaults for the fields above. */
export const DEFAULT_GENERATION_OPTIONS: Readonly<Required<GenerationOptions>> = Object.freeze({
  maxLength: HF_DEFAULT_MAX_LENGTH,
  maxNewTokens: null,
  minLength: 0,
  minNewTokens: null,
  numBeams: 1,
  lengthPenalty: 1.0,
  earlyStopping: false,
  numReturnSequences: 1,
  noRepeatNgramSize: 0,
  repetitionPenalty: 1.0,
  forcedBosTokenId: null,
  forcedEosTokenId: null,
  suppressTokens: null,
  beginSuppressTokens: null,
  bosTokenId: null,
  eosTokenId: null,
  padTokenId: null,
  decoderStartTokenId: null,
  doSample: false,
  numBeamGroups: 1,
  useCache: true,
});

export const HF_FIELD_NAMES: Readonly<Record<keyof GenerationOptions, string>> = Object.freeze({
  maxLength: "max_length",
  maxNewTokens: "max_new_tokens",
  minLength: "min_length",
  minNewTokens: "min_new_tokens",
  numBeams: "num_beams",
  lengthPenalty: "length_penalty",
  earlyStopping: "early_stopping",
  numReturnSequences: "num_return_sequences",
  noRepeatNgramSize: "no_repeat_ngram_size",
  repetitionPenalty: "repetition_penalty",
  forcedBosTokenId: "forced_bos_token_id",
  forcedEosTokenId: "forced_eos_token_id",
  suppressTokens: "suppress_tokens",
  beginSuppressTokens: "begin_suppress_tokens",
  bosTokenId: "bos_token_id",
  eosTokenId: "eos_token_id",
  padTokenId: "pad_token_id",
  decoderStartTokenId: "decoder_start_token_id",
  doSample: "do_sample",
  numBeamGroups: "num_beam_groups",
  useCache: "use_cache",
});

/**
 * HF generation fields that alter the output and that we do not implement, with the value that makes
 * them inert. A model file or call that sets one to anything else is refused.
 */
const UNSUPPORTED_FIELDS: Readonly<Record<string, unknown>> = Object.freeze({
  encoder_repetition_penalty: 1.0,
  encoder_no_repeat_ngram_size: 0,
  bad_words_ids: null,
  sequence_bias: null,
  exponential_decay_length_penalty: null,
  renormalize_logits: false,
  remove_invalid_values: false,
  constraints: null,
  force_words_ids: null,
  guidance_scale: null,
  dola_layers: null,
  prompt_lookup_num_tokens: null,
  diversity_penalty: 0.0,
  stop_strings: null,
  max_time: null,
  low_memory: null,
  token_healing: false,
});

export class UnsupportedGenerationOptionError extends Error {
  constructor(readonly field: string, value: unknown) {
    super(`generation option ${field}=${JSON.stringify(value)} is not supported by this engine`);
    this.name = "UnsupportedGenerationOptionError";
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Reads HF's snake_case generation fields from a parsed `generation_config.json` or `config.json`.
 * Unknown fields are ignored (config.json carries architecture fields too); fields that would change the
 * output in ways we do not implement throw `UnsupportedGenerationOptionError`.
 * `penalty_alpha` with `top_k > 1` (contrastive search) is also refused.
 */
export function generationOptionsFromHfJson(json: Readonly<Record<string, unknown>>): GenerationOptions {
  const options: Record<string, unknown> = {};
  for (const [camel, snake] of Object.entries(HF_FIELD_NAMES)) {
    if (Object.hasOwn(json, snake)) options[camel] = json[snake] ?? null;
  }
  for (const [field, inert] of Object.entries(UNSUPPORTED_FIELDS)) {
    if (Object.hasOwn(json, field) && json[field] != null && !sameValue(json[field], inert)) {
      throw new UnsupportedGenerationOptionError(field, json[field]);
    }
  }
  const penaltyAlpha = json["penalty_alpha"];
  const topK = json["top_k"];
  if (typeof penaltyAlpha === "number" && penaltyAlpha > 0 && typeof topK === "number" && topK > 1) {
    throw new UnsupportedGenerationOptionError("penalty_alpha", penaltyAlpha);
  }
  return options as GenerationOptions;
}

/** Everything the search loops need, with every default and derived value settled. */
export interface ResolvedGenerationConfig {
  /** Total decoder length, decoder prompt included. */
  maxLength: number;
  /** Minimum total decoder length before eos may be chosen (HF `min_length`, prompt included). */
  minLength: number;
  /** Set only when the caller or model asked for `min_new_tokens`. */
  minNewTokens: number | null;
  numBeams: number;
  lengthPenalty: number;
  earlyStopping: EarlyStopping;
  numReturnSequences: number;
  noRepeatNgramSize: number;
  repetitionPenalty: number;
  forcedBosTokenId: number | null;
  forcedEosTokenIds: readonly number[] | null;
  suppressTokens: readonly number[] | null;
  beginSuppressTokens: readonly number[] | null;
  /** Empty when the model has no eos token (generation then only stops at max length). */
  eosTokenIds: readonly number[];
  padTokenId: number | null;
  decoderStartTokenId: number;
  /** Length of the decoder prompt every row starts from (1: the decoder start token). */
  decoderPromptLength: number;
  /**
   * What beam search writes after a finished hypothesis's last token (HF:
   * `pad_token_id or eos_token_id[0] if eos_token_id is not None else -1`; a pad id of 0 counts as unset).
   */
  beamFillTokenId: number;
}

export interface ResolveContext {
  /** The model's defaults (see precedence above); `{}` when it has none. */
  modelDefaults?: GenerationOptions;
  /** `max_position_embeddings` of the model config, caps the default max length. */
  maxPositionEmbeddings?: number;
  /** Decoder prompt length; 1 (decoder start token) unless the caller seeds the decoder. */
  decoderPromptLength?: number;
}

function isSet<T>(value: T | null | undefined): value is T {
  return value !== null && value !== undefined;
}

function toIdList(value: number | readonly number[] | null | undefined): number[] | null {
  if (!isSet(value)) return null;
  return typeof value === "number" ? [value] : [...value];
}

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
}

/** Applies the precedence and derivations described at the top of this file. */
export function resolveGenerationConfig(
  callOptions: GenerationOptions = {},
  context: ResolveContext = {},
): ResolvedGenerationConfig {
  const merged: Record<string, unknown> = { ...DEFAULT_GENERATION_OPTIONS };
  for (const layer of [context.modelDefaults ?? {}, callOptions]) {
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) merged[key] = value;
    }
  }
  const o = merged as Required<GenerationOptions>;
  const promptLength = context.decoderPromptLength ?? 1;

  if (o.doSample === true) throw new UnsupportedGenerationOptionError("do_sample", true);
  if (isSet(o.numBeamGroups) && o.numBeamGroups > 1) {
    throw new UnsupportedGenerationOptionError("num_beam_groups", o.numBeamGroups);
  }
  if (o.earlyStopping !== true && o.earlyStopping !== false && o.earlyStopping !== "never") {
    throw new RangeError(`early_stopping must be true, false or "never", got ${String(o.earlyStopping)}`);
  }
  const numBeams = o.numBeams ?? 1;
  requireInteger("num_beams", numBeams, 1);
  const numReturnSequences = o.numReturnSequences ?? 1;
  requireInteger("num_return_sequences", numReturnSequences, 1);
  if (numReturnSequences !== 1 && numBeams === 1) {
    throw new RangeError(
      `greedy search does not support num_return_sequences different than 1 (got ${numReturnSequences})`,
    );
  }
  if (numReturnSequences > numBeams) {
    throw new RangeError(`num_return_sequences (${numReturnSequences}) has to be <= num_beams (${numBeams})`);
  }

  const eosTokenIds = toIdList(o.eosTokenId) ?? [];
  const padTokenId = isSet(o.padTokenId) ? o.padTokenId : (eosTokenIds[0] ?? null);
  const decoderStartTokenId = isSet(o.decoderStartTokenId) ? o.decoderStartTokenId : o.bosTokenId;
  if (!isSet(decoderStartTokenId)) {
    throw new RangeError("decoder_start_token_id or bos_token_id has to be defined for encoder-decoder generation");
  }

  let maxLength: number = o.maxLength ?? HF_DEFAULT_MAX_LENGTH;
  if (isSet(o.maxNewTokens)) {
    requireInteger("max_new_tokens", o.maxNewTokens, 1);
    maxLength = o.maxNewTokens + promptLength;
  } else if (!isSet(callOptions.maxLength) && maxLength === HF_DEFAULT_MAX_LENGTH) {
    maxLength = maxLength + promptLength;
    if (isSet(context.maxPositionEmbeddings)) maxLength = Math.min(maxLength, context.maxPositionEmbeddings);
  }
  requireInteger("max_length", maxLength, 1);
  if (promptLength >= maxLength) {
    throw new RangeError(
      `decoder prompt length is ${promptLength}, but max_length is ${maxLength}; increase max_length or set max_new_tokens`,
    );
  }

  let minLength = o.minLength ?? 0;
  const minNewTokens = isSet(o.minNewTokens) ? o.minNewTokens : null;
  if (minNewTokens !== null) {
    requireInteger("min_new_tokens", minNewTokens, 0);
    minLength = minNewTokens + promptLength;
  }
  requireInteger("min_length", minLength, 0);

  const noRepeatNgramSize = o.noRepeatNgramSize ?? 0;
  requireInteger("no_repeat_ngram_size", noRepeatNgramSize, 0);
  const repetitionPenalty = o.repetitionPenalty ?? 1.0;
  if (!(repetitionPenalty > 0)) throw new RangeError(`repetition_penalty must be > 0, got ${repetitionPenalty}`);

  const forcedEosTokenIds = toIdList(o.forcedEosTokenId);
  if (forcedEosTokenIds?.some((id) => !Number.isInteger(id) || id < 0)) {
    throw new RangeError(`forced_eos_token_id has to be a list of non-negative integers`);
  }

  return {
    maxLength,
    minLength,
    minNewTokens,
    numBeams,
    lengthPenalty: o.lengthPenalty ?? 1.0,
    earlyStopping: o.earlyStopping ?? false,
    numReturnSequences,
    noRepeatNgramSize,
    repetitionPenalty,
    forcedBosTokenId: o.forcedBosTokenId ?? null,
    forcedEosTokenIds,
    suppressTokens: o.suppressTokens ? [...o.suppressTokens] : null,
    beginSuppressTokens: o.beginSuppressTokens ? [...o.beginSuppressTokens] : null,
    eosTokenIds,
    padTokenId,
    decoderStartTokenId,
    decoderPromptLength: promptLength,
    beamFillTokenId: eosTokenIds.length > 0 ? (padTokenId ? padTokenId : eosTokenIds[0]!) : -1,
  };
}
