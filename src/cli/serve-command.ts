import type { Command } from "commander";
import { batchSizeOf, expertLabels } from "../core/expert.js";
import { ReportCollector } from "../report/report-collector.js";
import { renderReport, reportPolicy } from "../report/render-report.js";
import { observeBatches } from "../server/batch-observer.js";
import { createHttpApp } from "../server/http-app.js";
import { isLoopback, listen, ListenError } from "../server/http-server.js";
import { ServerMetrics } from "../server/metrics.js";
import { ServingEngine } from "../server/serving-engine.js";
import { tryPage } from "../server/try-page.js";
import { addBatchConcurrencyOption, addEngineOptions, positiveInteger, prepareEngine, type EngineCatalogue, type EngineFlags } from "./engine-options.js";
import { ExitCode, UsageError } from "./exit-codes.js";
import { availabilityOf, hubCheckOnce } from "./experts-command.js";
import { describeFatalError } from "./fatal-error.js";
import { RunAbortedError } from "../engine/run.js";
import { plainProgressView } from "./models-command.js";

/** The environment variable that holds the bearer token when --token is not given. */
export const TOKEN_VARIABLE = "NEWS_MOE_TOKEN";

interface ServeFlags extends EngineFlags {
  concurrency: number;
  host: string;
  port: number;
  token?: string;
  maxBody: number;
  maxItems: number;
  maxQueue: number;
  deadline: number;
  batchWait: number;
  quiet: boolean;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, got ${value}`);
  return n;
}

function nonNegative(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name} must be a number ≥ 0, got ${value}`);
    return n;
  };
}

export function registerServeCommand(program: Command, engine: EngineCatalogue): void {
  const command = program
    .command("serve")
    .description("analyse items posted over HTTP, batching concurrent requests together")
    .option("--host <host>", "address to listen on; other than loopback needs a token", "127.0.0.1")
    .option("-p, --port <port>", "port to listen on (0: any free port)", port, 8080)
    .option("--token <token>", `require "Authorization: Bearer TOKEN" (default: $${TOKEN_VARIABLE})`)
    .option("--max-body <bytes>", "largest request body", positiveInteger("--max-body"), 10 * 1024 * 1024)
    .option("--max-items <n>", "most items in one request", positiveInteger("--max-items"), 1000)
    .option("--max-queue <n>", "most items waiting or in work; beyond it requests get 503 and Retry-After", positiveInteger("--max-queue"), 10_000)
    .option("--deadline <seconds>", "time a request may take before it is answered 504", nonNegative("--deadline"), 120)
    .option("--batch-wait <ms>", "how long the first waiting item waits for others to share its batch", nonNegative("--batch-wait"), 5)
    .option("-q, --quiet", "no messages but errors", false);
  // No --dry-run: a server answers with analyses.
  addEngineOptions(command, engine, { dryRun: false });
  addBatchConcurrencyOption(command)
    .addHelpText(
      "after",
      `
Endpoints: POST /v1/analyze (one item, an array, or NDJSON; Accept: application/x-ndjson streams),
GET /v1/experts, /healthz, /readyz, /metrics, / (try an article), /report; with a token,
POST /v1/session sets the cookie that opens /report in a browser.
SIGTERM or Ctrl-C drains: new work gets 503 + Retry-After, every accepted request is answered,
then the listener closes and the process exits 0. While the models load and nothing was accepted,
a model download stops at once (resumed on the next start) and a model being opened finishes first.`,
    )
    .action(async (flags: ServeFlags) => {
      process.exitCode = await runServe(flags, engine);
    });
}

/** One line for an address the server cannot bind, naming the address and what to do. */
function describeListenError(error: ListenError): string {
  const address = `${error.host.includes(":") ? `[${error.host}]` : error.host}:${error.port}`;
  switch (error.code) {
    case "EADDRINUSE":
      return `port ${address} is already in use (stop what holds it, or choose another with --port; --port 0 takes any free one)`;
    case "EACCES":
      return `port ${address} needs privileges this user lacks (choose one above 1023 with --port)`;
    case "EADDRNOTAVAIL":
      return `--host ${error.host} is not an address of this machine`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `--host ${error.host}: no such host name`;
    default:
      return error.message;
  }
}

async function runServe(flags: ServeFlags, setup: EngineCatalogue): Promise<number> {
  const token = flags.token ?? process.env[TOKEN_VARIABLE] ?? undefined;
  if (token !== undefined && token.length < 8) throw new UsageError("the token must be at least 8 characters");
  if (!isLoopback(flags.host) && token === undefined) {
    throw new UsageError(`--host ${flags.host} is reachable from other machines: give a token (--token or $${TOKEN_VARIABLE})`);
  }
  const say = (message: string) => {
    if (!flags.quiet) process.stderr.write(`news-moe: ${message}\n`);
  };

  // Models load once, into this registry, and stay loaded for the server's life.
  const prepared = prepareEngine(flags, setup);
  const { registry, plugins, runOptions, notices } = prepared;
  for (const message of notices) say(message);
  if (plugins.sinks.length > 0) say("plugin sinks are not used by serve (records go back to the requests)");
  const selected = prepared.selected.map((name) => registry.get(name));
  const downloads = plainProgressView(say);
  const report = new ReportCollector();
  let engine: ServingEngine | undefined;
  const metrics = new ServerMetrics(() => engine?.depth ?? 0);
  engine = new ServingEngine({
    registry: observeBatches(registry, (expert, items, seconds) => metrics.observeBatch(expert, items, seconds)),
    choices: {
      ...runOptions,
      concurrency: flags.concurrency,
      onNotice: (message) => say(message),
      // A first start downloads the models: say so, or a server log shows minutes of nothing.
      onEvent: (event) => {
        if (event.type === "load-progress") downloads.onProgress({ repoId: event.progress.source, ...event.progress });
      },
    },
    maxQueuedItems: flags.maxQueue,
    batchWaitMs: flags.batchWait,
    batchItems: Math.max(1, ...selected.map(batchSizeOf)),
    onRecord: (record, value) => {
      metrics.observeRecord(record);
      report.add(record, value);
    },
  });

  const app = createHttpApp({
    engine,
    metrics,
    limits: { maxBodyBytes: flags.maxBody, maxItems: flags.maxItems, deadlineMs: flags.deadline * 1000 },
    ...(token !== undefined ? { token } : {}),
    experts: () => {
      // One hub check per request at most, shared by the experts asked about.
      const hub = hubCheckOnce();
      return Promise.all(
        selected.map(async (expert) => ({
          name: expert.name,
          task: expert.task,
          status: await availabilityOf(expert, hub),
          ...expertLabels(expert),
          max_batch_size: batchSizeOf(expert),
        })),
      );
    },
    page: () => tryPage({ tokenRequired: token !== undefined }),
    report: () => ({ html: renderReport(report.rows(), { title: "news-moe serve: items analysed so far" }), policy: reportPolicy("header") }),
  });
  const server = await listen(app, flags.host, flags.port).catch((error: unknown) => {
    throw error instanceof ListenError ? new UsageError(describeListenError(error)) : error;
  });
  const url = `http://${server.host.includes(":") ? `[${server.host}]` : server.host}:${server.port}`;
  // One machine-readable line first, so scripts (and tests) can find a port chosen with --port 0.
  process.stderr.write(`news-moe: listening on ${url}\n`);

  let stopping: Promise<void> | undefined;
  let abandoned = false;
  const stop = () => {
    if (stopping) {
      // A second signal: the user does not want to wait for the accepted work.
      process.exit(ExitCode.Interrupted);
    }
    // Stopped while the models load with nothing accepted: a download stops at once (its bytes are
    // kept), but ONNX Runtime cannot be left while it creates a session (exiting then aborted the
    // process: exit 134, "terminate called after throwing an instance of 'Napi::Error'", at 0.5-2.5 s
    // into a load of the full-size models), so a model being opened finishes first. It never says "ready".
    abandoned = engine.abandonLoad();
    say(abandoned ? "stopping: no request had been accepted; a model download stops now, a model being opened finishes first" : "stopping: no new requests; finishing the accepted ones");
    stopping = (async () => {
      // The listener stays open until the accepted work is done, so that every connection that
      // reaches the server meanwhile gets an answer (503 and Retry-After for new work, /readyz
      // 503) instead of a refusal or, worse, a reset as the listener closes under it.
      // How the engine's run ended is `finished`'s to say; here it only has to have ended.
      await engine.drain().catch(() => undefined);
      await server.close();
    })();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);

  const finished = engine.start();
  void engine.whenReady().then(() => {
    if (!stopping) say(`ready (${selected.map((e) => e.name).join(", ")})`);
  });
  try {
    const summary = await finished.catch((error: unknown) => {
      if (abandoned && error instanceof RunAbortedError) return undefined;
      throw error;
    });
    await stopping;
    say(`stopped after ${summary?.stats.items ?? 0} items`);
    return ExitCode.Ok;
  } catch (error) {
    process.stderr.write(`news-moe: ${describeFatalError(error)}\n`);
    await server.close();
    return ExitCode.Fatal;
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    await registry.dispose();
  }
}
