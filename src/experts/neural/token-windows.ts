/**
 * Cutting a long text into model-sized windows of token ids, on sentence boundaries where
 * possible.
 *
 * The text is cut into pieces that end where sentences end and that concatenate back to the exact
 * text (the whitespace between two sentences starts the next piece). Tokenising piece by piece then
 * gives the same ids as tokenising the whole text: neither BERT's WordPiece nor BART's byte-level
 * BPE pre-tokenisation ever puts a non-space character and the whitespace after it into one
 * pre-token, so a cut at that point splits no token. `tokenizePieces` checks this on every call
 * and falls back to one piece (token-level cuts only) if a tokenizer ever disagrees.
 */
import type { HfTokenizer } from "../../runtime/tokenizer.js";
import { splitSentences } from "../../text/sentences.js";

/** Pieces of `text`, each ending at a sentence end; `pieces.join("") === text`. */
export function sentencePieces(text: string): string[] {
  const sentences = splitSentences(text);
  const pieces: string[] = [];
  let from = 0;
  for (const sentence of sentences) {
    if (sentence.end <= from) continue;
    pieces.push(text.slice(from, sentence.end));
    from = sentence.end;
  }
  if (from < text.length) {
    // Trailing whitespace (or text the splitter dropped) belongs to the last piece.
    if (pieces.length > 0) pieces[pieces.length - 1] += text.slice(from);
    else pieces.push(text.slice(from));
  }
  return pieces;
}

/** Token ids (no specials) of each piece of `text`; their concatenation is `tokenizer.encode(text)`. */
export function tokenizePieces(tokenizer: HfTokenizer, text: string): number[][] {
  const pieces = sentencePieces(text).map((piece) => tokenizer.encode(piece, { addSpecialTokens: false }));
  const whole = tokenizer.encode(text, { addSpecialTokens: false });
  const total = pieces.reduce((sum, ids) => sum + ids.length, 0);
  if (total === whole.length && pieces.flat().every((id, i) => id === whole[i])) return pieces;
  return [whole];
}

/**
 * Greedy packing: pieces go into the current window while they fit in `budget` ids; a piece that
 * does not fit starts a new window; a piece longer than a whole window is cut into `budget`-sized
 * runs of tokens, and its remainder starts the next window. Every window is non-empty and at most
 * `budget` long; the windows concatenate back to the pieces.
 */
export function packWindows(pieces: readonly (readonly number[])[], budget: number): number[][] {
  if (!(Number.isInteger(budget) && budget > 0)) throw new RangeError(`window budget must be a positive integer, got ${budget}`);
  const windows: number[][] = [];
  let current: number[] = [];
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    if (current.length + piece.length <= budget) {
      current.push(...piece);
      continue;
    }
    if (current.length > 0) windows.push(current);
    current = [];
    let start = 0;
    while (piece.length - start > budget) {
      windows.push(piece.slice(start, start + budget));
      start += budget;
    }
    current = piece.slice(start);
  }
  if (current.length > 0) windows.push(current);
  return windows;
}
