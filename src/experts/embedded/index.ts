/**
 * The experts that need no model download: they run anywhere, offline, in milliseconds, and stand in
 * for the neural experts when those are unavailable.
 */
import { ExtractiveSummarizerExpert, type ExtractiveSummarizerOptions } from "./extractive-summarizer.js";
import { LexiconSentimentExpert, type LexiconSentimentOptions } from "./lexicon-sentiment.js";

export { ExtractiveSummarizerExpert, EXTRACTIVE_SUMMARIZER_NAME, hasBalancedQuotes, hasDanglingPronoun } from "./extractive-summarizer.js";
export type { ExtractiveSummarizerOptions, ExtractiveSummaryOutput } from "./extractive-summarizer.js";
export { LexiconSentimentExpert, LEXICON_SENTIMENT_NAME } from "./lexicon-sentiment.js";
export type { LexiconSentimentOptions, LexiconSentimentOutput } from "./lexicon-sentiment.js";
export { decideSentiment, labelForCompound, DEFAULT_NEUTRAL_BAND, DEFAULT_SHARPNESS } from "./sentiment-probabilities.js";
export type { SentimentDecision } from "./sentiment-probabilities.js";
export { scoreSentence, asciiQuotes, vaderLexicon, SPORT_NEUTRAL_TERMS, NEWS_NEUTRAL_TERMS } from "./vader.js";
export type { SentenceScore, ScoreOptions } from "./vader.js";
export { isSportItem } from "./sport-context.js";

export interface EmbeddedExpertsOptions {
  summarizer?: ExtractiveSummarizerOptions;
  sentiment?: LexiconSentimentOptions;
}

/** Both embedded experts, summariser first. */
export function createEmbeddedExperts(
  options: EmbeddedExpertsOptions = {},
): [ExtractiveSummarizerExpert, LexiconSentimentExpert] {
  return [new ExtractiveSummarizerExpert(options.summarizer), new LexiconSentimentExpert(options.sentiment)];
}
