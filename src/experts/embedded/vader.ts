/**
 * Sentence-level VADER scores from the `vader-sentiment` package (a JavaScript port of Hutto &
 * Gilbert's VADER), with the input prepared so the port behaves like the reference Python VADER on
 * news copy. Reading the port's source against the reference showed three gaps that matter here:
 *
 * 1. Its negation, "never so", idiom and contrastive-"but" rules compare words case-sensitively, so
 *    a sentence-initial "Not", "Never" or "But" is ignored (the reference lower-cases first). With
 *    the README's own examples: "Not bad at all" scores -0.5423 instead of 0.431, and "Today only
 *    kinda sux! But I'll get by, lol" 0.2228 instead of 0.5249. We lower-case every token that is
 *    not ALL CAPS before scoring: ALL-CAPS tokens keep their emphasis, and the case of any other
 *    token changes nothing else in the algorithm (lexicon and booster look-ups lower-case anyway).
 * 2. Typographic apostrophes: "didn’t" (U+2019, what news sites publish) is not recognised as a
 *    negation, nor "n’t" contractions. We map typographic quotes and apostrophes to ASCII, and "…"
 *    to "...".
 * 3. The reference also translates emoji to words and has a few newer rules ("no" as a negator);
 *    news prose rarely needs them and the port lacks the emoji table, so those stay as they are.
 *
 * Optionally, a few sport terms are masked (see `SPORT_NEUTRAL_TERMS`).
 */
import vader from "vader-sentiment";

export interface SentenceScore {
  /** VADER compound in [-1, 1]. */
  compound: number;
  pos: number;
  neu: number;
  neg: number;
}

/**
 * Words whose VADER valence comes from violence or punishment but which match reports use as plain
 * vocabulary for play: "an attacking midfielder", "the attacker", "a penalty", "a fine strike",
 * "shoot on sight", "a blocked shot". Each scores -0.5 to -2.7 in the lexicon, so an even-handed
 * report of any football match reads as hostile. In sport items we mask them to a token outside the
 * lexicon, which is exactly as if the lexicon had no entry for them. Chosen narrowly: words whose
 * sport meaning is also negative ("injury", "defeat", "fired" as in sacked, "threat") keep their
 * valence.
 */
export const SPORT_NEUTRAL_TERMS: ReadonlySet<string> = new Set([
  "attack", "attacks", "attacking", "attacker", "attackers",
  "penalty", "penalties",
  "strike", "strikes",
  "shoot",
  "block", "blocks", "blocked",
  "offense", "offensive",
]);

/** Not in VADER's lexicon, booster or negation lists; long enough not to be dropped as a 1-letter token. */
const MASK = "xsportterm";
const MASK_UPPER = MASK.toUpperCase();

const TYPOGRAPHIC = /[\u2018\u2019\u201a\u201b\u2032\u02bc\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u2026]/g;
const ASCII_FOR: Record<string, string> = {
  "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
  "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
  "\u2026": "...",
};

/** Python's str.isupper for the ASCII text VADER handles: some upper-case letter, no lower-case one. */
function isAllCaps(token: string): boolean {
  return /[A-Z]/.test(token) && !/[a-z]/.test(token);
}

const WORD_IN_TOKEN = /[A-Za-z]+(?:'[A-Za-z]+)?/;

export interface PrepareOptions {
  maskSportTerms?: boolean;
}

/** The text VADER is given: ASCII quotes, rule words lower-cased, sport terms masked when asked. */
export function prepareForVader(sentence: string, options: PrepareOptions = {}): string {
  const ascii = sentence.replace(TYPOGRAPHIC, (ch) => ASCII_FOR[ch] ?? ch);
  return ascii.replace(/\S+/g, (token) => {
    const caps = isAllCaps(token);
    const cased = caps ? token : token.toLowerCase();
    if (!options.maskSportTerms) return cased;
    const word = WORD_IN_TOKEN.exec(cased);
    if (!word || !SPORT_NEUTRAL_TERMS.has(word[0].toLowerCase())) return cased;
    return cased.replace(word[0], caps ? MASK_UPPER : MASK);
  });
}

export function scoreSentence(sentence: string, options: PrepareOptions = {}): SentenceScore {
  const { compound, pos, neu, neg } = vader.SentimentIntensityAnalyzer.polarity_scores(prepareForVader(sentence, options));
  return { compound, pos, neu, neg };
}
