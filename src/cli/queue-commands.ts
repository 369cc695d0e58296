import { Command, InvalidArgumentError, Option } from "commander";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { enumerate } from "../engine/pipeline-input.js";
import { run, RunAbortedError, type EngineEvent } from "../engine/run.js";
import { recordHasErrors } from "../io/output-record.js";
import {
  collectRecords,
  connectRedis,
  DEFAULT_ATTEMPTS,
  describeRedisError,
  openCommandRedis,
  redactUrl,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_WAITING,
  DEFAULT_QUEUE,
  DEFAULT_REDIS_URL,
  DEFAULT_STALL_TIMEOUT_MS,
  isRunId,
  RunStore,
  runStatus,
  sliceAnalyzer,
  startQueueWorker,
  submit,
  SubmitInterruptedError,
  waitForCompletion,
  type QueueWorker,
  type RunMeta,
  type StopOutcome,
} from "../queue/index.js";
import { builtInCatalogue } from "../catalogue/catalogue.js";
import { outputSinks } from "../engine/assemble-run.js";
import { addEngineOptions, positiveInteger, prepareEngine, type EngineCatalogue, type EngineFlags } from "./engine-options.js";
import { ExitCode, UsageError } from "./exit-codes.js";
import { describeUnavailableCause } from "./model-messages.js";
import { plainProgressView } from "./models-command.js";
import { checkOutputPath, recordFormatOption, recordOutputFormat } from "./output-options.js";
import { listenForStop } from "./stop-signal.js";

interface QueueFlags {
  redis: string;
  queue: string;
}

function addQueueOptions(command: Command): Command {
  return command
    .option("--redis <url>", "the Redis server (also NEWS_MOE_REDIS)", process.env.NEWS_MOE_REDIS ?? DEFAULT_REDIS_URL)
    .option("--queue <name>", "queue name; workers serve one queue", DEFAULT_QUEUE);
}

/**
 * A connection for one command, made before the command starts: an unreachable Redis is one line
 * at once, and a Redis lost midway one line too (RedisUnavailableError), never a client's stack.
 */
async function withRedis<T>(url: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const { redis, translate } = await openCommandRedis(url);
  try {
    return await use(redis);
  } catch (error) {
    throw translate(error);
  } finally {
    redis.disconnect();
  }
}

async function metaOf(redis: Redis, flags: QueueFlags, runId: string): Promise<{ store: RunStore; meta: RunMeta }> {
  if (!isRunId(runId)) throw new UsageError(`${runId}: not a run id (16 hex digits, as submit prints)`);
  const store = new RunStore(redis, flags.queue, runId);
  const meta = await store.readMeta();
  if (!meta) throw new UsageError(`no run ${runId} on queue ${flags.queue} at ${flags.redis}`);
  return { store, meta };
}

interface SubmitFlags extends QueueFlags {
  inputFormat: "auto" | "json" | "jsonl";
  chunkSize?: number;
  attempts?: number;
  maxWaiting: number;
}

function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be a whole number ≥ 0");
  return n;
}

function registerSubmit(program: Command): void {
  addQueueOptions(program.command("submit"))
    .description("put a file's items on a Redis queue for workers; prints the run id")
    .argument("<input>", "news items: a JSON array file or a JSON Lines file")
    .addOption(new Option("--input-format <format>", "input format").choices(["auto", "json", "jsonl"]).default("auto"))
    .option("--chunk-size <n>", `items per job (default ${DEFAULT_CHUNK_SIZE})`, positiveInteger("--chunk-size"))
    .option("--attempts <n>", `tries before an item that crashes workers gets an error record (default ${DEFAULT_ATTEMPTS})`, positiveInteger("--attempts"))
    .option("--max-waiting <jobs>", "jobs allowed to wait in the queue before submit waits for workers (0: no limit)", nonNegativeInteger, DEFAULT_MAX_WAITING)
    .action(async (input: string, flags: SubmitFlags) => {
      if (input === "-") throw new UsageError("submit needs a file: the run id is taken from its bytes");
      let lastWaitSaid = -1;
      // SIGTERM or Ctrl-C stops queueing; what was queued stays (a second signal exits at once).
      const stop = listenForStop();
      const submitting = withRedis(flags.redis, (redis) =>
        submit({
          redis,
          queue: flags.queue,
          input,
          inputFormat: flags.inputFormat,
          ...(flags.chunkSize !== undefined ? { chunkSize: flags.chunkSize } : {}),
          ...(flags.attempts !== undefined ? { attempts: flags.attempts } : {}),
          maxWaiting: flags.maxWaiting,
          // The id first, so status and collect can follow a long submit.
          onRun: (meta) => process.stdout.write(`${meta.runId}\n`),
          onWait: (queued) => {
            if (queued !== lastWaitSaid) process.stderr.write(`news-moe: ${queued} jobs queued; waiting for workers to take some\n`);
            lastWaitSaid = queued;
          },
          signal: stop.signal,
        }),
      );
      const result = await submitting.catch((error: unknown) => {
        if (!(error instanceof SubmitInterruptedError)) throw error;
        return error;
      });
      stop.release();
      if (result instanceof SubmitInterruptedError) {
        process.stderr.write(`news-moe: ${describeStoppedSubmit(result)}\n`);
        process.exitCode = ExitCode.Interrupted;
        return;
      }
      const { meta } = result;
      process.stderr.write(
        `news-moe: run ${meta.runId}: ${meta.total} items in ${meta.chunks} jobs of ${meta.chunkSize} on queue ${meta.queue}` +
          (result.resubmitted ? ` (submitted before: ${result.alreadyDone} jobs already done, the rest queued again)` : "") +
          "\n",
      );
    });
}

/** What a stopped submit leaves behind, and how to finish it. */
function describeStoppedSubmit(stopped: SubmitInterruptedError): string {
  const { meta, queued, alreadyDone } = stopped;
  if (!meta) return "interrupted before the run was created; nothing was queued";
  const before = alreadyDone > 0 ? ` (${alreadyDone} were done before)` : "";
  return (
    `interrupted; ${queued} of run ${meta.runId}'s ${meta.chunks} jobs were queued by this submit${before}; ` +
    "workers take those as usual, and submitting the same file again queues the rest"
  );
}

interface WorkerFlags extends QueueFlags, EngineFlags {
  concurrency: number;
  stallTimeout: number;
  quiet: boolean;
}

/**
 * A stopping worker lets its jobs in hand finish for this long (a job of the embedded experts
 * usually does), then stops them and hands them back, waiting at most the second bound: an aborted
 * run stops within a batch step, so that one only bounds a stuck job. A few seconds in all.
 */
const STOP_GRACE = { finishMs: 2_000, handBackMs: 3_000 };
/** How long releasing the models may take before the process exits anyway. */
const DISPOSE_GRACE_MS = 2_000;

function registerWorker(program: Command, engine: EngineCatalogue): void {
  const command = addQueueOptions(program.command("worker"))
    .description("take jobs from a Redis queue and analyse them (the same engine and options as analyze)")
    .option("--concurrency <n>", "jobs this worker runs at once", positiveInteger("--concurrency"), 1)
    .option("--stall-timeout <ms>", "a job whose worker stopped renewing its lock this long is taken over by another", positiveInteger("--stall-timeout"), DEFAULT_STALL_TIMEOUT_MS)
    .option("-q, --quiet", "no messages but errors", false);
  addEngineOptions(command, engine)
    .addHelpText(
      "after",
      `\nSIGTERM or Ctrl-C stops within seconds in any state (loading, connecting, idle, mid-job, Redis lost)\n` +
        `and exits 0: jobs in hand get ${STOP_GRACE.finishMs / 1000} s to finish, then go back to the queue (without Redis,\n` +
        "another worker takes them over after --stall-timeout); nothing is lost. A second signal exits at once (130).",
    )
    .action(async (flags: WorkerFlags) => {
      // Exit explicitly: a Redis client that still retries must not keep a stopped worker alive.
      process.exit(await runWorker(flags, engine));
    });
}

async function runWorker(flags: WorkerFlags, setup: EngineCatalogue): Promise<number> {
  const log = (message: string) => {
    if (!flags.quiet) process.stderr.write(`news-moe worker ${process.pid}: ${message}\n`);
  };
  // Listening from the start: a signal while models load or Redis is unreachable must stop the
  // process too. Before the queue worker exists no job is held, so there is nothing to hand back.
  let requestStop: (() => void) | undefined;
  const stopRequested = new Promise<void>((resolveStop) => (requestStop = resolveStop));
  let worker: QueueWorker | undefined;
  let signalled = false;
  let loadingModels = false;
  const loadStopped = new AbortController();
  const onSignal = () => {
    if (signalled) process.exit(ExitCode.Interrupted);
    signalled = true;
    if (!worker) {
      // A download stops at once (its bytes are kept for the next start), but ONNX Runtime cannot be
      // left while it creates a session (exiting then aborted the process, exit 134, 1.5 s into a
      // load of the full-size models): a model being opened finishes first.
      if (loadingModels) {
        log("stopping: a model download stops now, a model being opened finishes first");
        loadStopped.abort(new Error("stopped while the models were loading"));
        return;
      }
      log("stopped before taking any job");
      process.exit(ExitCode.Ok);
    }
    requestStop?.();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  // Models load once, into this registry, and stay loaded from job to job.
  const { registry, plugins, runOptions: engine, notices, tasks } = prepareEngine(flags, setup);
  for (const message of notices) log(message);
  if (plugins.sinks.length > 0) log("plugin sinks are ignored by workers: records go to Redis; collect writes the output");
  // Every job is a run of its own: say what a run says once, not once per job.
  const said = new Set<string>();
  const sayOnce = (message: string) => {
    if (said.has(message)) return;
    said.add(message);
    log(message);
  };
  const downloads = plainProgressView(log);
  const onEvent = (event: EngineEvent) => {
    if (event.type === "load-progress") downloads.onProgress({ repoId: event.progress.source, ...event.progress });
    if (event.type === "warning") sayOnce(`${event.source}: ${event.message}`);
    if (event.type === "expert-unavailable") {
      sayOnce(`${event.expert} is unavailable (${describeUnavailableCause(event.reason, event.error).split("\n")[0]})`);
    }
  };
  const analyze = sliceAnalyzer((input, firstIndex, sink, signal) =>
    run({ input: enumerate(input, firstIndex), numbered: true, registry, ...engine, sinks: [sink], onEvent, onNotice: sayOnce, ...(signal ? { signal } : {}) }),
  );

  // An empty run first: it loads the models and refuses bad options (an unknown expert or router)
  // here, with exit 2, instead of failing every job it would take.
  loadingModels = true;
  await run({ input: [], registry, ...engine, onEvent, onNotice: sayOnce, signal: loadStopped.signal }).catch((error: unknown) => {
    if (!(signalled && error instanceof RunAbortedError)) throw error;
  });
  loadingModels = false;
  if (signalled) {
    await Promise.race([registry.dispose(), sleep(DISPOSE_GRACE_MS)]);
    log("stopped before taking any job");
    return ExitCode.Ok;
  }

  const redis = connectRedis(flags.redis);
  let lastError = "";
  redis.on("error", (error: Error) => {
    if (error.message !== lastError) log(`cannot reach Redis at ${redactUrl(flags.redis)}: ${describeRedisError(error)}; retrying`);
    lastError = error.message;
  });
  redis.on("ready", () => (lastError = ""));
  worker = startQueueWorker({ redis, queue: flags.queue, analyze, tasks, concurrency: flags.concurrency, stallTimeoutMs: flags.stallTimeout, onLog: log });
  // Not awaited: while Redis is unreachable this never settles, and the worker must still stop.
  worker.worker.waitUntilReady().then(
    () => log(`ready on queue ${flags.queue} at ${redactUrl(flags.redis)}`),
    () => undefined,
  );

  await stopRequested;
  log("stopping: finishing or handing back the jobs in hand");
  const outcome = await worker.stop(STOP_GRACE);
  redis.disconnect();
  await Promise.race([registry.dispose(), sleep(DISPOSE_GRACE_MS)]);
  const how: Record<StopOutcome, string> = {
    finished: "stopped",
    "handed-back": "stopped; the jobs in hand went back to the queue",
    "left-to-stall": `stopped; any job in hand is taken over by another worker once its lock expires (--stall-timeout ${flags.stallTimeout} ms)`,
  };
  log(how[outcome]);
  return ExitCode.Ok;
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}min`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

function registerStatus(program: Command): void {
  addQueueOptions(program.command("status"))
    .description("where a submitted run stands: done / total / failed, workers, rate, ETA")
    .argument("<run>", "the run id submit printed")
    .option("--json", "print it as JSON", false)
    .action(async (runId: string, flags: QueueFlags & { json: boolean }) => {
      const status = await withRedis(flags.redis, async (redis) => {
        const { store, meta } = await metaOf(redis, flags, runId);
        return runStatus(redis, store, meta);
      });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(status)}\n`);
        return;
      }
      const rate = status.rate === null ? "no rate yet" : `${status.rate.toFixed(1)} items/s`;
      const eta = status.complete
        ? "complete"
        : status.workers === 0
          ? "no ETA: no worker is on the queue"
          : status.etaSeconds === null
            ? "ETA unknown"
            : `ETA ${formatSeconds(status.etaSeconds)}`;
      process.stdout.write(
        `run ${status.run} (${status.input}) on queue ${status.queue}: ${status.done}/${status.total} done, ` +
          `${status.failed} failed, ${status.missing} to go; ${status.workers} workers on the queue; ${rate}; ${eta}\n`,
      );
    });
}

interface CollectFlags extends QueueFlags {
  output: string;
  format?: "json" | "jsonl";
  wait: boolean;
  delete: boolean;
  quiet: boolean;
}

function registerCollect(program: Command): void {
  addQueueOptions(program.command("collect"))
    .description("write a run's records in input order, one per item, as analyze writes them")
    .argument("<run>", "the run id submit printed")
    .requiredOption("-o, --output <path>", "where to write; - streams JSON Lines to stdout")
    .addOption(recordFormatOption())
    .option("--wait", "wait until every item is done, then write", false)
    .option("--delete", "once a complete output is written, delete the run's records from Redis", false)
    .option("-q, --quiet", "no progress output", false)
    .addHelpText(
      "after",
      "\nExit status: 0 complete, 1 complete but some items or experts failed, 2 bad usage,\n75 incomplete (written without the items not done yet; collect again later or use --wait).",
    )
    .action(async (runId: string, flags: CollectFlags) => {
      process.exitCode = await runCollect(runId, flags);
    });
}

async function runCollect(runId: string, flags: CollectFlags): Promise<number> {
  const toStdout = flags.output === "-";
  const format = recordOutputFormat(flags.output, flags.format);
  // Before connecting, let alone waiting: a run of hours must not end in "cannot write".
  await checkOutputPath(flags.output);
  const say = (message: string) => {
    if (!flags.quiet) process.stderr.write(`news-moe: ${message}\n`);
  };
  // SIGTERM or Ctrl-C while waiting or writing: the output file is left as it was (written whole
  // or not at all), the run stays in Redis, and a later collect writes it.
  const stop = listenForStop();
  let result;
  try {
    result = await withRedis(flags.redis, async (redis) => {
      const { store, meta } = await metaOf(redis, flags, runId);
      if (flags.wait) {
        let lastSaid = 0;
        await waitForCompletion(store, meta.total, {
          signal: stop.signal,
          onWait: (done) => {
            if (Date.now() - lastSaid < 10_000) return;
            lastSaid = Date.now();
            say(`waiting: ${done}/${meta.total} done`);
          },
        });
      }
      // The output sink a run's output would get, from the same catalogue entries.
      const [sink] = outputSinks(builtInCatalogue(), { path: toStdout ? "-" : resolve(flags.output), format }, { plugins: false });
      const collected = await collectRecords(store, meta.total, sink!, recordHasErrors, stop.signal);
      // Only after the output file is complete and renamed into place: nothing is lost if writing fails.
      const deleted = flags.delete && collected.missing === 0;
      if (deleted) await store.delete();
      return { meta, deleted, ...collected };
    });
  } catch (error) {
    if (!stop.signal.aborted) throw error;
    process.stderr.write(`news-moe: interrupted; ${toStdout ? "the records above are only a part of the run" : `${resolve(flags.output)} is left as it was`}; collect again to write the run\n`);
    return ExitCode.Interrupted;
  } finally {
    stop.release();
  }
  const where = toStdout ? "stdout" : resolve(flags.output);
  if (result.missing > 0) {
    say(`run ${runId}: wrote ${result.written} of ${result.meta.total} records to ${where}; ${result.missing} items are not done yet${flags.delete ? " (nothing deleted)" : ""}`);
    return ExitCode.Incomplete;
  }
  say(`run ${runId}: wrote ${result.written} records to ${where} (${result.failed} with errors)${result.deleted ? "; deleted from Redis" : ""}`);
  return result.failed > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}

/** submit, worker, status, collect: scaling out on Redis (see README, "Scaling out with Redis"). */
export function registerQueueCommands(program: Command, engine: EngineCatalogue): void {
  registerSubmit(program);
  registerWorker(program, engine);
  registerStatus(program);
  registerCollect(program);
}
