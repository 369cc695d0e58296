/**
 * The tutorial's two neural experts on ONNX ports of its models: distilbart-cnn-6-6 summaries and
 * DistilBERT SST-2 sentiment. Constructing them loads nothing; `load()` resolves (and if allowed
 * downloads) the models and opens the sessions, and when it cannot, throws ExpertUnavailableError
 * so the router falls back to the embedded experts.
 */
export {
  NEURAL_SENTIMENT_NAME,
  NEURAL_SUMMARIZER_NAME,
  DEFAULT_NEUTRAL_THRESHOLD,
  TUTORIAL_MAX_LENGTH,
  TUTORIAL_MIN_LENGTH,
  DEFAULT_SUMMARY_STATE_MIB,
  LONG_ARTICLE_STRATEGIES,
  SUMMARY_BATCHING_MODES,
  resolveSentimentOptions,
  resolveSummarizerOptions,
  summaryStateBytes,
} from "./options.js";
export type {
  NeuralModelOptions,
  NeuralSentimentOptions,
  NeuralSummarizerOptions,
  NeuralGenerationOverrides,
  LongArticleStrategy,
} from "./options.js";
export { NeuralSummarizerExpert, MAX_REDUCE_LEVELS, DEFAULT_SUMMARY_TOKEN_BUDGET } from "./neural-summarizer-expert.js";
export type { NeuralSummaryOutput, LongArticleReport } from "./neural-summarizer-expert.js";
export { NeuralSentimentExpert, DEFAULT_SENTIMENT_TOKEN_BUDGET } from "./neural-sentiment-expert.js";
export type { NeuralSentimentOutput } from "./neural-sentiment-expert.js";
export type { EncoderPlan, EncoderWindow } from "./summary-windows.js";
