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
 * impression would. (VADER's own demo for long texts takes the plain mean of sentence compounds.)
 * The tutorial scored only the first 2,000 characters; here every sentence counts.
 *
 * Why negative sentences count twice (`negativeWeight`, default 2): a news report's bad news is
 * its news. A doping scandal is told with "won four stages last year", "our message is clear",
 * "ending their agreements" (VADER reads "agreements" as praise) around it, and an equal-weight mean
 * left it barely negative. Counting negative sentences twice, and a NEUTRAL band of ±0.20 instead of
 * VADER's ±0.05, were chosen together on team-written text (scripts/calibrate-sentiment.mjs; see
 * NEWS_NEUTRAL_BAND); a single sentence is scored exactly as VADER does, only the band differs.
 *
 * News adaptations of the lexicon (vader.ts): institution and topic words ("party", "United",
 * "interest rates"), "tested positive", and in sport items sport vocabulary ("attacker", "penalty",
 * "defending champion", "a top prize", "best of nine frames") are read as neutral.
 */
import type { Expert, ExpertContext, SentimentOutput } from "../../core/expert.js";
import type { NewsItem } from "../../core/news-item.js";
import { splitSentences } from "../../text/sentences.js";
import { decideSentiment, DEFAULT_SHARPNESS, NEWS_NEUTRAL_BAND } from "./sentiment-probabilities.js";
import { analyzeEach } from "./item-errors.js";
import { isSportItem } from "./sport-context.js";
import { scoreSentence, vaderLexicon } from "./vader.js";
import { WorkerPlacement, type EmbeddedWorkerPool, type PoolExpert } from "./worker-pool.js";

export const LEXICON_SENTIMENT_NAME = "LexiconSentimentExpert";

/** How a worker thread of the embedded pool builds this expert (worker-pool.ts). */
export const LEXICON_SENTIMENT_ON_POOL: PoolExpert = { module: "./lexicon-sentiment.js", exportName: "LexiconSentimentExpert" };

export const NEGATIVE_SENTENCE_WEIGHT = 2;

export interface LexiconSentimentOptions {
  /** Half-width of the NEUTRAL band around compound 0. Default NEWS_NEUTRAL_BAND (0.20); VADER's convention is 0.05. */
  neutralBand?: number;
  /** Steepness of the compound → probability mapping (see sentiment-probabilities.ts). Default 3. */
  sharpness?: number;
  /**
   * Read sport vocabulary ("attacker", "penalty", "strike") as neutral: "auto" for items whose URL,
   * topics or keyword say sport (default), "always", or "never".
   */
  sportTerms?: "auto" | "always" | "never";
  /** How much more a negative sentence counts than a positive one of the same length (≥ 1). Default NEGATIVE_SENTENCE_WEIGHT. */
  negativeWeight?: number;
  /**
   * Worker threads: true (default) for the process-wide pool (see worker-pool.ts), false to run
   * on the calling thread, or a pool of your own.
   */
  workers?: boolean | EmbeddedWorkerPool;
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
  readonly requires = "nothing: embedded (VADER lexicon in data/vader)";
  readonly maxBatchSize = 64;
  readonly languages = ["eng"] as const;

  private readonly band: number;
  private readonly sharpness: number;
  private readonly sportTerms: "auto" | "always" | "never";
  private readonly negativeWeight: number;
  /** Worker threads or the calling thread, with the options a worker builds the same expert from. */
  private readonly placement: WorkerPlacement<LexiconSentimentOptions>;

  constructor(options: LexiconSentimentOptions = {}) {
    this.placement = new WorkerPlacement(LEXICON_SENTIMENT_ON_POOL, options);
    this.band = options.neutralBand ?? NEWS_NEUTRAL_BAND;
    this.sharpness = options.sharpness ?? DEFAULT_SHARPNESS;
    this.sportTerms = options.sportTerms ?? "auto";
    this.negativeWeight = options.negativeWeight ?? NEGATIVE_SENTENCE_WEIGHT;
    if (!(this.negativeWeight >= 1 && Number.isFinite(this.negativeWeight))) {
      throw new RangeError(`${this.name}: negativeWeight must be a number of at least 1, got ${this.negativeWeight}`);
    }
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

  /** Reads the lexicon (data/vader, shipped with the package), so a broken install fails here, once. */
  async load(): Promise<void> {
    vaderLexicon();
  }

  analyze(items: readonly NewsItem[], context: ExpertContext): Promise<Array<LexiconSentimentOutput | Error>> {
    return this.placement.analyze(items, context.signal, (own) => this.analyzeInline(own, context.signal));
  }

  /** The batch on the calling thread (what each worker runs on its chunk). */
  analyzeInline(items: readonly NewsItem[], signal?: AbortSignal): Array<LexiconSentimentOutput | Error> {
    return analyzeEach(items, signal, (item) => this.analyzeOne(item));
  }

  /** Scores one text; exposed for callers that have text rather than a NewsItem. */
  scoreText(text: string, maskSportTerms = false): LexiconSentimentOutput {
    let weightedSum = 0;
    let totalWeight = 0;
    let scored = 0;
    for (const sentence of splitSentences(text)) {
      // Weight = tokens as VADER sees them (whitespace-separated), a cheap and faithful word count.
      const weight = countTokens(sentence.text);
      if (weight === 0) continue;
      const { compound } = scoreSentence(sentence.text, { maskSportTerms, maskNewsTerms: true });
      const w = compound < 0 ? this.negativeWeight * weight : weight;
      weightedSum += w * compound;
      totalWeight += w;
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

/** Whitespace-separated tokens, counted without building an array. */
function countTokens(text: string): number {
  let count = 0;
  let inToken = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const space = code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0x2028 || code === 0x2029;
    if (!space && !inToken) count++;
    inToken = !space;
  }
  return count;
}
