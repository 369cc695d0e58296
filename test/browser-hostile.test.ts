import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedEnv, REPO_ROOT, runCli, tempDir } from "./helpers/cli.js";
import { launchChromium, SCREENSHOTS, waitForText, watchedPage, type WatchedPage } from "./helpers/browser.js";
import { BEACON_PATH, hostileCorpus, type HostileItem } from "./helpers/hostile-corpus.js";
import { postItems, startServer } from "./helpers/server.js";

let browser: Browser;
/** A loopback server that only counts hits: an injected <img> or script would call it. */
let beaconServer: Server;
let beaconHits = 0;
let beacon = "";
beforeAll(async () => {
  browser = await launchChromium();
  beaconServer = createServer((_, res) => {
    beaconHits++;
    res.end();
  });
  await new Promise<void>((resolve) => beaconServer.listen(0, "127.0.0.1", resolve));
  beacon = `http://127.0.0.1:${(beaconServer.address() as { port: number }).port}${BEACON_PATH}`;
});
afterAll(async () => {
  await browser?.close();
  beaconServer?.close();
});

/** A page that also records every dialog (alert, confirm...) something opens. */
async function guardedPage(): Promise<WatchedPage & { dialogs: string[] }> {
  const watched = await watchedPage(browser);
  const dialogs: string[] = [];
  watched.page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return { ...watched, dialogs };
}

async function pwned(page: Page): Promise<unknown> {
  return page.evaluate("window.__pwned");
}

/**
 * The report's table as the hostile corpus must show it: every field as text, links only for
 * http(s) URLs, and nothing of the data running when each headline is clicked.
 */
async function checkHostileTable(page: Page, corpus: HostileItem[]): Promise<void> {
  await page.waitForSelector("body[data-ready=true]");
  expect(await page.textContent("#count")).toBe(`${corpus.length} of ${corpus.length} articles`);
  // Click every headline, links included (bar http(s) ones, which would leave for the internet):
  // a script in a link of the data would run now.
  const cells = page.locator("#articles tbody tr td:first-child");
  for (let i = 0; i < (await cells.count()); i++) {
    const cell = cells.nth(i);
    const link = cell.locator("a");
    const href = (await link.count()) > 0 ? await link.getAttribute("href") : null;
    if (href && /^https?:/i.test(href)) continue;
    await (href === null ? cell : link).click();
    expect(await pwned(page), `after clicking ${JSON.stringify(href)}`).toBeUndefined();
  }
  const links = await page.$$eval("#articles a", (anchors) => anchors.map((a) => (a as unknown as { href: string }).href));
  // Only the two items with a plain https URL of sane length link anywhere.
  expect(links).toEqual(["https://example.com/%EF%BF%BD", "https://example.com/rtl", "https://example.com/news/final"]);
  // Markup in the data is shown as text, not parsed.
  const headlines = await page.locator("#articles tbody tr td:first-child").allTextContents();
  expect(headlines).toContain(corpus[0]?.headline);
  expect(headlines).toContain(corpus[1]?.headline);
  expect(headlines).toContain(corpus[6]?.id);
  // Broken UTF-16 shows as U+FFFD, a bidi override as its code point, a very long field cut and counted.
  expect(headlines).toContain("broken \uFFFD UTF-16 \uFFFD here");
  expect(headlines).toContain("invoice[U+202E]gnp.exe");
  const long = headlines.find((h) => h.startsWith("Long "));
  expect(long).toMatch(/^Long (headline-without-spaces-){83}hea… \(190005 more characters\)$/);
  // The long field wraps inside its column: nothing sticks out sideways.
  expect(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")).toBe(true);

  // The search box takes the markup as a search term, nothing more.
  await page.fill("#search", "<script>");
  await waitForText(page, "#count", `2 of ${corpus.length} articles`);
  await page.fill("#search", "");
}

async function expectNothingRan(watched: WatchedPage & { dialogs: string[] }, allowed: (url: string) => boolean, expectedErrors?: RegExp): Promise<void> {
  expect(await pwned(watched.page)).toBeUndefined();
  expect(watched.dialogs).toEqual([]);
  expect(beaconHits).toBe(0);
  expect(watched.requests.filter((url) => !allowed(url))).toEqual([]);
  // A policy violation would show here ("Refused to ..."), as would any uncaught error.
  expect(watched.consoleErrors.filter((e) => !expectedErrors?.test(e))).toEqual([]);
}

describe("scraped text never becomes code (chromium, hostile corpus)", () => {
  it("news-moe report: only http(s) URLs link, markup shows as text, no script of the data runs; the file allows only its own inline code", async () => {
    const dir = await tempDir();
    const corpus = hostileCorpus(beacon);
    await writeFile(join(dir, "hostile.json"), JSON.stringify(corpus));
    const env = isolatedEnv(dir);
    const analysed = await runCli(["analyze", "hostile.json", "-o", "results.json", "--experts", "embedded", "--quiet"], { cwd: dir, env });
    expect(analysed.code, analysed.stderr).not.toBe(2);
    const title = `<script>${"window.__pwned=99"}</script> report`;
    const reported = await runCli(["report", "results.json", "--items", "hostile.json", "-o", "report.html", "--title", title], { cwd: dir, env });
    expect(reported.code, reported.stderr).toBe(0);

    const watched = await guardedPage();
    const url = pathToFileURL(join(dir, "report.html")).href;
    await watched.page.goto(url);
    expect(await watched.page.title()).toBe(title);
    await checkHostileTable(watched.page, corpus);
    await watched.page.screenshot({ path: join(SCREENSHOTS, "report-hostile.png"), fullPage: false });
    await expectNothingRan(watched, (u) => u === url);
    await watched.page.close();

    const html = await readFile(join(dir, "report.html"), "utf8");
    // One policy, first in the head: the report's own scripts and style by hash, no load from anywhere.
    const policy = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1]?.replace(/&#39;/g, "'") ?? "";
    expect(policy).toMatch(/^default-src 'none'; script-src 'sha256-[\w+/=]+' 'sha256-[\w+/=]+'; style-src 'sha256-[\w+/=]+'; img-src data:;/);
    expect(policy).not.toMatch(/unsafe|https?:|\*/);
    expect(html.indexOf("Content-Security-Policy")).toBeLessThan(html.indexOf("<title>"));
    // The payloads sit in the file only in escaped form.
    expect(html).not.toContain("<script>window.__pwned");
    expect(html).not.toContain('onerror="window');
  });

  it("news-moe serve: /report of the hostile items, the try page fed them, and the error pages run nothing of the data", async () => {
    const server = await startServer(["--experts", "embedded"]);
    try {
      const corpus = hostileCorpus(beacon);
      const posted = await postItems(server.url, JSON.stringify(corpus));
      expect(posted.status).toBe(200);

      const watched = await guardedPage();
      const { page } = watched;
      const origin = new URL(server.url).origin;
      await page.goto(`${server.url}/report`);
      await checkHostileTable(page, corpus);

      // The try page echoes what is pasted: as text.
      await page.goto(`${server.url}/`);
      await page.fill("#headline", corpus[1]?.headline ?? "");
      await page.fill("#content", `${corpus[0]?.content ?? ""} <img src="${beacon}" onerror="window.__pwned=20">`);
      await page.click("button[type=submit]");
      await page.waitForSelector("#result:not([hidden])");
      const record = JSON.parse((await page.textContent("#record")) ?? "") as { headline: string };
      expect(record.headline).toBe(corpus[1]?.headline);
      expect(await page.locator("#result img, #result svg, #result script").count()).toBe(0);

      // Error answers are JSON or text, never HTML, whatever they echo.
      for (const path of [`/%3Cscript%3Ewindow.__pwned=30%3C/script%3E`, "/v1/analyze"]) {
        const answer = await page.goto(`${server.url}${path}`);
        expect(answer?.headers()["content-type"]).toMatch(/^(application\/json|text\/plain)/);
        expect(await pwned(page)).toBeUndefined();
      }
      await expectNothingRan(watched, (u) => new URL(u).origin === origin, /^Failed to load resource: the server responded with a status of 40[45] /);
      await page.close();
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });
});

describe("news-moe serve --token: the try page's link to /report (chromium)", () => {
  it("asks for the token, then opens the report through an HttpOnly cookie the page's script cannot read", async () => {
    const dir = await tempDir();
    const token = "browser-test-token";
    const server = await startServer(["--experts", "embedded", "--token", token], { env: isolatedEnv(dir) });
    try {
      const watched = await guardedPage();
      const { page } = watched;
      await page.goto(`${server.url}/`);
      await page.click("#report-link");
      await waitForText(page, "#status", "Enter the token to open the report.");
      await page.fill("#token", "wrong-token-value");
      await page.click("#report-link");
      await waitForText(page, "#status", "The token was refused.");
      await page.fill("#token", token);
      await Promise.all([page.waitForURL(`${server.url}/report`), page.click("#report-link")]);
      await page.waitForSelector("body[data-ready=true]");
      expect(await page.textContent("#count")).toBe("0 of 0 articles");
      expect(await page.evaluate("document.cookie")).toBe("");
      // A reload (a plain GET, no script involved) still gets in: the cookie rides along.
      const again = await page.reload();
      expect(again?.status()).toBe(200);
      // Two 401 answers to the wrong tries were expected; nothing else went wrong.
      expect(watched.consoleErrors.filter((e) => !e.includes("401"))).toEqual([]);
      await page.close();
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });
});

describe("news-moe serve: the try page says what happened (chromium)", () => {
  it("'Done.' only when every task gave a result; errors and skips are named", async () => {
    const plugin = join(REPO_ROOT, "test/fixtures/plugins/failing-experts.mjs");
    const broken = await startServer(["--plugin", plugin, "--experts", "BrokenSummarizer,BrokenSentiment"]);
    const working = await startServer(["--experts", "embedded"]);
    try {
      const { page, consoleErrors } = await guardedPage();
      const tryArticle = async (url: string, content: string) => {
        await page.goto(`${url}/`);
        await page.fill("#content", content);
        await page.click("button[type=submit]");
        await page.waitForSelector("#result:not([hidden])");
        await waitForText(page, "#status", /^(?!Analysing)/);
        return { text: await page.textContent("#status"), error: await page.getAttribute("#status", "class") };
      };
      const english = "The home side won the cup final in the last minute, and the crowd sang for an hour after the whistle.";
      expect(await tryArticle(broken.url, english)).toEqual({
        text:
          "No result: NewsSummarizationLLMExpert (BrokenSummarizer): BrokenSummarizer is broken on purpose; " +
          "SentimentAnalysisLLMExpert (BrokenSentiment): BrokenSentiment is broken on purpose.",
        error: "error",
      });
      await page.screenshot({ path: join(SCREENSHOTS, "serve-try-page-errors.png"), fullPage: true });
      expect(await tryArticle(working.url, english)).toEqual({ text: "Done.", error: "" });
      // Spanish: no sentiment expert reads it, so that task is skipped (not an error).
      const spanish = "El equipo local ganó la final de la copa en el último minuto y la afición cantó durante una hora.";
      const skipped = await tryArticle(working.url, spanish);
      expect(skipped.text).toMatch(/^Done; SentimentAnalysisLLMExpert: skipped: language "spa" .*\.$/);
      expect(skipped.error).toBe("");
      expect(consoleErrors).toEqual([]);
      await page.close();
    } finally {
      expect((await broken.stop()).code).toBe(0);
      expect((await working.stop()).code).toBe(0);
    }
  });
});
