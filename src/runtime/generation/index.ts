/**
 * Hugging Face-faithful generation for encoder-decoder models: same tokens as transformers' Python
 * `generate()` (4.57) on the same weights. See `generate.ts` for the entry point and `beam-search.ts`
 * for the algorithm.
 */
export { generate, buildEncoderBatch, resolveForModel } from "./generate.js";
export type { GenerateInput, GenerateControls, GenerationDefaultsSource, GenerationResult } from "./generate.js";
export {
  resolveGenerationConfig,
  generationOptionsFromHfJson,
  DEFAULT_GENERATION_OPTIONS,
  HF_FIELD_NAMES,
  UnsupportedGenerationOptionError,
} from "./generation-config.js";
export type {
  EarlyStopping,
  GenerationOptions,
  ResolvedGenerationConfig,
  ResolveContext,
} from "./generation-config.js";
export {
  buildLogitsProcessors,
  applyLogitsProcessors,
  RepetitionPenaltyProcessor,
  NoRepeatNGramProcessor,
  MinLengthProcessor,
  MinNewTokensProcessor,
  ForcedBosProcessor,
  ForcedEosProcessor,
  SuppressTokensProcessor,
  SuppressTokensAtBeginProcessor,
} from "./logits-processors.js";
export type { LogitsProcessor, TokenRows } from "./logits-processors.js";
export { beamSearch } from "./beam-search.js";
export type { SearchOptions, SearchResult, SearchStats } from "./beam-search.js";
export { greedySearch } from "./greedy-search.js";
export { isIdentityRowSelection, supportsTopK } from "./seq2seq-model.js";
export type { Seq2SeqModel, DecoderState, TokenBatch, TopKSeq2SeqModel, TopKStep } from "./seq2seq-model.js";
export { topk, topkOfRowSums, argmax } from "./torch-topk.js";
export type { TopK } from "./torch-topk.js";
export { logSoftmaxRow } from "./log-softmax.js";
