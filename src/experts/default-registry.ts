import { ExpertRegistry } from "../core/registry.js";
import { ExtractiveSummarizerExpert, LexiconSentimentExpert } from "./embedded/index.js";
import {
  NEURAL_SENTIMENT_NAME,
  NEURAL_SUMMARIZER_NAME,
  NeuralSentimentExpert,
  NeuralSummarizerExpert,
  type NeuralSentimentOptions,
  type NeuralSummarizerOptions,
} from "./neural/index.js";

/** Options of the built-in experts, one object per expert that has any. */
export interface DefaultRegistryOptions {
  summarizer?: Partial<NeuralSummarizerOptions>;
  sentiment?: Partial<NeuralSentimentOptions>;
}

/** Names usable in `--experts` besides expert names and tasks. */
export const EXPERT_GROUPS: Readonly<Record<string, readonly string[]>> = {
  neural: [NEURAL_SUMMARIZER_NAME, NEURAL_SENTIMENT_NAME],
  embedded: ["ExtractiveSummarizerExpert", "LexiconSentimentExpert"],
};

/**
 * The built-in experts. Registration order is the fallback order within each task: the neural
 * expert first (the tutorial's models, best quality), then the embedded one that needs no download.
 * Constructing them loads nothing.
 */
export function createDefaultRegistry(options: DefaultRegistryOptions = {}): ExpertRegistry {
  return new ExpertRegistry()
    .register(new NeuralSummarizerExpert(options.summarizer ?? {}))
    .register(new ExtractiveSummarizerExpert())
    .register(new NeuralSentimentExpert(options.sentiment ?? {}))
    .register(new LexiconSentimentExpert());
}
