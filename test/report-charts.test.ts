import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLES, isolatedEnv, runCli, tempDir } from "./helpers/cli.js";
import { launchChromium, SCREENSHOTS, watchedPage } from "./helpers/browser.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** What each drawn chart is, read from Chart.js itself in the page. */
interface DrawnChart {
  id: string;
  type: string;
  labels: Array<string | string[]>;
  datasets: Array<{ label: string; data: number[] }>;
  plugins: string[];
  scales: Array<{ id: string; type: string; title: string; ticks: number[]; width: number; maxWidth: number; vertical: boolean }>;
}

// A string, not a function: the test program has no DOM types, and this runs as the page's own code would.
const READ_CHARTS = `Array.from(document.querySelectorAll("[data-chart] canvas")).map((canvas) => {
  const chart = Chart.getChart(canvas);
  return {
    id: canvas.parentElement.getAttribute("data-chart"),
    type: chart.config.type,
    labels: chart.data.labels || [],
    datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data })),
    plugins: (chart.config.plugins || []).map((p) => p.id),
    scales: Object.values(chart.scales).map((s) => ({
      id: s.id, type: s.type, title: s.options.title && s.options.title.display ? s.options.title.text : "",
      ticks: s.ticks.map((t) => t.value), width: s.width, maxWidth: s.maxWidth, vertical: !s.isHorizontal(),
    })),
  };
})`;

async function openReport(input: string, name: string): Promise<{ page: Page; charts: DrawnChart[]; results: Array<Record<string, unknown>>; consoleErrors: string[] }> {
  const dir = await tempDir();
  const env = isolatedEnv(dir);
  const analysed = await runCli(["analyze", input, "-o", "results.json", "--experts", "embedded", "--quiet"], { cwd: dir, env });
  expect(analysed.code, analysed.stderr).not.toBe(2);
  const reported = await runCli(["report", "results.json", "--items", input, "-o", "report.html"], { cwd: dir, env });
  expect(reported.code, reported.stderr).toBe(0);
  const { page, consoleErrors } = await watchedPage(browser);
  await page.goto(pathToFileURL(join(dir, "report.html")).href);
  await page.waitForSelector("body[data-ready=true]");
  await page.locator(".charts").screenshot({ path: join(SCREENSHOTS, `${name}-charts.png`) });
  const charts = (await page.evaluate(READ_CHARTS)) as DrawnChart[];
  const results = JSON.parse(await readFile(join(dir, "results.json"), "utf8")) as Array<Record<string, unknown>>;
  return { page, charts, results, consoleErrors };
}

function chart(charts: DrawnChart[], id: string): DrawnChart {
  const found = charts.find((c) => c.id === id);
  if (!found) throw new Error(`no ${id} chart among ${charts.map((c) => c.id).join(", ")}`);
  return found;
}

const ARTICLE = "The visitors scored twice in the second half to win the final. Their captain said the team had trained hard all winter.";

describe("the report's charts (chromium)", () => {
  it("the example: axis titles, whole-number ticks on counts, every topic counted, numbers on the donut, a skipped task says so", async () => {
    const { page, charts, results, consoleErrors } = await openReport(EXAMPLES, "report-charts-example");
    const items = JSON.parse(await readFile(EXAMPLES, "utf8")) as Array<{ topics?: string[] }>;
    expect(charts.map((c) => c.id)).toEqual(["sentiment", "topics", "time", "experts", "reasons", "errors", "lengths"]);

    // Every axis says what it shows; every count axis ticks at whole numbers only.
    for (const drawn of charts.filter((c) => c.type !== "doughnut")) {
      for (const scale of drawn.scales) {
        expect(scale.title, `${drawn.id}.${scale.id}`).not.toBe("");
        if (scale.type === "linear" && drawn.type === "bar") {
          expect(scale.ticks.every((t) => Number.isInteger(t)), `${drawn.id}.${scale.id}: ${scale.ticks.join(",")}`).toBe(true);
        }
      }
    }
    // The example has one error per expert at most: the errors axis reads 0 and 1, not 0.2 steps.
    expect(chart(charts, "errors").scales.find((s) => s.type === "linear")?.ticks).toEqual([0, 1]);

    // Every topic of an item counts, not only its first: the bars add up to the items holding the topic.
    const topics = chart(charts, "topics");
    const holding = (topic: string) => items.filter((i) => i.topics?.includes(topic)).length;
    const barTotal = (label: string) => {
      const at = topics.labels.findIndex((l) => (Array.isArray(l) ? l.join(" ") : l) === label);
      return topics.datasets.reduce((sum, d) => sum + (d.data[at] ?? 0), 0);
    };
    expect(barTotal("Football")).toBe(holding("Football"));
    expect(barTotal("Women's Football")).toBe(2);
    expect(barTotal("Spanish football")).toBe(1);
    const distinct = new Set(items.flatMap((i) => i.topics ?? [])).size;
    expect(await page.textContent("figure:has([data-chart=topics]) figcaption")).toContain(
      `the 12 most frequent of ${distinct} topics`,
    );

    // The donut: each count in the legend and drawn on its slice.
    const sentiments = results.map((r) => {
      const value = (r.analyses as Record<string, { sentiment_label?: string; skipped?: boolean }>).SentimentAnalysisLLMExpert;
      return value?.sentiment_label ?? (value?.skipped ? "skipped" : "none");
    });
    const donut = chart(charts, "sentiment");
    const expected = ["POSITIVE", "NEUTRAL", "NEGATIVE", "skipped", "none"]
      .map((s) => [s, sentiments.filter((x) => x === s).length] as const)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${s}: ${n} (${Math.round((n * 100) / results.length)}%)`);
    expect(donut.labels).toEqual(expected);
    expect(donut.plugins).toContain("sliceNumbers");
    // White digits on the largest (grey) slice, where it has its middle: ink without a hover.
    const inked = (await page.evaluate(`(() => {
      const canvas = document.querySelector("[data-chart=sentiment] canvas");
      const chart = Chart.getChart(canvas);
      const values = chart.data.datasets[0].data;
      const largest = values.indexOf(Math.max(...values));
      const at = chart.getDatasetMeta(0).data[largest].tooltipPosition();
      const ratio = canvas.width / canvas.clientWidth;
      const pixels = canvas.getContext("2d").getImageData(Math.round((at.x - 8) * ratio), Math.round((at.y - 8) * ratio), Math.round(16 * ratio), Math.round(16 * ratio)).data;
      let white = 0;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i] > 240 && pixels[i + 1] > 240 && pixels[i + 2] > 240 && pixels[i + 3] > 240) white++;
      return white;
    })()`)) as number;
    expect(inked).toBeGreaterThan(5);

    // The Spanish item's sentiment was skipped: the table says "skipped", not nothing.
    const spanish = page.locator("#articles tbody tr", { hasText: "Villanueva" });
    expect(await spanish.locator("td").nth(2).textContent()).toBe("skipped");
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it("long labels are wrapped, not cut off; a run without errors says so instead of drawing empty axes", async () => {
    const dir = await tempDir();
    const input = join(dir, "long-labels.json");
    const longTopic = "International football tournaments and qualifiers of the season";
    const longWord = "Supercalifragilisticexpialidocioussportsclubnamewithoutspaces";
    await writeFile(
      input,
      JSON.stringify([
        { id: "1", headline: "One", content: ARTICLE, topics: [longTopic, "Transfers"], publication_date: "2024-05-01" },
        { id: "2", headline: "Two", content: ARTICLE, topics: [longWord, "Transfers"], publication_date: "2024-05-02" },
        { id: "3", headline: "Three", content: ARTICLE, topics: ["Transfers"], publication_date: "2024-05-02" },
      ]),
    );
    const { page, charts, consoleErrors } = await openReport(input, "report-charts-long-labels");
    // No errors: a note, not a chart of zeros.
    expect(charts.map((c) => c.id)).not.toContain("errors");
    expect(await page.textContent("figure:has(figcaption:text-is('Errors')) .note")).toBe("No errors: every item was valid and every expert succeeded on it.");

    // The long labels are on lines of at most 28 characters, whole words kept together where they fit,
    // and each category axis is narrower than the most Chart.js would give it (where it starts cutting).
    const topics = chart(charts, "topics");
    expect(topics.labels).toContainEqual(["International football", "tournaments and qualifiers", "of the season"]);
    expect(topics.labels).toContainEqual(["Supercalifragilisticexpialid", "ocioussportsclubnamewithouts", "paces"]);
    for (const drawn of charts.filter((c) => c.type === "bar")) {
      for (const scale of drawn.scales.filter((s) => s.vertical && s.type === "category")) {
        expect(scale.width, `${drawn.id}.${scale.id}`).toBeLessThan(scale.maxWidth);
      }
      for (const label of drawn.labels) for (const line of [label].flat()) expect(line.length).toBeLessThanOrEqual(28);
    }
    const reasons = chart(charts, "reasons");
    expect(reasons.scales.find((s) => s.type === "category")?.width).toBeLessThan(reasons.scales.find((s) => s.type === "category")?.maxWidth ?? 0);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });
});
