/**
 * What the first bytes of an input (after any BOM) say about its layout:
 * - `json-array`: starts with "[": the scraper's JSON array;
 * - `json-values`: starts with "{" alone on its line: a pretty-printed object (or several);
 * - `jsonl`: starts with "{" followed by more on the same line: JSON Lines;
 * - `empty`: nothing but whitespace;
 * - `unexpected`: something else, at byte `offset` of the inspected bytes.
 *
 * Telling pretty JSON from JSON Lines by the rest of the first line needs no look-ahead beyond it:
 * every pretty-printer puts the opening brace on a line of its own, and a JSON Lines line never
 * ends right after its "{".
 */
export type SniffedLayout =
  | { layout: "json-array" }
  | { layout: "json-values" }
  | { layout: "jsonl" }
  | { layout: "empty" }
  | { layout: "unexpected"; offset: number };

const SPACE = 0x20;
const TAB = 0x09;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const LEFT_BRACKET = 0x5b;
const LEFT_BRACE = 0x7b;

function isWhitespace(byte: number): boolean {
  return byte === SPACE || byte === TAB || byte === NEWLINE || byte === CARRIAGE_RETURN;
}

/**
 * Decides the layout from a prefix of the input. Returns undefined when the prefix is too short to
 * tell and more of the input exists (`complete` false).
 */
export function sniffLayout(prefix: Uint8Array, complete: boolean): SniffedLayout | undefined {
  let at = 0;
  while (at < prefix.length && isWhitespace(prefix[at] as number)) at += 1;
  if (at === prefix.length) return complete ? { layout: "empty" } : undefined;
  const first = prefix[at] as number;
  if (first === LEFT_BRACKET) return { layout: "json-array" };
  if (first !== LEFT_BRACE) return { layout: "unexpected", offset: at };
  at += 1;
  while (at < prefix.length) {
    const byte = prefix[at] as number;
    if (byte === NEWLINE) return { layout: "json-values" };
    if (byte !== SPACE && byte !== TAB && byte !== CARRIAGE_RETURN) return { layout: "jsonl" };
    at += 1;
  }
  // A lone "{" at the very end is broken either way; the JSON Lines reader names its line.
  return complete ? { layout: "jsonl" } : undefined;
}

/** The length of a UTF-8 byte order mark at the start of `prefix` (0 or 3). */
export function utf8BomLength(prefix: Uint8Array): number {
  return prefix[0] === 0xef && prefix[1] === 0xbb && prefix[2] === 0xbf ? 3 : 0;
}

/** True when `prefix` starts with a UTF-16 byte order mark (FF FE or FE FF). */
export function hasUtf16Bom(prefix: Uint8Array): boolean {
  return (prefix[0] === 0xff && prefix[1] === 0xfe) || (prefix[0] === 0xfe && prefix[1] === 0xff);
}
