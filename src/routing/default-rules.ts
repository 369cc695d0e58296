import { parseRulesConfig, type RulesConfig } from "./rules-config.js";

/**
 * The `auto` router's built-in policy. Neural experts are preferred when they can load (prior 1 vs
 * 0); the embedded ones stand in otherwise, through the gate's fallback.
 */
export const DEFAULT_RULES: RulesConfig = parseRulesConfig(
  {
    description: "news-moe built-in routing policy",
    priors: {
      NewsSummarizationLLMExpert: 1,
      SentimentAnalysisLLMExpert: 1,
    },
    rules: [
      {
        name: "brief-article",
        description:
          "A brief of a few sentences is its own summary: an abstractive model with a 30-token minimum " +
          "would pad it, so the extractive expert takes it.",
        when: { words: { lt: 60 } },
        then: { boost: { ExtractiveSummarizerExpert: 2 } },
      },
    ],
  },
  "built-in rules",
);
