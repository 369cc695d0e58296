/**
 * Sentiment of a whole article with VADER, no model download.
 *
 * Why per sentence and then aggregated, instead of VADER on the whole text: VADER is built and
 * validated on sentence-sized text. On a whole article its compound (sum / √(sum² + 15)) saturates
 * after a handful of sentiment words, so every long article lands near ±1 from length alone, and its
 * "but" rule would halve every word before the article's first "but".
 *
 * Why a word-weighted mean of sentence compounds: each word of the article gets the same say, so a
 * one-line caption or a two-word quote fragment cannot outweigh a long paragraph, and the neutral,
 * factual sentences that make up most news copy pull the score towards neutral as a reader's overall
 * impression would. (VADER's own demo for long texts takes the plain mean of sentence compounds;
 * weighting by length differs only in not letting short fragments count as much as full sentences.)
 * The tutorial scored only the first 2,000 characters; here every sentence counts.
 */
import type { Expert, ExpertContext, SentimentOutput } from "../../core/expert.js";
import type { NewsItem } from "../../core/news-item.js";
import { splitSentences } from "../../text/sentences.js";
import { decideSentiment, DEFAULT_NEUTRAL_BAND, DEFAULT_SHARPNESS } from "./sentiment-probabilities.js";
import { emptyContentError, isBlank, itemFailure } from "./item-errors.js";
import { isSportItem } from "./sport-context.js";
import { scoreSentence } from "./vader.js";

export const LEXICON_SENTIMENT_NAME = "LexiconSentimentExpert";

export interface LexiconSentimentOptions {
  /** Half-width of the NEUTRAL band around compound 0. Default 0.05, the VADER convention. */
  neutralBand?: number;
  /** Steepness of the compound → probability mapping (see sentiment-probabilities.ts). Default 3. */
  sharpness?: number;
  /**
   * Read sport vocabulary ("attacker", "penalty", "strike") as neutral: "auto" for items whose URL,
   * topics or keyword say sport (default), "always", or "never".
   */
  sportTerms?: "auto" | "always" | "never";
}

export interface LexiconSentimentOutput extends SentimentOutput {
  /** Word-weighted mean of the sentence compounds, in [-1, 1]. */
  compound: number;
  /** Sentences scored (the whole article). */
  sentences: number;
  /** Whether sport terms were neutralised for this item. */
  sport_terms_neutral: boolean;
}

export class LexiconSentimentExpert implements Expert<LexiconSentimentOutput> {
  readonly name = LEXICON_SENTIMENT_NAME;
  readonly task = "sentiment";
  readonly description = "VADER lexicon and rules, scored sentence by sentence over the whole article";
  readonly requires = "nothing: embedded (VADER lexicon from the vader-sentiment package)";
  readonly maxBatchSize = 64;
  readonly languages = ["eng"] as const;

  private readonly band: number;
  private readonly sharpness: number;
  private readonly sportTerms: "auto" | "always" | "never";

  constructor(options: LexiconSentimentOptions = {}) {
    this.band = options.neutralBand ?? DEFAULT_NEUTRAL_BAND;
    this.sharpness = options.sharpness ?? DEFAULT_SHARPNESS;
    this.sportTerms = options.sportTerms ?? "auto";
    if (!(this.band >= 0 && this.band < 1)) {
      throw new RangeError(`${this.name}: neutralBand must be in [0, 1), got ${this.band}`);
    }
    if (!(this.sharpness > 0 && Number.isFinite(this.sharpness))) {
      throw new RangeError(`${this.name}: sharpness must be a positive number, got ${this.sharpness}`);
    }
  }

  async probe(): Promise<{ available: true }> {
    return { available: true };
  }

  /** The lexicon is bundled with the package and loaded on import: nothing to do. */
  async load(): Promise<void> {}

  async analyze(items: readonly NewsItem[], context: ExpertContext): Promise<Array<LexiconSentimentOutput | Error>> {
    const results: Array<LexiconSentimentOutput | Error> = [];
    for (const item of items) {
      context.signal?.throwIfAborted();
      if (isBlank(item.content)) {
        results.push(emptyContentError(item));
        continue;
      }
      try {
        results.push(this.analyzeOne(item));
      } catch (error) {
        results.push(itemFailure(item, error));
      }
    }
    return results;
  }

  /** Scores one text; exposed for callers that have text rather than a NewsItem. */
  scoreText(text: string, maskSportTerms = false): LexiconSentimentOutput {
    let weightedSum = 0;
    let totalWeight = 0;
    let scored = 0;
    for (const sentence of splitSentences(text)) {
      // Weight = tokens as VADER sees them (whitespace-separated), a cheap and faithful word count.
      const weight = sentence.text.split(/\s+/).filter(Boolean).length;
      if (weight === 0) continue;
      const { compound } = scoreSentence(sentence.text, { maskSportTerms });
      weightedSum += weight * compound;
      totalWeight += weight;
      scored++;
    }
    const compound = totalWeight > 0 ? weightedSum / totalWeight : 0;
    const decision = decideSentiment(compound, this.band, this.sharpness);
    return {
      sentiment_label: decision.label,
      sentiment_score: decision.score,
      probabilities: decision.probabilities,
      compound,
      sentences: scored,
      sport_terms_neutral: maskSportTerms,
    };
  }

  private analyzeOne(item: NewsItem): LexiconSentimentOutput {
    const mask = this.sportTerms === "always" || (this.sportTerms === "auto" && isSportItem(item));
    return this.scoreText(item.content, mask);
  }
}
