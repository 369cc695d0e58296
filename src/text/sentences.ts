/**
 * Sentence splitting for news text, with each sentence's offsets into the original string so
 * callers can cut windows from it.
 *
 * The base is ICU's sentence boundaries (Intl.Segmenter, any language, quotes and closing
 * brackets kept with their sentence, paragraph breaks honoured). On top of it we fix what ICU gets
 * wrong in news copy:
 *   - a break after a title or shorthand ("Mr.", "Dr.", "St.", "Lt. Col.", "z. B.", "M.") → merged;
 *   - a break after initials ("J. R. R. Tolkien", "U.S. Open") → merged, unless the next word is a
 *     typical sentence opener ("...in Group B. The draw...");
 *   - a break between a quote ending in "!" or "?" and its lower-case attribution
 *     ("“Brilliant!” he said.") → merged;
 *   - a hard-wrapped line (no final punctuation, next line starts lower-case) → merged;
 *   - no break where scraped paragraphs were glued without a space ("...the title.Next season") →
 *     split;
 *   - no break after an ellipsis followed by a capital ("Nobody knows… The end.") → split;
 *   - stray punctuation-only pieces → attached to the sentence before.
 */
import { segmentBounded } from "./bounded-segmenter.js";
import { NON_TERMINAL_ABBREVIATIONS, SENTENCE_STARTERS } from "./abbreviations.js";

export interface Sentence {
  /** The sentence as in the original, without surrounding whitespace: `original.slice(start, end)`. */
  text: string;
  /** Offsets into the original text (UTF-16 code units, end exclusive). */
  start: number;
  end: number;
}

export interface SplitSentencesOptions {
  /** BCP 47 locale for ICU; sentence rules barely depend on it. Default: the runtime's. */
  locale?: string;
}

interface Span {
  start: number;
  end: number;
}

const CLOSERS = "\"'”’»)\\]";
/** Lower case letter + period, directly followed by a capitalised word: glued paragraphs. */
const GLUED_BREAK = new RegExp(`(?<=\\p{Ll}\\p{Ll})[.!?]+[${CLOSERS}]*(?=\\p{Lu}\\p{Ll})`, "gu");
/** Ellipsis, whitespace, then a capital: ICU keeps going, a reader sees a new sentence. */
const ELLIPSIS_BREAK = /(?:\u2026|\.\.\.)["'”’»)\]]*(?=\s+["'“‘«(]?\p{Lu})/gu;
const TERMINAL_PUNCTUATION = /[.!?。！？…]["'”’»)\]]*$/u;
const ENDS_WITH_EXCLAMATION_OR_QUESTION = /[!?]["'”’»)\]]*$/u;
const HAS_LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
/** The token before a final period: "Dr" in "...met Dr.", "J.R" in "...by J.R.", "B" in "z. B.". */
const LAST_ABBREVIATION = /(?:^|[\s(“"‘'«[])((?:\p{L}{1,4}\.)*\p{L}+)\.$/u;
/** "J", "J.R", "U.S"; and single lower-case letters of German and Dutch shorthands ("z. B.", "d. h."). */
const SINGLE_INITIALS = /^(?:(?:\p{Lu}\.)*\p{Lu}|\p{Ll})$/u;
const FIRST_WORD = /^["'“‘«(]*([\p{L}\p{N}]+)/u;

export function splitSentences(text: string, options: SplitSentencesOptions = {}): Sentence[] {
  const icuSpans: Span[] = [];
  for (const s of segmentBounded(text, "sentence", options.locale)) {
    icuSpans.push({ start: s.index, end: s.index + s.segment.length });
  }
  const split = icuSpans.flatMap((span) => splitMissedBreaks(text, span));
  const trimmed = split.map((span) => trimSpan(text, span)).filter((span) => span.end > span.start);
  const merged = mergeFalseBreaks(text, trimmed);
  return merged.map(({ start, end }) => ({ text: text.slice(start, end), start, end }));
}

function splitMissedBreaks(text: string, span: Span): Span[] {
  const piece = text.slice(span.start, span.end);
  const cuts: number[] = [];
  for (const pattern of [GLUED_BREAK, ELLIPSIS_BREAK]) {
    pattern.lastIndex = 0;
    for (let m = pattern.exec(piece); m; m = pattern.exec(piece)) {
      const cut = m.index + m[0].length;
      if (pattern === GLUED_BREAK && endsWithAbbreviation(piece.slice(0, cut))) continue;
      if (cut > 0 && cut < piece.length) cuts.push(cut);
    }
  }
  if (cuts.length === 0) return [span];
  cuts.sort((a, b) => a - b);
  const spans: Span[] = [];
  let from = 0;
  for (const cut of cuts) {
    if (cut > from) spans.push({ start: span.start + from, end: span.start + cut });
    from = cut;
  }
  spans.push({ start: span.start + from, end: span.end });
  return spans;
}

function trimSpan(text: string, span: Span): Span {
  let { start, end } = span;
  while (start < end && /\s/u.test(text.charAt(start))) start++;
  while (end > start && /\s/u.test(text.charAt(end - 1))) end--;
  return { start, end };
}

function mergeFalseBreaks(text: string, spans: Span[]): Span[] {
  const out: Span[] = [];
  for (const span of spans) {
    const previous = out[out.length - 1];
    if (previous && shouldJoin(text, previous, span)) {
      previous.end = span.end;
    } else {
      out.push({ ...span });
    }
  }
  // A punctuation-only first piece (a stray quote mark) has nothing before it to join: join it forward.
  const first = out[0];
  const second = out[1];
  if (first && second && !HAS_LETTER_OR_DIGIT.test(text.slice(first.start, first.end))) {
    second.start = first.start;
    out.shift();
  }
  return out;
}

function shouldJoin(text: string, previous: Span, next: Span): boolean {
  const before = text.slice(previous.start, previous.end);
  const after = text.slice(next.start, next.end);
  if (!HAS_LETTER_OR_DIGIT.test(after)) return true;
  const gap = text.slice(previous.end, next.start);
  const newlines = (gap.match(/\n/g) ?? []).length;
  if (newlines >= 2) return false;
  const startsLowerCase = /^["'“‘«(]*\p{Ll}/u.test(after);
  if (newlines === 1) {
    // Only a hard-wrapped line continues across a line break; headlines and list items do not.
    return startsLowerCase && !TERMINAL_PUNCTUATION.test(before);
  }
  if (startsLowerCase && ENDS_WITH_EXCLAMATION_OR_QUESTION.test(before)) return true;
  if (!before.endsWith(".")) return false;
  const firstWord = FIRST_WORD.exec(after)?.[1];
  if (firstWord !== undefined && SENTENCE_STARTERS.has(firstWord)) return false;
  return endsWithAbbreviation(before);
}

function endsWithAbbreviation(piece: string): boolean {
  const token = LAST_ABBREVIATION.exec(piece)?.[1];
  if (token === undefined) return false;
  return NON_TERMINAL_ABBREVIATIONS.has(token) || SINGLE_INITIALS.test(token);
}
