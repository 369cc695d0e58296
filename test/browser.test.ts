import { execFile } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLES, isolatedEnv, REPO_ROOT, runCli, tempDir } from "./helpers/cli.js";
import { launchChromium, paintedPixels, SCREENSHOTS, waitForText, watchedPage } from "./helpers/browser.js";
import { startServer } from "./helpers/server.js";

const execFileAsync = promisify(execFile);

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** analyze (embedded experts) then report, both real processes; returns the report's path. */
async function reportOf(input: string, dir: string): Promise<{ html: string; stderr: string }> {
  const analysed = await runCli(["analyze", input, "-o", "results.json", "--experts", "embedded", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
  expect(analysed.code, analysed.stderr).not.toBe(2);
  const reported = await runCli(["report", "results.json", "--items", input, "-o", "report.html"], { cwd: dir, env: isolatedEnv(dir) });
  expect(reported.code, reported.stderr).toBe(0);
  return { html: join(dir, "report.html"), stderr: reported.stderr };
}

/** Opens a report file and checks what every report must show; returns the page for more. */
async function openReport(html: string, records: number, screenshot: string, charts = 7) {
  const watched = await watchedPage(browser);
  const { page } = watched;
  const url = pathToFileURL(html).href;
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]");
  // Seven charts (six and a note for a run without errors), each drawn: a canvas with thousands of painted pixels.
  const painted = await paintedPixels(page, ".plot canvas");
  expect(painted).toHaveLength(charts);
  if (charts === 6) expect(await page.textContent(".chart .note")).toBe("No errors: every item was valid and every expert succeeded on it.");
  for (const pixels of painted) expect(pixels).toBeGreaterThan(1000);
  expect(await page.textContent("#count")).toBe(`${records} of ${records} articles`);
  expect(await page.locator("#articles tbody tr").count()).toBe(Math.min(50, records));
  await page.screenshot({ path: join(SCREENSHOTS, screenshot), fullPage: true });
  return { ...watched, url };
}

describe("news-moe report in a real browser (chromium)", () => {
  it("renders the example's report: charts drawn, search and sort work, no console error, no network request", async () => {
    const dir = await tempDir();
    const { html } = await reportOf(EXAMPLES, dir);
    const { page, consoleErrors, requests, url } = await openReport(html, 16, "report-example.png");

    await page.fill("#search", "hartley vale");
    await waitForText(page, "#count", "1 of 16 articles");
    const headlines = await page.locator("#articles tbody tr td:first-child").allTextContents();
    expect(headlines).toEqual(["Hartley Vale end 62-year wait for league title with thumping win"]);
    await page.screenshot({ path: join(SCREENSHOTS, "report-example-search.png"), fullPage: true });

    // Sorting by headline puts the table in the order a plain sort of the example's headlines gives.
    await page.fill("#search", "");
    await waitForText(page, "#count", "16 of 16 articles");
    await page.click("th[data-column='0']");
    const examples = JSON.parse(await readFile(EXAMPLES, "utf8")) as Array<{ id: string; headline?: string }>;
    const expected = examples.map((e) => e.headline ?? e.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(await page.locator("#articles tbody tr td:first-child").allTextContents()).toEqual(expected);

    expect(consoleErrors).toEqual([]);
    expect(requests).toEqual([url]);
    await page.close();
  });

  it("renders the report of a 10,000-item generated run, and its search filters the table", async () => {
    const dir = await tempDir();
    const input = join(dir, "items.json");
    await execFileAsync(process.execPath, [join(REPO_ROOT, "scripts/generate-news.mjs"), "--count", "10000", "--seed", "3", "--max-words", "150", "--out", input]);
    const { html, stderr } = await reportOf(input, dir);
    const bytes = (await stat(html)).size;
    // The report says its size per record beyond the page and Chart.js (the file grows linearly with the records).
    const sizes = /10000 records, (\d+) bytes \((\d+) bytes of page and Chart\.js, (\d+) bytes per record\)/.exec(stderr);
    expect(Number(sizes?.[1])).toBe(bytes);
    expect(Math.abs(Number(sizes?.[2]) + Number(sizes?.[3]) * 10000 - bytes)).toBeLessThanOrEqual(5000);

    // The generated items are all valid and every expert succeeds on them: no errors chart.
    const { page, consoleErrors, requests, url } = await openReport(html, 10000, "report-10k.png", 6);
    // A term from one item's headline: the table shows exactly the items whose text holds it.
    const items = JSON.parse(await readFile(input, "utf8")) as Array<{ headline: string }>;
    const word = (items[1234]?.headline ?? "").split(" ").sort((a, b) => b.length - a.length)[0]?.toLowerCase() ?? "";
    const results = JSON.parse(await readFile(join(dir, "results.json"), "utf8")) as Array<Record<string, unknown>>;
    const matching = results.filter((r) => JSON.stringify([r.headline, r.analyses, r.routing]).toLowerCase().includes(word)).length;
    await page.fill("#search", word);
    await waitForText(page, "#count", `${matching} of 10000 articles`);
    expect(matching).toBeGreaterThan(0);
    expect(matching).toBeLessThan(10000);
    await page.screenshot({ path: join(SCREENSHOTS, "report-10k-search.png") });
    expect(consoleErrors).toEqual([]);
    expect(requests).toEqual([url]);
    await page.close();
  });
});

describe("news-moe serve's pages in a real browser", () => {
  it("the page at / round-trips an article: the analysis shown is the record analyze writes for it", async () => {
    const server = await startServer(["--experts", "embedded"]);
    try {
      const { page, consoleErrors, requests } = await watchedPage(browser);
      await page.goto(`${server.url}/`);
      const examples = JSON.parse(await readFile(EXAMPLES, "utf8")) as Array<{ headline: string; content: string }>;
      const article = examples[0] as { headline: string; content: string };
      await page.fill("#headline", article.headline);
      await page.fill("#content", article.content);
      await page.click("button[type=submit]");
      await page.waitForSelector("#result:not([hidden])");
      const shown = JSON.parse((await page.textContent("#record")) ?? "") as { id: string };
      expect(await page.locator("#analyses tbody tr").count()).toBe(2);
      expect(await page.locator("#routing tbody tr").count()).toBeGreaterThan(0);
      await page.screenshot({ path: join(SCREENSHOTS, "serve-try-page.png"), fullPage: true });

      // The same item through analyze (real process) gives the record the page showed.
      const dir = await tempDir();
      await writeFile(join(dir, "one.json"), JSON.stringify([{ id: shown.id, headline: article.headline, content: article.content }]));
      const analysed = await runCli(["analyze", "one.json", "-o", "-", "--experts", "embedded", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
      expect(shown).toEqual(JSON.parse(analysed.stdout));

      // The live report of what the server analysed: drawn, same origin only.
      await page.goto(`${server.url}/report`);
      await page.waitForSelector("body[data-ready=true]");
      expect(await page.textContent("#count")).toBe("1 of 1 articles");
      const painted = await paintedPixels(page, ".plot canvas");
      expect(painted.length).toBeGreaterThan(0);
      for (const pixels of painted) expect(pixels).toBeGreaterThan(1000);
      await page.screenshot({ path: join(SCREENSHOTS, "serve-report.png"), fullPage: true });

      expect(consoleErrors).toEqual([]);
      const origin = new URL(server.url).origin;
      expect(requests.filter((r) => new URL(r).origin !== origin)).toEqual([]);
      expect(requests).toEqual([`${origin}/`, `${origin}/v1/analyze`, `${origin}/report`]);
      await page.close();
    } finally {
      await server.stop();
    }
  });
});
