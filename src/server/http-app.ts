import { Hono, type Context } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { stream } from "hono/streaming";
import type { AnalysisRecord } from "../core/analysis-record.js";
import { recordToJsonLine } from "../io/output-record.js";
import type { ServerMetrics } from "./metrics.js";
import { isNdjsonType, parseBody } from "./request-body.js";
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
  page: () => string;
  /** The report of what the server has analysed so far. */
  report: () => string;
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
    const route = c.req.routePath === "/*" ? "other" : c.req.routePath;
    metrics.requests.inc({ route, status: String(c.res.status) });
    metrics.requestSeconds.observe({ route }, (performance.now() - started) / 1000);
  });
  if (options.token !== undefined) {
    const auth = bearerAuth({ token: options.token });
    for (const path of ["/v1/*", "/metrics", "/report"]) app.use(path, auth);
  }

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    if (engine.draining) return c.json({ status: "draining" }, 503);
    if (!engine.ready) return c.json({ status: "loading models" }, 503);
    return c.json({ status: "ready" });
  });
  app.get("/metrics", async (c) => c.body(await metrics.text(), 200, { "Content-Type": metrics.contentType }));
  app.get("/v1/experts", async (c) => c.json(await options.experts()));
  app.get("/", (c) => c.html(options.page()));
  app.get("/report", (c) => c.html(options.report()));

  app.post(
    "/v1/analyze",
    bodyLimit({
      maxSize: limits.maxBodyBytes,
      onError: (c) => c.json({ error: `request body larger than ${limits.maxBodyBytes} bytes (--max-body)` }, 413),
    }),
    async (c) => {
      const contentType = c.req.header("content-type");
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

  app.onError((error, c) => {
    // bearerAuth answers 401 through an HTTPException carrying its own response.
    if ("getResponse" in error && typeof error.getResponse === "function") return error.getResponse() as Response;
    return c.json({ error: error.message }, 500);
  });
  return app;
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
