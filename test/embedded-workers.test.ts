import { existsSync, readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import type { NewsItem } from "../src/core/news-item.js";
import { ExtractiveSummarizerExpert, LexiconSentimentExpert } from "../src/experts/embedded/index.js";
import { LEXICON_SENTIMENT_ON_POOL } from "../src/experts/embedded/lexicon-sentiment.js";
import { analyzeOnPool, EmbeddedWorkerPool, embeddedWorkerCount } from "../src/experts/embedded/worker-pool.js";

// Workers run the compiled expert (`npm test` builds first): the pool needs a .js entry point.
const WORKER = new URL("../dist/experts/embedded/embedded-worker.js", import.meta.url);
const examples = JSON.parse(readFileSync(new URL("../examples/news-data.json", import.meta.url), "utf8")) as NewsItem[];
const context = { warn: () => {} };

describe("embedded experts on worker threads", () => {
  const pool = new EmbeddedWorkerPool(2, WORKER);
  afterAll(() => pool.close());

  it.runIf(existsSync(WORKER))("gives exactly the inline results, errors included, in input order", async () => {
    const options = { sentences: 2 } as const;
    const inlineSummaries = await new ExtractiveSummarizerExpert({ ...options, workers: false }).analyze(examples, context);
    const pooledSummaries = await new ExtractiveSummarizerExpert({ ...options, workers: pool }).analyze(examples, context);
    expect(pooledSummaries.map(String)).toEqual(inlineSummaries.map(String));
    expect(pooledSummaries.filter((r) => !(r instanceof Error))).toEqual(inlineSummaries.filter((r) => !(r instanceof Error)));

    const inlineSentiment = await new LexiconSentimentExpert({ workers: false }).analyze(examples, context);
    const pooledSentiment = await new LexiconSentimentExpert({ workers: pool }).analyze(examples, context);
    expect(pooledSentiment.filter((r) => !(r instanceof Error))).toEqual(inlineSentiment.filter((r) => !(r instanceof Error)));
    // The empty-content item fails alone, with the same message, in its own slot.
    const emptyAt = examples.findIndex((e) => e.content === "");
    expect(pooledSentiment[emptyAt]).toBeInstanceOf(Error);
    expect((pooledSentiment[emptyAt] as Error).message).toBe((inlineSentiment[emptyAt] as Error).message);
    expect(pooledSentiment.filter((r) => r instanceof Error)).toHaveLength(1);
  });

  it.runIf(existsSync(WORKER))("runs chunks on several workers at once and stops accepting work when closed", async () => {
    const own = new EmbeddedWorkerPool(3, WORKER);
    const items = examples.filter((e) => e.content !== "").map(({ id, content }) => ({ id, content }));
    const results = await own.runSplit(LEXICON_SENTIMENT_ON_POOL, {}, items);
    expect(results).toHaveLength(items.length);
    expect(results.every((r) => "ok" in r)).toBe(true);
    await own.close();
    await expect(own.run(LEXICON_SENTIMENT_ON_POOL, {}, items)).rejects.toThrow(/closed/);
  });

  it("redoes on the calling thread the items of a worker that died, and says why when it cannot", async () => {
    const dying = new EmbeddedWorkerPool(1, new URL("./fixtures/workers/dying-worker.mjs", import.meta.url));
    const expert = new LexiconSentimentExpert({ workers: false });
    const items = examples.filter((e) => e.content !== "").slice(0, 3);
    const redone = await analyzeOnPool(dying, LEXICON_SENTIMENT_ON_POOL, {}, items, undefined, (own) => expert.analyzeInline(own));
    expect(redone).toEqual(expert.analyzeInline(items));
    const failed = await analyzeOnPool(dying, LEXICON_SENTIMENT_ON_POOL, {}, items.slice(0, 1));
    expect(failed[0]).toBeInstanceOf(Error);
    expect((failed[0] as Error).message).toBe("embedded worker failed: exited with code 3");
    await dying.close();
  });

  it("reads the worker count from NEWS_MOE_EMBEDDED_WORKERS, 0 meaning inline", () => {
    expect(embeddedWorkerCount({ NEWS_MOE_EMBEDDED_WORKERS: "0" })).toBe(0);
    expect(embeddedWorkerCount({ NEWS_MOE_EMBEDDED_WORKERS: "3" })).toBe(3);
    expect(() => embeddedWorkerCount({ NEWS_MOE_EMBEDDED_WORKERS: "two" })).toThrow(/whole number/);
    expect(embeddedWorkerCount({})).toBeGreaterThanOrEqual(0);
  });
});
