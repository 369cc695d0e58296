/**
 * Word segmentation for features and counts. Uses ICU's word boundaries (Intl.Segmenter), which
 * split space-less scripts (Chinese, Japanese, Thai) with a dictionary, so every language gets
 * usable terms without a per-language tokenizer.
 */
import { segmentBounded } from "./bounded-segmenter.js";
import { ENGLISH_STOP_WORDS } from "./stop-words.js";

export interface WordToken {
  /** The word exactly as written. */
  text: string;
  /** Offsets into the text that was segmented (UTF-16 code units, end exclusive). */
  start: number;
  end: number;
}

/**
 * Words (letters, digits, ideographs; not punctuation or spaces) with their offsets. Text in
 * space-delimited scripts takes the regular-expression path (ICU's rules as one expression, see
 * SPACED_WORD: same words on news prose, about 12 times faster); the rest goes through ICU.
 */
export function segmentWords(text: string, locale?: string): WordToken[] {
  const words: WordToken[] = [];
  if (!SPACELESS_SCRIPT.test(text)) {
    for (const m of text.matchAll(SPACED_WORD)) words.push({ text: m[0], start: m.index, end: m.index + m[0].length });
    return words;
  }
  for (const s of segmentBounded(text, "word", locale)) {
    if (s.isWordLike) words.push({ text: s.segment, start: s.index, end: s.index + s.segment.length });
  }
  return words;
}

/** Scripts written without spaces between words: only a dictionary (ICU) can find their words. */
const SPACELESS_SCRIPT =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}]/u;

/**
 * ICU's word rules (UAX #29) for space-delimited scripts, as one regular expression: a run of
 * letters, marks, digits and "_", continued across "." "'" "’" ":" "·" between letters and across
 * "." "," ";" "'" "’" between digits ("U.S", "don't", "3.5m", "1,000"). About 12 times faster than
 * iterating Intl.Segmenter, and gives the same count on news prose (tested against it).
 */
const SPACED_WORD =
  /[\p{L}\p{N}_][\p{L}\p{M}\p{N}_]*(?:(?:(?<=\p{L}\p{M}*)[:·'’.](?=\p{L})|(?<=\p{N})[.,;'’](?=\p{N}))[\p{L}\p{M}\p{N}_]+)*/gu;

/**
 * Number of words. Routers call this on every item, so text in space-delimited scripts takes the
 * regular-expression path; text with Chinese, Japanese, Thai and the like goes through ICU.
 */
export function countWords(text: string, locale?: string): number {
  if (!SPACELESS_SCRIPT.test(text)) return (text.match(SPACED_WORD) ?? []).length;
  let n = 0;
  for (const s of segmentBounded(text, "word", locale)) if (s.isWordLike) n++;
  return n;
}

const TYPOGRAPHIC_APOSTROPHES = /[\u2018\u2019\u02bc\uff07]/g;
const POSSESSIVE = /'s$/;

/**
 * The comparable form of a word: NFKC (folds full-width forms and ligatures), lower case, straight
 * apostrophe, possessive "'s" dropped so "Arsenal's" and "Arsenal" count as one term.
 */
export function normalizeTerm(word: string): string {
  return word.normalize("NFKC").toLowerCase().replace(TYPOGRAPHIC_APOSTROPHES, "'").replace(POSSESSIVE, "");
}

export interface FeatureTermOptions {
  locale?: string;
  /** Terms to drop after normalisation. Default: English stop words. Pass an empty set to keep all. */
  stopWords?: ReadonlySet<string>;
}

/** Normalised content terms of `text`, in order, stop words removed. */
export function featureTerms(text: string, options: FeatureTermOptions = {}): string[] {
  const stopWords = options.stopWords ?? ENGLISH_STOP_WORDS;
  const terms: string[] = [];
  for (const s of segmentBounded(text, "word", options.locale)) {
    if (!s.isWordLike) continue;
    const term = normalizeTerm(s.segment);
    if (term.length > 0 && !stopWords.has(term)) terms.push(term);
  }
  return terms;
}
