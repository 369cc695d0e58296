/**
 * Scraped fields are untrusted: an item's url, headline or topics may hold anything a hostile page
 * puts there. These turn them into what the HTML pages may safely show; the pages still only ever
 * set them as text (textContent, canvas), never as markup.
 */

/** Longest text a report cell shows; the rest is cut and counted, so a 1 MB field cannot bloat the page. */
export const MAX_SHOWN_CHARS = 2000;
/** Longest URL that becomes a link. */
const MAX_LINK_CHARS = 4096;

/**
 * The URL as a link target if it is an absolute http(s) URL, else null (then the page shows the
 * headline as plain text): `javascript:`, `data:`, `vbscript:`, relative or malformed URLs never
 * become links.
 */
export function linkableUrl(value: string | null | undefined): string | null {
  if (typeof value !== "string" || value.length > MAX_LINK_CHARS) return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return null;
  }
  return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
}

// Half of a surrogate pair without its other half: not a character, and not valid UTF-8 when written.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// Bidi embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI): they reorder the
// text around them, so "gnp.exe" can be made to read "exe.png". Shown as their code point instead.
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/g;

/** Text of a scraped field as a page shows it: well-formed, no hidden reordering, bounded in length. */
export function displayText(value: string, max = MAX_SHOWN_CHARS): string {
  const clean = visibleText(value);
  if (clean.length <= max) return clean;
  const end = cutAt(clean, max);
  return `${clean.slice(0, end)}… (${clean.length - end} more characters)`;
}

/** The same for a chart label: cut short with an ellipsis. */
export function labelText(value: string, max: number): string {
  const clean = visibleText(value);
  return clean.length <= max ? clean : `${clean.slice(0, cutAt(clean, max - 1))}…`;
}

function visibleText(value: string): string {
  return value.replace(LONE_SURROGATE, "\uFFFD").replace(BIDI_CONTROL, (c) => `[U+${c.charCodeAt(0).toString(16).toUpperCase()}]`);
}

/** A cut at `max` or just before, so that it falls between code points, not inside a surrogate pair. */
function cutAt(text: string, max: number): number {
  return /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
}
