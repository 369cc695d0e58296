import { chartJsBundle, escapeHtml, jsonForScript, scriptSafe } from "./inline-assets.js";
import { contentSecurityPolicy } from "./content-policy.js";
import { REPORT_SCRIPT } from "./report-script.js";
import type { ReportRow } from "./report-row.js";
import { summarize, type ReportSummary } from "./report-summary.js";
import { displayText, linkableUrl } from "./untrusted-text.js";

export interface RenderOptions {
  title?: string;
  /** Where the records came from, shown under the title. */
  source?: string;
  generatedAt?: Date;
}

const REPORT_STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
h1 { margin: 0 0 .2rem; font-size: 1.5rem; }
.meta { color: #666; margin-bottom: 1rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(26rem, 1fr)); gap: 1rem; }
.chart { margin: 0; border: 1px solid #ddd; border-radius: 6px; padding: .6rem; }
.chart figcaption { font-weight: 600; margin-bottom: .4rem; }
.chart figcaption .hint { font-weight: normal; color: #666; font-size: .9em; }
.plot { position: relative; height: 17rem; }
.empty { color: #888; font-style: italic; }
.controls { margin: 1.5rem 0 .5rem; display: flex; gap: .8rem; align-items: center; flex-wrap: wrap; }
#search { font: inherit; padding: .35rem; min-width: 22rem; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { border-bottom: 1px solid #e4e4e4; padding: .35rem .4rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { cursor: pointer; user-select: none; background: #f6f6f6; position: sticky; top: 0; }
th[aria-sort="ascending"]::after { content: " ▲"; }
th[aria-sort="descending"]::after { content: " ▼"; }
td.summary { font-size: .92em; }
.POSITIVE { color: #17803d; } .NEGATIVE { color: #b3261e; } .NEUTRAL { color: #666; } .skipped { color: #777; font-style: italic; }
.note { color: #17803d; margin: 1rem 0; }
col.c0 { width: 16%; } col.c1 { width: 28%; } col.c2 { width: 8%; } col.c3 { width: 11%; } col.c4 { width: 17%; } col.c5 { width: 7%; } col.c6 { width: 6%; } col.c7 { width: 7%; }
`;

/**
 * The report's Content-Security-Policy: its two inline scripts and its style by hash, nothing
 * else (no load from anywhere). In the file as a <meta> element; `serve` also sends it as a header.
 */
export function reportPolicy(delivery: "header" | "meta"): string {
  return contentSecurityPolicy({ scripts: [chartJsBundle(), reportScript()], styles: [REPORT_STYLE], delivery });
}

function reportScript(): string {
  return scriptSafe(REPORT_SCRIPT);
}

/** Columns of the table, in the order each row's array holds them (see tableRow). */
export const TABLE_COLUMNS = ["Headline", "Summary", "Sentiment", "Experts", "Routing reason", "Topic", "Date", "Errors"] as const;

/** What a table cell says for a task the gate skipped (the reason is among the routing reasons). */
const SKIPPED = "skipped";

/**
 * A row as the page's table holds it: plain strings and one number, compact and linear in size.
 * Every scraped field goes through displayText, and the url only if it may be a link.
 */
function tableRow(row: ReportRow): Array<string | number | null> {
  return [
    displayText(row.headline || row.id || ""),
    linkableUrl(row.url),
    row.summary === "" && row.skipped.includes("summarization") ? SKIPPED : displayText(row.summary),
    row.sentiment || (row.skipped.includes("sentiment") ? SKIPPED : ""),
    row.score === null ? null : Math.round(row.score * 1000) / 1000,
    displayText(row.experts.join(", ")),
    displayText(row.reasons.join("; ")),
    displayText(row.topics.join(", ")),
    row.date ?? "",
    displayText(row.errors.join("; ")),
  ];
}

const CHARTS: Array<{ id: string; title: string; needsFacts?: string; hint?: (summary: ReportSummary) => string }> = [
  { id: "sentiment", title: "Sentiment" },
  {
    id: "topics",
    title: "Sentiment by topic",
    needsFacts: "topics",
    hint: ({ byTopic }) =>
      byTopic.labels.length === 0
        ? ""
        : `an article counts under each of its topics${byTopic.total > byTopic.labels.length ? `; the ${byTopic.labels.length} most frequent of ${byTopic.total} topics` : ""}`,
  },
  { id: "time", title: "Sentiment over publication date", needsFacts: "publication dates" },
  { id: "experts", title: "Expert activations and fallbacks" },
  { id: "reasons", title: "Routing reasons" },
  { id: "errors", title: "Errors" },
  { id: "lengths", title: "Summary length vs article length (characters)", needsFacts: "article lengths" },
];

/**
 * One self-contained HTML file: styles, Chart.js and the data inline, no request to anywhere.
 * The table is paginated in the page, so 100,000 rows cost one array in memory and 50 rows of DOM.
 */
export function renderReport(rows: ReportRow[], options: RenderOptions = {}): string {
  const title = options.title ?? "news-moe report";
  const summary = summarize(rows);
  const generated = (options.generatedAt ?? new Date()).toISOString();
  const charts = CHARTS.map((chart) => {
    const hint = chart.hint?.(summary) ?? "";
    return `<figure class="chart"><figcaption>${escapeHtml(chart.title)}${hint ? ` <span class="hint">(${escapeHtml(hint)})</span>` : ""}</figcaption><div class="plot" data-chart="${chart.id}"${
      chart.needsFacts ? ` data-needs="${escapeHtml(chart.needsFacts)}"` : ""
    }></div></figure>`;
  }).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(reportPolicy("meta"))}">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style>${REPORT_STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div class="meta">${summary.records} records${options.source ? ` from ${escapeHtml(options.source)}` : ""}; generated ${escapeHtml(generated)}</div>
<section class="charts">
${charts}
</section>
<div class="controls">
<input id="search" type="search" placeholder="Search headline, summary, experts, reasons…" aria-label="Search articles">
<span id="count" role="status"></span>
<button id="prev" type="button">‹ Previous</button>
<span id="page"></span>
<button id="next" type="button">Next ›</button>
</div>
<table id="articles">
<colgroup>${TABLE_COLUMNS.map((_, i) => `<col class="c${i}">`).join("")}</colgroup>
<thead><tr>${TABLE_COLUMNS.map((name, i) => `<th data-column="${i}" scope="col">${escapeHtml(name)}</th>`).join("")}</tr></thead>
<tbody></tbody>
</table>
<script type="application/json" id="summary-data">${jsonForScript(summary)}</script>
<script type="application/json" id="rows-data">${jsonForScript(rows.map(tableRow))}</script>
<script>${chartJsBundle()}</script>
<script>${reportScript()}</script>
</body>
</html>
`;
}
