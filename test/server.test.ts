import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLES, isolatedEnv, REPO_ROOT, runCli, startCli, tempDir } from "./helpers/cli.js";
import { metricValue, postItems, startServer, type ServerProcess } from "./helpers/server.js";

const execFileAsync = promisify(execFile);
const SUMMARIZER_DIR = join(REPO_ROOT, "test/fixtures/models/tiny-distilbart-cnn-6-6");
const SENTIMENT_DIR = join(REPO_ROOT, "test/fixtures/models/tiny-distilbert-sst2");
const NEURAL = ["--summarizer-model", SUMMARIZER_DIR, "--sentiment-model", SENTIMENT_DIR, "--offline", "--max-length", "40", "--min-length", "5"];

/** What `news-moe analyze` (a real process) writes as JSON Lines for these items: the expected records. */
async function analyzeLines(items: unknown[], flags: string[]): Promise<string[]> {
  const dir = await tempDir();
  await writeFile(join(dir, "in.json"), JSON.stringify(items));
  const result = await runCli(["analyze", "in.json", "-o", "out.jsonl", "--format", "jsonl", "--quiet", ...flags], { cwd: dir, env: isolatedEnv(dir) });
  expect(result.code, result.stderr).not.toBe(2);
  return (await readFile(join(dir, "out.jsonl"), "utf8")).split("\n").filter(Boolean);
}

async function generated(count: number, seed: number): Promise<Array<{ id: string }>> {
  const dir = await tempDir();
  const out = join(dir, "items.json");
  await execFileAsync(process.execPath, [join(REPO_ROOT, "scripts/generate-news.mjs"), "--count", String(count), "--seed", String(seed), "--out", out, "--max-words", "300"]);
  return JSON.parse(await readFile(out, "utf8")) as Array<{ id: string }>;
}

let examples: unknown[];
beforeAll(async () => {
  examples = JSON.parse(await readFile(EXAMPLES, "utf8")) as unknown[];
});

describe("news-moe serve (real server on a loopback port, embedded experts)", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(["--experts", "embedded", "--batch-wait", "100"]);
  });
  afterAll(async () => {
    const result = await server.stop();
    expect(result.code).toBe(0);
  });

  it("answers with the records analyze writes, byte for byte: array, NDJSON, streamed NDJSON and one object", async () => {
    // Two bad items besides the example: their error records name them by their place in the request.
    const items = [...examples, { id: "no-content", headline: "x" }, 42];
    const expected = await analyzeLines(items, ["--experts", "embedded"]);
    expect(expected).toHaveLength(items.length);

    const array = await postItems(server.url, JSON.stringify(items));
    expect(array.status).toBe(200);
    expect(array.headers.get("content-type")).toMatch(/^application\/json/);
    expect(array.text).toBe(`[${expected.join(",")}]`);

    const ndjson = items.map((item) => JSON.stringify(item)).join("\n");
    const lines = await postItems(server.url, ndjson, { "Content-Type": "application/x-ndjson" });
    expect(lines.status).toBe(200);
    expect(lines.text).toBe(`${expected.join("\n")}\n`);

    const streamed = await postItems(server.url, JSON.stringify(items), { "Content-Type": "application/json", Accept: "application/x-ndjson" });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(streamed.text).toBe(`${expected.join("\n")}\n`);

    const one = await postItems(server.url, JSON.stringify(items[0]));
    expect(one.text).toBe(expected[0]);
    expect(JSON.parse(expected[items.length - 1] as string).error).toMatch(/^item 17: expected an object, got number/);
  });

  it("answers 64 concurrent requests of 1-20 items, each item exactly once, in expert batches larger than any request", async () => {
    const items = await generated(700, 12);
    // Request sizes 1..20 from a fixed sequence, so the test is the same every time.
    const sizes = Array.from({ length: 64 }, (_, i) => 1 + ((i * 7 + 3) % 20));
    const requests: Array<Array<{ id: string }>> = [];
    let at = 0;
    for (const size of sizes) {
      requests.push(items.slice(at, at + size));
      at += size;
    }
    const sent = items.slice(0, at);
    const expected = await analyzeLines(sent, ["--experts", "embedded"]);
    const before = await (await fetch(`${server.url}/metrics`)).text();

    const answers = await Promise.all(requests.map((batch) => postItems(server.url, JSON.stringify(batch))));
    let position = 0;
    for (const [i, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      const records = JSON.parse(answer.text) as Array<{ id: string }>;
      expect(records.map((r) => r.id)).toEqual(requests[i]?.map((item) => item.id));
      // Each record is the one analyze writes for that item, whatever its batch-mates.
      expect(answer.text).toBe(`[${expected.slice(position, position + records.length).join(",")}]`);
      position += records.length;
    }
    expect(position).toBe(sent.length);

    const after = await (await fetch(`${server.url}/metrics`)).text();
    expect(metricValue(after, "newsmoe_items_accepted_total") - metricValue(before, "newsmoe_items_accepted_total")).toBe(sent.length);
    // Batches above 20 items (the largest request) can only hold items of several requests.
    const batches = (text: string, le?: string) =>
      le === undefined
        ? metricValue(text, "newsmoe_expert_batch_items_count", { expert: "ExtractiveSummarizerExpert" })
        : metricValue(text, "newsmoe_expert_batch_items_bucket", { expert: "ExtractiveSummarizerExpert", le });
    const largerThanRequests = batches(after) - batches(after, "20") - (batches(before) - batches(before, "20"));
    expect(largerThanRequests).toBeGreaterThan(0);
    expect(metricValue(after, "newsmoe_queue_depth")).toBe(0);
  });

  it("refuses a malformed body with 400 naming the problem, and a request over the item limit with 413", async () => {
    const broken = await postItems(server.url, '[{"id": "a", "content": "x"},');
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.text).error).toMatch(/^malformed JSON: /);
    const badLine = await postItems(server.url, '{"id":"a","content":"x"}\n{oops}\n', { "Content-Type": "application/x-ndjson" });
    expect(badLine.status).toBe(400);
    expect(JSON.parse(badLine.text).error).toMatch(/^line 2: malformed JSON/);
    const scalar = await postItems(server.url, "42");
    expect(JSON.parse(scalar.text).error).toMatch(/expected a JSON object \(one item\) or an array of items, got number/);
    const many = await postItems(server.url, JSON.stringify(Array.from({ length: 1001 }, (_, i) => ({ id: `i${i}`, content: "x" }))));
    expect(many.status).toBe(413);
    expect(JSON.parse(many.text).error).toBe("1001 items in one request; at most 1000 (--max-items)");
  });

  it("lists its experts, reports health and readiness", async () => {
    const experts = (await (await fetch(`${server.url}/v1/experts`)).json()) as Array<{ name: string; status: string }>;
    expect(experts.map((e) => [e.name, e.status])).toEqual([
      ["ExtractiveSummarizerExpert", "ready"],
      ["LexiconSentimentExpert", "ready"],
    ]);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: "ready" });
  });
});

describe("news-moe serve under pressure", () => {
  it("answers 503 with Retry-After when the queue is full, and loses no accepted item", async () => {
    // The batch wait (4 s, for up to 64 items) holds the 40 accepted items while the other requests arrive.
    const server = await startServer(["--experts", "embedded", "--max-queue", "40", "--batch-wait", "4000"]);
    try {
      const items = await generated(300, 5);
      const requests = Array.from({ length: 30 }, (_, i) => items.slice(i * 10, i * 10 + 10));
      const answers = await Promise.all(requests.map((batch) => postItems(server.url, JSON.stringify(batch))));
      const accepted = answers.filter((a) => a.status === 200);
      const refused = answers.filter((a) => a.status === 503);
      expect(accepted.length + refused.length).toBe(30);
      expect(accepted.length).toBe(4);
      for (const answer of refused) {
        expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(JSON.parse(answer.text).error).toMatch(/queue full/);
      }
      for (const [i, answer] of answers.entries()) {
        if (answer.status !== 200) continue;
        expect((JSON.parse(answer.text) as Array<{ id: string }>).map((r) => r.id)).toEqual(requests[i]?.map((item) => item.id));
      }
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metricValue(metrics, "newsmoe_items_rejected_total", { reason: "queue_full" })).toBe(refused.length * 10);
      expect(metricValue(metrics, "newsmoe_items_total")).toBe(40);
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });

  it("answers 504 when a request's deadline passes first", async () => {
    const server = await startServer(["--experts", "embedded", "--deadline", "0.5", "--batch-wait", "5000"]);
    try {
      const answer = await postItems(server.url, JSON.stringify(examples.slice(0, 2)));
      expect(answer.status).toBe(504);
      expect(JSON.parse(answer.text)).toEqual({ error: "the request's deadline of 0.5s passed with 0 of 2 items finished", finished: 0, items: 2 });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metricValue(metrics, "newsmoe_queue_depth")).toBe(0);
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });

  it("on SIGTERM mid-load stops accepting, answers every accepted request, then exits 0", async () => {
    // Items wait up to 20 s for a full batch, so they are certainly unfinished when SIGTERM comes.
    const server = await startServer(["--experts", "embedded", "--batch-wait", "20000"]);
    const items = await generated(60, 9);
    const requests = Array.from({ length: 12 }, (_, i) => items.slice(i * 5, i * 5 + 5));
    const answers = Promise.all(requests.map((batch) => postItems(server.url, JSON.stringify(batch))));
    let metrics = "";
    for (let i = 0; i < 200; i++) {
      metrics = await (await fetch(`${server.url}/metrics`)).text();
      if (metricValue(metrics, "newsmoe_items_accepted_total") === 60) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(metricValue(metrics, "newsmoe_items_accepted_total")).toBe(60);
    expect(metricValue(metrics, "newsmoe_queue_depth")).toBe(60);
    server.child.kill("SIGTERM");
    const results = await answers;
    for (const [i, answer] of results.entries()) {
      expect(answer.status).toBe(200);
      expect((JSON.parse(answer.text) as Array<{ id: string }>).map((r) => r.id)).toEqual(requests[i]?.map((item) => item.id));
    }
    const exit = await server.done;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain("stopped after 60 items");
    // The listener is gone: no new work is taken.
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});

describe("news-moe serve stopped while its models load", () => {
  const SLOW = join(REPO_ROOT, "test/fixtures/plugins/slow-loading-expert.mjs");
  const startLoading = async (loadMs: number) => {
    const dir = await tempDir("news-moe-serve-loading-");
    const { child, done } = startCli(["serve", "--port", "0", "--plugin", SLOW, "--experts", "embedded,SlowLoader"], {
      cwd: dir,
      env: isolatedEnv(dir, { LOAD_MS: String(loadMs) }),
    });
    let stderr = "";
    const url = await new Promise<string>((resolve) => {
      child.stderr?.on("data", (chunk: string) => {
        stderr += chunk;
        const match = /listening on (http:\/\/\S+)/.exec(stderr);
        if (match?.[1]) resolve(match[1]);
      });
    });
    return { url, child, done };
  };

  it("with nothing accepted, SIGTERM says it waits for the load, refuses new work meanwhile, never says ready, exits 0", async () => {
    const server = await startLoading(3_000);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    server.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    const refused = await postItems(server.url, JSON.stringify([{ id: "late", headline: "h", content: "Late news." }]));
    expect(refused.status).toBe(503);
    const exit = await server.done;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toContain("news-moe: stopping: no request had been accepted; a model download stops now, a model being opened finishes first");
    expect(exit.stderr).not.toMatch(/ready \(/);
    expect(exit.stderr).toContain("stopped after 0 items");
  }, 30_000);

  it("with a request accepted during the load, SIGTERM waits for the models and answers it in full", async () => {
    const server = await startLoading(3_000);
    const answer = postItems(server.url, JSON.stringify([{ id: "a1", headline: "Harbour Town win", content: "Harbour Town won again on Saturday." }]));
    for (let i = 0; i < 100; i++) {
      if (metricValue(await (await fetch(`${server.url}/metrics`)).text(), "newsmoe_items_accepted_total") === 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    server.child.kill("SIGTERM");
    const { status, text } = await answer;
    expect(status).toBe(200);
    const records = JSON.parse(text) as Array<{ id: string; analyses: Record<string, unknown> }>;
    expect(records.map((r) => r.id)).toEqual(["a1"]);
    expect(records[0]?.analyses["SlowLoader"]).toEqual({ words: 6 });
    const exit = await server.done;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toContain("stopped after 1 items");
  }, 30_000);
});

describe("news-moe serve access", () => {
  it("refuses to bind beyond loopback without a token", async () => {
    const dir = await tempDir();
    const result = await runCli(["serve", "--host", "0.0.0.0", "--port", "0", "--experts", "embedded"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--host 0.0.0.0 is reachable from other machines: give a token (--token or $NEWS_MOE_TOKEN)");
  });

  it("with a token (from the environment), the API needs it and the health checks do not", async () => {
    const dir = await tempDir();
    const server = await startServer(["--experts", "embedded"], { env: isolatedEnv(dir, { NEWS_MOE_TOKEN: "s3cret-token" }) });
    try {
      const item = JSON.stringify(examples[0]);
      expect((await postItems(server.url, item)).status).toBe(401);
      expect((await postItems(server.url, item, { "Content-Type": "application/json", Authorization: "Bearer wrong-token" })).status).toBe(401);
      expect((await postItems(server.url, item, { "Content-Type": "application/json", Authorization: "Bearer s3cret-token" })).status).toBe(200);
      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});

describe("news-moe serve with the tiny neural models", () => {
  it("answers the example with the records analyze writes with the same models", async () => {
    const expected = await analyzeLines(examples, NEURAL);
    const server = await startServer(NEURAL);
    try {
      const answer = await postItems(server.url, JSON.stringify(examples));
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(`[${expected.join(",")}]`);
      // The neural experts did the work (no fallback to the embedded ones).
      const reasons = expected.flatMap((line) => (JSON.parse(line) as { routing: { experts: Array<{ reason: string }> } | null }).routing?.experts ?? []);
      expect(reasons.length).toBeGreaterThan(0);
      expect(reasons.filter((c) => c.reason.startsWith("fallback"))).toEqual([]);
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });
});
