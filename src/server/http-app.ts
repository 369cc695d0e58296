import { Hono, type Context } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { stream } from "hono/streaming";
import type { AnalysisRecord } from "../core/analysis-record.js";
import { recordToJsonLine } from "../io/output-record.js";
import type { ServerMetrics } from "./metrics.js";
import { isJsonType, isNdjsonType, parseBody } from "./request-body.js";
import { NO_CONTENT_POLICY } from "../report/content-policy.js";
import { createHmac, timingSafeEqual } from "node:crypto";
import { getCookie, setCookie } from "hono/cookie";
import type { HtmlPage } from "./try-page.js";
import { DrainingError, QueueFullError, type ServingEngine, type Submission } from "./serving-engine.js";

export interface ServerLimits {
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** Most items in one request. */
  maxItems: number;
  /** Time a request may take from arrival to its last record. */
  deadlineMs: number;
}

export interface HttpAppOptions {
  engine: ServingEngine;
  metrics: ServerMetrics;
  limits: ServerLimits;
  /** Required as `Authorization: Bearer TOKEN` on everything but the health checks and the page. */
  token?: string;
  /** The experts this server routes between, for `GET /v1/experts`. */
  experts: () => Promise<unknown[]>;
  /** The page at `/` (try an article by hand). */
  page: () => HtmlPage;
  /** The report of what the server has analysed so far. */
  report: () => HtmlPage;
}

const NDJSON = "application/x-ndjson; charset=utf-8";

/** A request's deadline passed before its last record. */
export class DeadlineError extends Error {
  constructor(
    readonly seconds: number,
    readonly finished: number,
    readonly items: number,
  ) {
    super(`the request's deadline of ${seconds}s passed with ${finished} of ${items} items finished`);
    this.name = "DeadlineError";
  }
}

/**
 * The HTTP API in front of the serving engine. Records leave exactly as `analyze` writes them in
 * JSON Lines (`recordToJsonLine`); a JSON array answer holds the same lines, comma-separated.
 */
export function createHttpApp(options: HttpAppOptions): Hono {
  const { engine, metrics, limits } = options;
  const app = new Hono();

  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    // While draining, every answer ends its connection, so that no keep-alive connection outlives
    // the server and a client sends its next request where it will be taken.
    if (engine.draining) c.res.headers.set("Connection", "close");
    // Answers that are not pages may run nothing and load nothing, and are never sniffed into HTML
    // (an error message can echo what a client sent).
    if (!c.res.headers.has("Content-Security-Policy")) c.res.headers.set("Content-Security-Policy", NO_CONTENT_POLICY);
    c.res.headers.set("X-Content-Type-Options", "nosniff");
    c.res.headers.set("Referrer-Policy", "no-referrer");
    const route = c.req.routePath === "/*" ? "other" : c.req.routePath;
    metrics.requests.inc({ route, status: String(c.res.status) });
    metrics.requestSeconds.observe({ route }, (performance.now() - started) / 1000);
  });
  if (options.token !== undefined) {
    const auth = bearerAuth({ token: options.token });
    for (const path of ["/v1/*", "/metrics"]) app.use(path, auth);
    // A browser following the page's link cannot send the header: the cookie /v1/session sets
    // stands for the token there, and only there.
    const cookie = reportCookie(options.token);
    app.use("/report", async (c, next) => (sameSecret(getCookie(c, REPORT_COOKIE) ?? "", cookie) ? next() : auth(c, next)));
    app.post("/v1/session", (c) => {
      setCookie(c, REPORT_COOKIE, cookie, { path: "/", httpOnly: true, sameSite: "Strict" });
      return c.body(null, 204);
    });
  }

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    if (engine.draining) return c.json({ status: "draining" }, 503);
    if (!engine.ready) return c.json({ status: "loading models" }, 503);
    return c.json({ status: "ready" });
  });
  app.get("/metrics", async (c) => c.body(await metrics.text(), 200, { "Content-Type": metrics.contentType }));
  app.get("/v1/experts", async (c) => c.json(await options.experts()));
  const page = (c: Context, { html, policy }: HtmlPage) => c.html(html, 200, { "Content-Security-Policy": policy });
  app.get("/", (c) => page(c, options.page()));
  app.get("/report", (c) => page(c, options.report()));

  app.post(
    "/v1/analyze",
    bodyLimit({
      maxSize: limits.maxBodyBytes,
      onError: (c) => c.json({ error: `request body larger than ${limits.maxBodyBytes} bytes (--max-body)` }, 413),
    }),
    async (c) => {
      const contentType = c.req.header("content-type");
      // Only JSON by its type: a form or text/plain post is what a foreign page can send without
      // the browser asking this server first, and curl -d sends a form unless told otherwise.
      if (!isJsonType(contentType) && !isNdjsonType(contentType)) {
        return c.json({ error: `Content-Type ${contentType ? `"${contentType}"` : "missing"}: send application/json (one item or an array) or application/x-ndjson` }, 415);
      }
      const parsed = parseBody(await c.req.text(), contentType);
      if (!parsed.ok) return c.json({ error: parsed.problem }, 400);
      if (parsed.values.length > limits.maxItems) {
        return c.json({ error: `${parsed.values.length} items in one request; at most ${limits.maxItems} (--max-items)` }, 413);
      }
      let submission: Submission;
      try {
        submission = engine.submit(parsed.values);
      } catch (error) {
        if (error instanceof QueueFullError) {
          metrics.rejected.inc({ reason: "queue_full" }, parsed.values.length);
          return c.json({ error: error.message }, 503, { "Retry-After": String(error.retryAfterSeconds) });
        }
        if (error instanceof DrainingError) {
          metrics.rejected.inc({ reason: "draining" }, parsed.values.length);
          return c.json({ error: error.message }, 503, { "Retry-After": "5", Connection: "close" });
        }
        throw error;
      }
      metrics.accepted.inc(parsed.values.length);
      const deadline = setTimeout(
        () => submission.cancel(new DeadlineError(limits.deadlineMs / 1000, submission.finished, submission.size)),
        limits.deadlineMs,
      );
      // A client that hangs up frees the queue of its items.
      c.req.raw.signal?.addEventListener("abort", () => submission.cancel(new Error("the client went away")), { once: true });

      const streamed = (c.req.header("accept") ?? "").includes("application/x-ndjson");
      if (streamed) return streamRecords(c, submission, deadline);
      try {
        const records = await submission.all();
        if (parsed.shape === "lines" || isNdjsonType(contentType)) return c.body(linesOf(records), 200, { "Content-Type": NDJSON });
        const body = parsed.shape === "object" ? recordToJsonLine(records[0] as AnalysisRecord) : `[${records.map(recordToJsonLine).join(",")}]`;
        return c.body(body, 200, { "Content-Type": "application/json; charset=utf-8" });
      } catch (error) {
        if (error instanceof DeadlineError) return c.json({ error: error.message, finished: error.finished, items: error.items }, 504);
        return c.json({ error: (error as Error).message }, 500);
      } finally {
        clearTimeout(deadline);
      }
    },
  );

  // A known path asked with another method: 405 and what it takes (HEAD goes with GET).
  for (const [path, methods] of routeMethods(app)) {
    const allow = methods.join(", ");
    app.all(path, (c) => {
      if (c.req.method === "OPTIONS") return c.body(null, 204, { Allow: allow });
      return c.json({ error: `${c.req.method} is not allowed on ${path}; allowed: ${allow}` }, 405, { Allow: allow });
    });
  }

  app.onError((error, c) => {
    // bearerAuth answers 401 through an HTTPException carrying its own response.
    if ("getResponse" in error && typeof error.getResponse === "function") return error.getResponse() as Response;
    return c.json({ error: error.message }, 500);
  });
  return app;
}

/** The cookie that opens /report in a browser when the server has a token. */
const REPORT_COOKIE = "news_moe_report";

/** The cookie's value: derived from the token (not the token itself), so it opens /report and nothing else. */
function reportCookie(token: string): string {
  return createHmac("sha256", token).update("news-moe report access").digest("base64url");
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Each path the app routes, with the methods it answers (GET brings HEAD), from its route table. */
function routeMethods(app: Hono): Map<string, string[]> {
  const methods = new Map<string, string[]>();
  for (const route of app.routes) {
    if (route.method === "ALL" || route.path.includes("*")) continue;
    const known = methods.get(route.path) ?? [];
    for (const method of route.method === "GET" ? ["GET", "HEAD"] : [route.method]) if (!known.includes(method)) known.push(method);
    methods.set(route.path, known);
  }
  return methods;
}

function linesOf(records: AnalysisRecord[]): string {
  return records.map((record) => `${recordToJsonLine(record)}\n`).join("");
}

/**
 * NDJSON, one record per line as each finishes. A request that fails after the first bytes (its
 * deadline) ends with one line `{"error": ...}` that is not a record.
 */
function streamRecords(c: Context, submission: Submission, deadline: NodeJS.Timeout): Response {
  c.header("Content-Type", NDJSON);
  return stream(c, async (out) => {
    try {
      for await (const record of submission.records) await out.write(`${recordToJsonLine(record)}\n`);
    } catch (error) {
      // The client may be gone already (that is one way to get here): then there is no one to tell.
      if (!out.aborted && !out.closed) {
        await out.write(`${JSON.stringify({ error: (error as Error).message, finished: submission.finished, items: submission.size })}\n`).catch(() => undefined);
      }
    } finally {
      clearTimeout(deadline);
    }
  });
}
