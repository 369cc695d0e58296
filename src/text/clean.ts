import type { CleaningReport } from "../core/analysis-record.js";
/**
 * Cleaning of scraped article text before any expert sees it: HTML that came through the scraper
 * (tags, `<script>`/`<style>` blocks, comments, entities such as `&amp;`) and page furniture the
 * scraper left in the copy ("Advertisement", "Image source, Getty Images", share buttons, cookie
 * banners). Summaries would otherwise quote it and the sentiment lexicon would score it.
 *
 * Conservative on purpose: a boilerplate phrase is removed only where it stands on its own (a line
 * of its own, or between two sentences as the BBC scrape leaves "Advertisement"), never from inside
 * a sentence, and the report says what was removed so nothing disappears silently.
 */

export interface CleaningOptions {
  /** Strip HTML tags, comments and script/style blocks, and decode entities. Default true. */
  html?: boolean;
  /** Remove the built-in scraper boilerplate (see BOILERPLATE_LINES). Default true. */
  boilerplate?: boolean;
  /**
   * More to remove: regular expressions (strings are compiled with flags "gmu"); every match is
   * cut out. E.g. `"^Follow our live coverage.*$"`.
   */
  patterns?: Array<string | RegExp>;
}

/** What cleaning removed from one text; absent counts are zero. */
// The report is part of the output record, so its type lives with the record (core owns contracts).
export type { CleaningReport } from "../core/analysis-record.js";

export interface CleaningResult {
  text: string;
  /** Undefined when nothing was removed. */
  report?: CleaningReport;
}

const SCRIPT_OR_STYLE = /<(script|style|noscript|iframe)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const COMMENT = /<!--[\s\S]*?-->/g;
/** Block-level tags become line breaks (they separated paragraphs); other tags vanish. */
const BLOCK_TAG = /<\/?(?:p|div|br|li|ul|ol|h[1-6]|blockquote|section|article|header|footer|figure|figcaption|table|tr)\b[^>]*>/gi;
/** Known HTML elements only: "<at home>" or "<3" in copy is not markup. */
const HTML_ELEMENTS =
  "a|abbr|address|article|aside|audio|b|bdi|bdo|big|blockquote|body|br|button|caption|center|cite|code|col|colgroup|dd|del|" +
  "details|dfn|div|dl|dt|em|embed|figcaption|figure|font|footer|form|h[1-6]|head|header|hr|html|i|iframe|img|input|ins|" +
  "kbd|label|legend|li|link|main|mark|meta|nav|noscript|object|ol|p|picture|pre|q|s|samp|script|section|small|source|span|" +
  "strike|strong|style|sub|summary|sup|svg|path|table|tbody|td|template|tfoot|th|thead|time|title|tr|track|tt|u|ul|var|video|wbr";
const ANY_TAG = new RegExp(`<\\/?(?:${HTML_ELEMENTS})(?:\\s[^<>]*)?\\/?>`, "gi");
const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]{1,31}));/g;

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", ndash: "\u2013", mdash: "\u2014",
  lsquo: "\u2018", rsquo: "\u2019", ldquo: "\u201c", rdquo: "\u201d", hellip: "\u2026", pound: "£",
  euro: "€", copy: "©", reg: "®", trade: "™", deg: "°", frac12: "½", times: "×", middot: "·",
  eacute: "é", egrave: "è", aacute: "á", iacute: "í", oacute: "ó", uacute: "ú", ntilde: "ñ",
  ccedil: "ç", uuml: "ü", ouml: "ö", auml: "ä", szlig: "ß", laquo: "«", raquo: "»", shy: "",
};

/**
 * Whole lines that are page furniture, not copy (matched against a trimmed line, case-insensitive).
 */
export const BOILERPLATE_LINES: readonly RegExp[] = [
  /^advertisement$/i,
  /^(?:image|video|media) (?:source|caption), .{0,120}$/i,
  /^(?:image|video|media) (?:source|caption)$/i,
  /^share(?: this (?:article|page|story|post))?(?: (?:on|via) (?:facebook|twitter|x|whatsapp|linkedin|email|messenger))?$/i,
  /^(?:copy link|copied|save|saved|comments?|related topics|more on this story|top stories|skip to content)$/i,
  /^(?:we|this (?:site|website)) uses? cookies\b.*$/i,
  /^(?:accept|reject|manage)(?: all)? cookies\b.*$/i,
  /^cookie (?:settings|policy|preferences|consent)\b.*$/i,
  /^by (?:continuing|using) (?:to (?:use|browse) )?(?:this|our) (?:site|website)\b.*(?:agree|consent|cookies).*$/i,
  /^follow (?:us|bbc sport|.{1,40}) on (?:facebook|twitter|x|instagram)\.?$/i,
];

/**
 * Boilerplate glued between sentences by the scrape: "...the final kilometre. Advertisement Ines
 * Delacroix survived...". Only after sentence-final punctuation (or at the start) and before a
 * capital or a quote, so "an Advertisement Standards Authority ruling" mid-sentence is kept.
 */
const AGENCIES =
  "Getty Images|Reuters|PA Media|PA|EPA-EFE|EPA|AFP|AP|Shutterstock|Alamy|Action Images|Rex Features|Sportsfile|BBC|Empics|PA Wire";
const INLINE_BOILERPLATE = new RegExp(
  `(?<=^|[.!?]["'”’»)]?\\s+|Images\\s)(?:Advertisement|Image source, (?:${AGENCIES})|Image caption,)\\s+(?=["“‘'«(]?\\p{Lu})`,
  "gmu",
);

export function cleanText(text: string, options: CleaningOptions = {}): CleaningResult {
  const report: CleaningReport = {};
  let out = text;
  if (options.html ?? true) {
    if (out.includes("<")) {
      let tags = 0;
      const count = () => {
        tags++;
        return "";
      };
      out = out.replace(SCRIPT_OR_STYLE, count).replace(COMMENT, count);
      out = out.replace(BLOCK_TAG, () => {
        tags++;
        return "\n";
      });
      out = out.replace(ANY_TAG, count);
      if (tags > 0) report.html_tags = tags;
    }
    if (out.includes("&")) {
      let entities = 0;
      out = out.replace(ENTITY, (whole, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
        const decoded = decodeEntity(dec, hex, name);
        if (decoded === undefined) return whole;
        entities++;
        return decoded;
      });
      if (entities > 0) report.html_entities = entities;
    }
  }
  const removed: string[] = [];
  if (options.boilerplate ?? true) {
    // Twice: "Image source, Getty Images Image caption, ..." has the second label right after the first.
    for (let pass = 0; pass < 2; pass++) {
      out = out.replace(INLINE_BOILERPLATE, (match) => {
        removed.push(match.trim());
        return "";
      });
    }
    const lines = out.split("\n");
    const kept = lines.filter((line) => {
      const trimmed = line.trim();
      if (trimmed.length === 0 || trimmed.length > 200) return true;
      if (BOILERPLATE_LINES.some((pattern) => pattern.test(trimmed))) {
        removed.push(trimmed);
        return false;
      }
      return true;
    });
    if (kept.length !== lines.length) out = kept.join("\n");
  }
  for (const pattern of options.patterns ?? []) {
    const regex = typeof pattern === "string" ? new RegExp(pattern, "gmu") : withGlobal(pattern);
    out = out.replace(regex, (match) => {
      if (match.length > 0) removed.push(match.trim());
      return "";
    });
  }
  if (removed.length > 0) {
    report.boilerplate = removed.slice(0, 10).map((piece) => (piece.length > 60 ? `${piece.slice(0, 57)}...` : piece));
    if (removed.length > 10) report.boilerplate_count = removed.length;
  }
  if (Object.keys(report).length === 0) return { text };
  // Removals leave doubled spaces and blank-line runs behind; tidy only then.
  out = out
    .replace(/[ \t\u00a0]{2,}/g, " ")
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  return { text: out, report };
}

function decodeEntity(dec: string | undefined, hex: string | undefined, name: string | undefined): string | undefined {
  if (dec !== undefined || hex !== undefined) {
    const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex as string, 16);
    if (!(code > 0 && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    return String.fromCodePoint(code);
  }
  return name !== undefined && Object.hasOwn(NAMED_ENTITIES, name) ? NAMED_ENTITIES[name] : undefined;
}

function withGlobal(pattern: RegExp): RegExp {
  return pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
}

/** An item with its content cleaned, and the report when something was removed. */
export function cleanItem<T extends { content: string }>(item: T, options: CleaningOptions = {}): { item: T; report?: CleaningReport } {
  if (typeof item.content !== "string") return { item };
  const { text, report } = cleanText(item.content, options);
  return report ? { item: { ...item, content: text }, report } : { item };
}
