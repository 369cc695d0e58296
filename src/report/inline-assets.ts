import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

let chartJs: string | undefined;

/**
 * Chart.js's browser bundle, read from the installed package so the report needs no network. The
 * source-map comment goes (the map is not shipped) and "</script" is broken up so the bundle can
 * sit inside a <script> element.
 */
export function chartJsBundle(): string {
  if (chartJs === undefined) {
    const main = createRequire(import.meta.url).resolve("chart.js");
    const bundle = readFileSync(join(dirname(main), "chart.umd.min.js"), "utf8");
    chartJs = scriptSafe(bundle.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"));
  }
  return chartJs;
}

/** Text that can stand inside a <script> element without ending it. */
export function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/** JSON for a <script type="application/json"> element: "<" escaped, so no tag can close it. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
