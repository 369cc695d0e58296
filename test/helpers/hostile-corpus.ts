/**
 * Items a hostile or broken scraper could produce: markup and event handlers in every text field,
 * script-running URL schemes, broken UTF-16, bidi overrides and very long fields. Each payload, if
 * it ever ran as code, would set `window.__pwned`, open a dialog or fetch BEACON_PATH; the browser
 * tests check that none of that happens.
 */
export const BEACON_PATH = "/beacon";

const ARTICLE =
  "The visitors scored twice in the second half to win the final. Their captain said the team had trained hard all winter. " +
  "The crowd of forty thousand stayed long after the whistle to celebrate the club's first trophy in a decade.";

export interface HostileItem {
  id: string;
  headline?: string;
  url?: string;
  content: string;
  topics?: string[];
  publication_date?: string;
}

/** The corpus; `beacon` is an absolute URL an injected image or script would request. */
export function hostileCorpus(beacon: string): HostileItem[] {
  const pwn = (n: number) => `window.__pwned=${n}`;
  return [
    {
      id: "script-tag",
      headline: `<script>${pwn(1)}</script>Headline with a script tag`,
      url: `javascript:${pwn(2)}`,
      content: `${ARTICLE} <script>${pwn(3)}</script>`,
      topics: ["<b>bold topic</b>", `</script><script>${pwn(4)}</script>`],
      publication_date: "2024-05-01",
    },
    {
      id: "event-handler",
      headline: `<img src="${beacon}" onerror="${pwn(5)}">"><svg onload=alert(5)>`,
      url: `data:text/html,<script>parent.${pwn(6)}</script>`,
      content: `${ARTICLE} <img src=x onerror=alert(6)>`,
      topics: [`" onmouseover="${pwn(7)}`],
    },
    { id: "vbscript", headline: "A vbscript link", url: "vbscript:msgbox(1)", content: ARTICLE },
    { id: "mixed-case-scheme", headline: "A mixed-case javascript link", url: ` JaVaScRiPt:alert(8)`, content: ARTICLE },
    { id: "tab-in-scheme", headline: "A javascript link with a tab", url: "java\tscript:alert(9)", content: ARTICLE },
    { id: "relative-url", headline: "A relative link", url: `${BEACON_PATH}?relative`, content: ARTICLE },
    { id: `</script><script>${pwn(10)}</script>`, content: ARTICLE },
    { id: "lone-surrogates", headline: "broken \ud800 UTF-16 \udfff here", url: "https://example.com/\ud800", content: `${ARTICLE} \udc00` },
    { id: "rtl-override", headline: "invoice\u202Egnp.exe", url: "https://example.com/rtl", content: ARTICLE, topics: ["\u202Eslanimirc"] },
    {
      id: "very-long",
      headline: `Long ${"headline-without-spaces-".repeat(8000)}`,
      url: `https://example.com/${"a".repeat(10_000)}`,
      content: `${ARTICLE} ${"Another sentence about the match. ".repeat(2000)}`,
      topics: ["x".repeat(5000)],
    },
    { id: "good-link", headline: "An ordinary https link", url: "https://example.com/news/final", content: ARTICLE },
  ];
}
