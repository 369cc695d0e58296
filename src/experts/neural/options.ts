import { MODEL_DTYPES, type ModelDtype } from "../../models/model-files.js";
import { DEFAULT_SENTIMENT_MODEL, DEFAULT_SUMMARIZER_MODEL } from "../../models/model-store.js";

export const NEURAL_SUMMARIZER_NAME = "NewsSummarizationLLMExpert";
export const NEURAL_SENTIMENT_NAME = "SentimentAnalysisLLMExpert";

/** Articles longer than the summariser's window: summarise every window (map-reduce), or the first. The first is the default. */
export const LONG_ARTICLE_STRATEGIES = ["chunk", "truncate"] as const;
export type LongArticleStrategy = (typeof LONG_ARTICLE_STRATEGIES)[number];

/** The tutorial's call: `summarizer(content, max_length=300, min_length=30, do_sample=False)`. */
export const TUTORIAL_MAX_LENGTH = 300;
export const TUTORIAL_MIN_LENGTH = 30;

/**
 * NEUTRAL below this top probability. Why 0.75: an SST-2 model is binary and over-confident (it
 * puts > 0.95 on one class for most single sentences, neutral news copy included), so its raw
 * confidence is not a neutrality signal on one window; what is, is disagreement. The article's
 * probabilities are the token-weighted mean over its windows, so a top probability under 0.75 means
 * the model itself was unsure (logit margin under ln 3 ≈ 1.1) or that at least a quarter of the
 * article's text leaned the other way. Below that, calling the article POSITIVE or NEGATIVE
 * overstates what the model said. Configurable (`--neutral-threshold`); 0.5 disables NEUTRAL.
 */
export const DEFAULT_NEUTRAL_THRESHOLD = 0.75;

/**
 * Decoder state the summariser may hold (see `summaryMemoryMib`): the running batch's articles together
 * with continuous batching (the default), one generate call's with static batching.
 *
 * Continuous batching counts what an article holds: its cross-attention keys/values (48 KiB per source
 * token for distilbart-cnn), the padding its group of articles stores beside them (a group is as wide as
 * its longest article), and a self-attention allowance of one shared history to the length limit plus 32
 * positions a beam. 512 MiB admits ~10-13 of the bench's realistic articles at once. Measured on 24 of
 * them, both neural experts, fp32 (AMD EPYC, AVX2, 2 cores; two alternating pairs, machine not idle):
 * 512 MiB took 69.6 / 71.5 s and peaked at 2090 / 2061 MB; 1 GiB took 78.1 / 67.8 s and peaked at
 * 2350 / 2348 MB. More state bought no speed: the decoder's per-row cost is flat beyond ~40 rows, and
 * articles that wait are encoded as soon as a place frees.
 *
 * Static batching counts every article at the upper bound (~60 MiB of self-attention cache at 300
 * tokens and 4 beams), and a call lasts as long as its longest summary, so wider calls are faster there:
 * on the worst-case bench's ten articles 512 MiB made two calls (81 s fp32, 50 s int8) where 1 GiB makes
 * one (67-76 s fp32, peak 1620-1667 MB). `--batching static` users with memory to spare raise it.
 */
export const DEFAULT_SUMMARY_STATE_MIB = 512;

/** `summaryMemoryMib` in bytes: the one conversion, for the running batch and the static calls alike. */
export function summaryStateBytes(summaryMemoryMib: number): number {
  return summaryMemoryMib * 2 ** 20;
}

export interface NeuralGenerationOverrides {
  /** Summary length limit in tokens, decoder start token included (HF `max_length`). Default 300. */
  maxLength?: number;
  /** Minimum summary length in tokens (HF `min_length`). Default 30. */
  minLength?: number;
  /** Beam width; default the model's generation config (4 for distilbart-cnn). */
  numBeams?: number;
}

/** What both neural experts need to get and run a model. */
export interface NeuralModelOptions {
  dtype: ModelDtype;
  /** Never touch the network; the models must be on disk or in the cache. */
  offline: boolean;
  /**
   * How the front end names the switch that set `offline` ("--offline" for the CLI), for messages
   * about a model that offline mode kept from being downloaded. Default: "offline option".
   */
  offlineLabel?: string;
  /** Model cache root instead of the Hugging Face default. */
  cacheDir?: string;
  /** Intra-op threads per ONNX session; default all cores. */
  threads?: number;
  /**
   * Padded tokens (rows × longest row) per ONNX run; sub-batches are cut to fit. Bounds memory and
   * keeps one very long article from padding many short ones. Defaults: see each expert.
   */
  tokenBudget?: number;
}

export interface NeuralSummarizerOptions extends NeuralModelOptions {
  /** Hub id (`owner/name[@revision]`) or local directory in the transformers.js ONNX layout. */
  summarizerModel: string;
  /** Articles longer than the summariser's window: summarise every window (map-reduce) or the first. */
  long: LongArticleStrategy;
  generation: NeuralGenerationOverrides;
  /** One-line notices while loading (decoder compilation, fallback to the published graphs); default stderr. */
  onNotice?: (message: string) => void;
  /** Summariser decoder: "auto" (compiled, else published), or force one. */
  decoderEngine?: "auto" | "compiled" | "published";
  /**
   * Decoder state one generate call may hold, in MiB: every beam's self-attention cache at the
   * summary limit plus each article's cross-attention keys/values. Sub-batches take as many articles
   * as fit (at least one). The largest part of the summariser's working memory; more articles per
   * call are faster per article. On the compiled decoder two length batches (say, long articles and
   * short ones) that fit together share one call, each padded only to its own longest source.
   * Default DEFAULT_SUMMARY_STATE_MIB (512). The CLI's `--summary-memory`; converted to bytes once,
   * in the expert (`summaryStateBytes`).
   */
  summaryMemoryMib?: number;
  /** @deprecated The old name of `summaryMemoryMib`; read only when that is absent. */
  stateMemoryMib?: number;
  /**
   * "continuous" (default): articles join the running decoder batch at any step and leave when their
   * summary is done; "static": generate calls that run until their longest summary ends.
   */
  batching: SummaryBatching;
}

/** The summariser's decoder batching; the first is the default. */
export const SUMMARY_BATCHING_MODES = ["continuous", "static"] as const;
export type SummaryBatching = (typeof SUMMARY_BATCHING_MODES)[number];

export interface NeuralSentimentOptions extends NeuralModelOptions {
  /** Hub id (`owner/name[@revision]`) or local directory in the transformers.js ONNX layout. */
  sentimentModel: string;
  /** NEUTRAL when the top class probability is below this (see DEFAULT_NEUTRAL_THRESHOLD). */
  neutralThreshold: number;
}

function resolveModelOptions(options: Partial<NeuralModelOptions>, expert: string): NeuralModelOptions {
  const resolved: NeuralModelOptions = {
    dtype: options.dtype ?? MODEL_DTYPES[0],
    offline: options.offline ?? false,
    ...(options.offlineLabel !== undefined ? { offlineLabel: options.offlineLabel } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.tokenBudget !== undefined ? { tokenBudget: options.tokenBudget } : {}),
  };
  if (!MODEL_DTYPES.includes(resolved.dtype)) {
    throw new RangeError(`${expert}: dtype must be ${MODEL_DTYPES.join(" or ")}, got ${String(resolved.dtype)}`);
  }
  positiveInteger(expert, "threads", resolved.threads);
  positiveInteger(expert, "tokenBudget", resolved.tokenBudget);
  return resolved;
}

function positiveInteger(expert: string, name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw new RangeError(`${expert}: ${name} must be a positive integer, got ${value}`);
  }
}

/** The summariser's options with every default applied. */
export type ResolvedSummarizerOptions = NeuralSummarizerOptions & { summaryMemoryMib: number };

export function resolveSummarizerOptions(options: Partial<NeuralSummarizerOptions>): ResolvedSummarizerOptions {
  const resolved: ResolvedSummarizerOptions = {
    ...resolveModelOptions(options, NEURAL_SUMMARIZER_NAME),
    summarizerModel: options.summarizerModel ?? DEFAULT_SUMMARIZER_MODEL,
    long: options.long ?? LONG_ARTICLE_STRATEGIES[0],
    batching: options.batching ?? SUMMARY_BATCHING_MODES[0],
    generation: {
      maxLength: options.generation?.maxLength ?? TUTORIAL_MAX_LENGTH,
      minLength: options.generation?.minLength ?? TUTORIAL_MIN_LENGTH,
      ...(options.generation?.numBeams !== undefined ? { numBeams: options.generation.numBeams } : {}),
    },
    ...(options.onNotice !== undefined ? { onNotice: options.onNotice } : {}),
    ...(options.decoderEngine !== undefined ? { decoderEngine: options.decoderEngine } : {}),
    summaryMemoryMib: options.summaryMemoryMib ?? options.stateMemoryMib ?? DEFAULT_SUMMARY_STATE_MIB,
  };
  positiveInteger(NEURAL_SUMMARIZER_NAME, "summaryMemoryMib", resolved.summaryMemoryMib);
  if (!SUMMARY_BATCHING_MODES.includes(resolved.batching)) {
    throw new RangeError(`${NEURAL_SUMMARIZER_NAME}: batching must be ${SUMMARY_BATCHING_MODES.join(" or ")}, got ${String(resolved.batching)}`);
  }
  if (!LONG_ARTICLE_STRATEGIES.includes(resolved.long)) {
    throw new RangeError(`${NEURAL_SUMMARIZER_NAME}: long must be ${LONG_ARTICLE_STRATEGIES.join(" or ")}, got ${String(resolved.long)}`);
  }
  positiveInteger(NEURAL_SUMMARIZER_NAME, "generation.maxLength", resolved.generation.maxLength);
  positiveInteger(NEURAL_SUMMARIZER_NAME, "generation.numBeams", resolved.generation.numBeams);
  const minLength = resolved.generation.minLength;
  if (minLength !== undefined && !(Number.isInteger(minLength) && minLength >= 0)) {
    throw new RangeError(`${NEURAL_SUMMARIZER_NAME}: generation.minLength must be a non-negative integer, got ${minLength}`);
  }
  return resolved;
}

export function resolveSentimentOptions(options: Partial<NeuralSentimentOptions>): NeuralSentimentOptions {
  const resolved: NeuralSentimentOptions = {
    ...resolveModelOptions(options, NEURAL_SENTIMENT_NAME),
    sentimentModel: options.sentimentModel ?? DEFAULT_SENTIMENT_MODEL,
    neutralThreshold: options.neutralThreshold ?? DEFAULT_NEUTRAL_THRESHOLD,
  };
  if (!(resolved.neutralThreshold >= 0 && resolved.neutralThreshold <= 1)) {
    throw new RangeError(`${NEURAL_SENTIMENT_NAME}: neutralThreshold must be in [0, 1], got ${resolved.neutralThreshold}`);
  }
  return resolved;
}
