import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { REPO_ROOT } from "./cli.js";

/** Debian's chromium (apt-get install chromium; .ci/run installs it); CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Where the browser tests leave their screenshots (git-ignored). */
export const SCREENSHOTS = join(REPO_ROOT, "test-output", "browser");

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  await mkdir(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
}

/** A page that records what the tests assert on: console errors, uncaught errors, every request. */
export interface WatchedPage {
  page: Page;
  consoleErrors: string[];
  requests: string[];
}

export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const watched: WatchedPage = { page, consoleErrors: [], requests: [] };
  page.on("console", (message) => {
    if (message.type() === "error") watched.consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => watched.consoleErrors.push(`uncaught: ${error.message}`));
  page.on("request", (request) => watched.requests.push(request.url()));
  return watched;
}

/** The little of a canvas element the check reads (the test program has no DOM types). */
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

/**
 * Waits until the element's text is exactly `text` (or matches it). Polls from the test's side:
 * waitForFunction evaluates its predicate as a string in the page, which the pages' CSP forbids.
 */
export async function waitForText(page: Page, selector: string, text: string | RegExp, timeout = 20_000): Promise<void> {
  let seen: string | null = null;
  for (const giveUp = Date.now() + timeout; Date.now() < giveUp; await new Promise((r) => setTimeout(r, 25))) {
    seen = await page.textContent(selector);
    if (typeof text === "string" ? seen === text : text.test(seen ?? "")) return;
  }
  throw new Error(`${selector} still reads ${JSON.stringify(seen)}, not ${String(text)}, after ${timeout} ms`);
}

/** How many pixels of the canvas are not transparent: a drawn chart has thousands. */
export async function paintedPixels(page: Page, selector: string): Promise<number[]> {
  return page.$$eval(selector, (canvases) =>
    (canvases as unknown as CanvasLike[]).map((canvas) => {
      const context = canvas.getContext("2d");
      if (!context || canvas.width === 0 || canvas.height === 0) return 0;
      const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) painted++;
      return painted;
    }),
  );
}
