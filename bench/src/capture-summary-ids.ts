/**
 * Exact summary token ids from the real expert path, for the bench's token-identity check.
 *
 * `NeuralSummarizerExpert.analyze` returns text only, and re-tokenising text does not give back the
 * generated ids (byte-level BPE has many spellings of one string). What the expert does with each
 * generated sequence is `tokenizer.decode(ids, { skipSpecialTokens: true, ... })`, so the bench wraps
 * `HfTokenizer.prototype.decode` in its own process and keeps every (text, ids) pair decoded with
 * skipSpecialTokens. An article's summary text then names its ids: exact when the text was decoded
 * from exactly one id sequence (checked; an ambiguous text gives no ids rather than a guess).
 *
 * Costs one array copy per decoded summary; nothing in the timed path changes otherwise. A hook in
 * the expert itself (ids in its output on request) would make this unnecessary.
 */
import { HfTokenizer } from "../../dist/runtime/tokenizer.js";
import { unpadSequence } from "./token-identity.js";

export interface SummaryIdCapture {
  /** The ids `text` was decoded from, when exactly one distinct sequence decoded to it. */
  idsFor(text: string): number[] | undefined;
  /** Tokens of every captured sequence after its first (the decoder start token), summed. */
  generatedTokens(): number;
  /** Forgets what was captured (between phases). */
  reset(): void;
  /** Puts the original `decode` back. */
  restore(): void;
}

/** `eosTokenId`: batch padding after it is dropped from the kept ids (see `unpadSequence`). */
export function captureSummaryIds(eosTokenId: number): SummaryIdCapture {
  const original = HfTokenizer.prototype.decode;
  let byText = new Map<string, number[][]>();
  let generated = 0;
  HfTokenizer.prototype.decode = function (this: HfTokenizer, ids, options = {}) {
    const text = original.call(this, ids, options);
    if (options.skipSpecialTokens) {
      const kept = unpadSequence(ids, eosTokenId);
      const seen = byText.get(text) ?? [];
      if (!seen.some((s) => s.length === kept.length && s.every((t, i) => t === kept[i]))) seen.push(kept);
      byText.set(text, seen);
      generated += Math.max(0, kept.length - 1);
    }
    return text;
  };
  return {
    idsFor(text) {
      const seen = byText.get(text);
      return seen && seen.length === 1 ? seen[0] : undefined;
    },
    generatedTokens: () => generated,
    reset() {
      byText = new Map();
      generated = 0;
    },
    restore() {
      HfTokenizer.prototype.decode = original;
    },
  };
}
