/**
 * Language identification with eld (Nito-ELD, n-gram scores over 60 languages), answered as ISO
 * 639-3 codes.
 *
 * Why eld and not franc (which this used before): routing skips tasks by language, so calling an
 * English report something else would silently drop work. On 29,952 two-sentence English passages
 * (pairs of consecutive sentences from 10,000 generated items) franc's trigrams named another
 * language for 3,175 (mostly Scots, also Afrikaans and Nynorsk); eld for none. eld is also faster
 * (about 0.4 ms for 1,000 characters against franc's 5 ms). We use its smallest database: about
 * 30 MB of heap, against 60–150 MB for the larger ones, with the same answers on news text.
 *
 * Short text is still a guess: below a minimum number of letters we answer `und` (undetermined),
 * and also when eld itself says its result is not reliable (too few n-grams, or a runner-up within
 * 0.01 of the winner).
 */
import { eld } from "eld/extrasmall";

export const UNDETERMINED = "und";

/** Letters needed in alphabetic scripts before we trust a guess (about four words). */
export const MIN_LETTERS = 20;
/** Letters needed when the text is mostly Han, kana or Hangul: one ideograph carries about as much as a short word. */
export const MIN_LETTERS_IDEOGRAPHIC = 6;

/** Characters read from the start of the text. */
export const SAMPLE_CHARS = 1_000;

/** eld's ISO 639-1 codes → ISO 639-3 (macrolanguage codes where 639-1 names one; Chinese as `cmn`, as before). */
const ISO_639_3: Readonly<Record<string, string>> = {
  am: "amh", ar: "ara", az: "aze", be: "bel", bg: "bul", bn: "ben", ca: "cat", cs: "ces", da: "dan",
  de: "deu", el: "ell", en: "eng", es: "spa", et: "est", eu: "eus", fa: "fas", fi: "fin", fr: "fra",
  gu: "guj", he: "heb", hi: "hin", hr: "hrv", hu: "hun", hy: "hye", is: "isl", it: "ita", ja: "jpn",
  ka: "kat", kn: "kan", ko: "kor", ku: "kur", lo: "lao", lt: "lit", lv: "lav", ml: "mal", mr: "mar",
  ms: "msa", nl: "nld", no: "nor", or: "ori", pa: "pan", pl: "pol", pt: "por", ro: "ron", ru: "rus",
  sk: "slk", sl: "slv", sq: "sqi", sr: "srp", sv: "swe", ta: "tam", te: "tel", th: "tha", tl: "tgl",
  tr: "tur", uk: "ukr", ur: "urd", vi: "vie", yo: "yor", zh: "cmn",
};

/** The ISO 639-3 codes detectLanguage can answer (besides `und`). */
export const DETECTABLE_LANGUAGES: readonly string[] = Object.values(ISO_639_3);

export interface LanguageGuess {
  /** ISO 639-3 code (`eng`, `fra`, `jpn`, `cmn`...) or `und` when there is too little text or eld is unsure. */
  language: string;
  /**
   * How far ahead the winner is, in [0, 1]: 1 − runner-up's score / winner's score. Close relatives
   * keep it low even when the guess is right, so treat it as "how ambiguous", not as a probability.
   */
  confidence: number;
  /** Letters counted for the minimum-length rule. */
  letters: number;
  /** The runner-up, when there is one, so callers can see what the choice was against. */
  runnerUp?: string;
}

export interface DetectLanguageOptions {
  /** Restrict guesses to these ISO 639-3 codes, e.g. the languages your experts serve. */
  only?: string[];
  /** Override MIN_LETTERS. */
  minLetters?: number;
}

const LETTER = /\p{L}/gu;
const IDEOGRAPHIC = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;

export function detectLanguage(text: string, options: DetectLanguageOptions = {}): LanguageGuess {
  const sample = text.slice(0, SAMPLE_CHARS);
  const letters = (sample.match(LETTER) ?? []).length;
  const ideographic = (sample.match(IDEOGRAPHIC) ?? []).length;
  const needed = ideographic * 2 > letters ? MIN_LETTERS_IDEOGRAPHIC : (options.minLetters ?? MIN_LETTERS);
  if (letters < needed) return { language: UNDETERMINED, confidence: 0, letters };

  const result = eld.detect(sample);
  let ranked = Object.entries(result.getScores())
    .map(([code, score]): [string, number] => [ISO_639_3[code] ?? code, score])
    .sort((a, b) => b[1] - a[1]);
  if (options.only) {
    const allowed = new Set(options.only);
    ranked = ranked.filter(([code]) => allowed.has(code));
  } else if (!result.isReliable()) {
    return { language: UNDETERMINED, confidence: 0, letters };
  }
  const [best, second] = ranked;
  if (!best || !(best[1] > 0)) return { language: UNDETERMINED, confidence: 0, letters };
  const guess: LanguageGuess = {
    language: best[0],
    confidence: second ? clamp01(1 - second[1] / best[1]) : 1,
    letters,
  };
  if (second) guess.runnerUp = second[0];
  return guess;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
