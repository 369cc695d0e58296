import { parseRulesConfig, type RulesConfig } from "./rules-config.js";

/**
 * The `auto` router's built-in policy over the given priors (the catalogue's: the neural experts
 * are preferred when they can load, prior 1 vs 0; the embedded ones stand in otherwise, through
 * the gate's fallback), with the rules below.
 */
export function builtInRules(priors: Readonly<Record<string, number>>): RulesConfig {
  return parseRulesConfig(
    {
      description: "news-moe built-in routing policy",
      priors,
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
}
