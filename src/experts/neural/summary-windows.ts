/**
 * What the summariser feeds the encoder for one text: the whole text when it fits the model, else
 * sentence windows (chunk) or the first window's worth of tokens (truncate).
 *
 * Encoder input is what `pipeline("summarization")` tokenises: `prefix + text` (distilbart-cnn's
 * config prefix is " "), with <s> … </s>. The text fits when that is at most `limit` ids
 * (`max_position_embeddings`, 1024); the tutorial fed longer inputs to the model and died with
 * "index out of range in self".
 *
 * Chunking rule (the one test/fixtures/references/summarization.json documents under
 * `chunking_rule`, mirrored so HF's outputs can be compared window by window):
 *   - sentences: the text's sentences, trimmed (src/text's splitter; on the reference articles it
 *     agrees with the reference's `(?<=[.!?])\s+` split, and the tests check that it does);
 *   - a window is sentences joined by one " "; sentences are added greedily while
 *     n(window + " " + sentence) <= limit, else the sentence starts the next window;
 *   - a sentence that alone exceeds the limit is first cut into pieces of whole words (split on
 *     whitespace, re-joined by one " ") packed the same way; a single word that alone exceeds it
 *     (no whitespace in 1,000+ tokens: never prose) is cut at token level.
 * n() is computed from per-unit token counts, not by re-tokenising every candidate: with the prefix
 * " " and the joining " ", every unit is tokenised as " " + unit, and byte-level BPE never merges
 * across the non-space/space boundary, so counts add up. Each window's ids are then tokenised from
 * its text directly, exactly what HF tokenises; should a tokenizer ever break additivity and give a
 * window more than `limit` ids, the window is cut to the limit rather than fail.
 */
import type { HfTokenizer } from "../../runtime/tokenizer.js";
import { splitSentences } from "../../text/sentences.js";

export interface EncoderWindow {
  /** The window's text (without the prefix): what the reference calls the window. */
  text: string;
  /** Encoder ids: prefix + text tokenised, specials included; at most `limit` long. */
  ids: number[];
}

export type EncoderPlan =
  | { mode: "whole"; inputTokens: number; windows: [EncoderWindow] }
  | { mode: "chunk"; inputTokens: number; windows: EncoderWindow[] }
  | { mode: "truncate"; inputTokens: number; windows: [EncoderWindow] };

export interface SummaryInputContext {
  tokenizer: HfTokenizer;
  /** The pipeline's input prefix (" " for distilbart-cnn). */
  prefix: string;
  /** Longest encoder input, specials included (`max_position_embeddings`). */
  limit: number;
}

/** Encoder ids of `text` as the pipeline builds them: prefix + text, specials included. */
export function encoderIds(context: SummaryInputContext, text: string): number[] {
  return context.tokenizer.encode(context.prefix + text);
}

export function planEncoderInputs(
  context: SummaryInputContext,
  text: string,
  strategy: "chunk" | "truncate",
): EncoderPlan {
  const whole = encoderIds(context, text);
  if (whole.length <= context.limit) return { mode: "whole", inputTokens: whole.length, windows: [{ text, ids: whole }] };
  if (strategy === "truncate") {
    // HF truncation=True, max_length=limit: the text's tokens cut from the right, </s> kept.
    const ids = context.tokenizer.encode(context.prefix + text, { maxLength: context.limit });
    return { mode: "truncate", inputTokens: whole.length, windows: [{ text, ids }] };
  }
  return { mode: "chunk", inputTokens: whole.length, windows: chunkWindows(context, text) };
}

interface Unit {
  text: string;
  /** Tokens of " " + text, no specials. */
  tokens: number;
  /** Set for token-level pieces of an over-long word: their exact ids, no specials. */
  ids?: number[];
}

export function chunkWindows(context: SummaryInputContext, text: string): EncoderWindow[] {
  const { tokenizer, limit } = context;
  const specials = tokenizer.numSpecialTokens;
  const room = limit - specials;
  if (room < 1) throw new RangeError(`the model window (${limit} tokens) leaves no room for text`);
  const count = (unit: string) => tokenizer.encode(" " + unit, { addSpecialTokens: false }).length;

  const units: Unit[] = [];
  for (const sentence of splitSentences(text)) {
    const sentenceText = sentence.text.trim();
    if (sentenceText === "") continue;
    const tokens = count(sentenceText);
    if (tokens <= room) units.push({ text: sentenceText, tokens });
    else units.push(...wordPieces(tokenizer, sentenceText, room, count));
  }

  const windows: EncoderWindow[] = [];
  let current: Unit[] = [];
  let used = 0;
  const close = () => {
    if (current.length === 0) return;
    windows.push(windowOf(context, current));
    current = [];
    used = 0;
  };
  for (const unit of units) {
    // Token-level pieces of an over-long word are windows of their own: their text does not
    // re-tokenise to their ids.
    if (current.length > 0 && (unit.ids || used + unit.tokens > room)) close();
    current.push(unit);
    used += unit.tokens;
    if (unit.ids) close();
  }
  close();
  return windows;
}

function windowOf(context: SummaryInputContext, units: readonly Unit[]): EncoderWindow {
  const text = units.map((u) => u.text).join(" ");
  const only = units[0];
  if (units.length === 1 && only?.ids) return { text, ids: context.tokenizer.wrap(only.ids) };
  let ids = encoderIds(context, text);
  if (ids.length > context.limit) ids = context.tokenizer.encode(context.prefix + text, { maxLength: context.limit });
  return { text, ids };
}

/** An over-long sentence as word pieces (reference rule), token-level cuts for an over-long word. */
function wordPieces(tokenizer: HfTokenizer, sentence: string, room: number, count: (unit: string) => number): Unit[] {
  const pieces: Unit[] = [];
  let words: string[] = [];
  let used = 0;
  const flush = () => {
    if (words.length > 0) pieces.push({ text: words.join(" "), tokens: used });
    words = [];
    used = 0;
  };
  for (const word of sentence.split(/\s+/).filter(Boolean)) {
    const tokens = count(word);
    if (tokens > room) {
      flush();
      const ids = tokenizer.encode(" " + word, { addSpecialTokens: false });
      for (let start = 0; start < ids.length; start += room) {
        const slice = ids.slice(start, start + room);
        pieces.push({ text: tokenizer.decode(slice), tokens: slice.length, ids: slice });
      }
      continue;
    }
    if (words.length > 0 && used + tokens > room) flush();
    words.push(word);
    used += tokens;
  }
  flush();
  return pieces;
}
