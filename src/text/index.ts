export { splitSentences } from "./sentences.js";
export type { Sentence, SplitSentencesOptions } from "./sentences.js";
export { segmentWords, countWords, featureTerms, normalizeTerm } from "./words.js";
export type { WordToken, FeatureTermOptions } from "./words.js";
export { ENGLISH_STOP_WORDS } from "./stop-words.js";
export { detectLanguage, UNDETERMINED, MIN_LETTERS, MIN_LETTERS_IDEOGRAPHIC, SAMPLE_CHARS, DETECTABLE_LANGUAGES } from "./language.js";
export type { LanguageGuess, DetectLanguageOptions } from "./language.js";
export { segmentBounded, DEFAULT_MAX_WINDOW } from "./bounded-segmenter.js";
export type { TextSegment, Granularity } from "./bounded-segmenter.js";
