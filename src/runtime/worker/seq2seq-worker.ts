/**
 * Worker thread that owns a BART model and runs `generate()` for the main thread.
 *
 * ONNX Runtime's `run()` blocks the thread it runs on for the whole decoder step, and a batch of
 * summaries is hundreds of steps: on the main thread that froze progress output, Ctrl-C handling and
 * the journal's periodic sync for minutes. Here it blocks only this worker. Abort requests arrive
 * through shared memory (the worker's event loop is not free to receive messages between steps) and
 * are honoured before the next step; progress is posted at most once a second.
 */

import { parentPort, workerData } from "node:worker_threads";
import { generate } from "../generation/generate.js";
import type { DecoderState, Seq2SeqModel } from "../generation/seq2seq-model.js";
import { RunningBatches } from "./running-batches.js";
import { openBart, type OpenedBart } from "../onnx/open-bart.js";
import { emptyTiming, serializeError, type FromWorker, type GenerationTiming, type ToWorker, type WorkerSetup } from "./seq2seq-protocol.js";

const port = parentPort!;
const setup = workerData as WorkerSetup;
const abortFlags = new Int32Array(setup.abortFlags);
const post = (message: FromWorker): void => port.postMessage(message);

const TIMED: Record<string, keyof GenerationTiming> = {
  encode: "encodeMs",
  decode: "decodeMs",
  decodeTopK: "decodeMs",
  replayLogits: "decodeMs",
  selectRows: "reorderMs",
};

/** The model with a check before every decoder step (abort requests, progress) and its time accounted. */
function watched<M extends Seq2SeqModel>(model: M, timing: GenerationTiming, beforeStep: (rows: number) => void): M {
  return new Proxy(model, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== "function") return value;
      const slot = typeof property === "string" ? TIMED[property] : undefined;
      if (!slot) return (value as (...a: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) => {
        if (property === "decode" || property === "decodeTopK") beforeStep((args[0] as DecoderState).rows);
        const started = performance.now();
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) return result.finally(() => (timing[slot] += performance.now() - started));
        timing[slot] += performance.now() - started;
        return result;
      };
    },
  });
}

async function main(): Promise<void> {
  let opened: OpenedBart;
  try {
    opened = await openBart(setup.files, {
      ...setup.options,
      onCompile: (source, graph) => post({ type: "compiling", source, graph }),
    });
  } catch (error) {
    post({ type: "load-error", error: serializeError(error) });
    return;
  }
  post({ type: "ready", engine: opened.engine, ...(opened.fallbackReason ? { fallbackReason: opened.fallbackReason } : {}) });

  // Generate requests run one after another: the model has one set of sessions and the cores are shared
  // anyway. Submitted articles go to the running batch, which steps between the worker's other work.
  let queue = Promise.resolve();
  const batches = new RunningBatches(opened.model, setup, post);
  port.on("message", (message: ToWorker) => {
    if (message.type === "submit") {
      batches.submit(message);
      return;
    }
    if (message.type === "cancel") {
      batches.cancel(message.id);
      return;
    }
    if (message.type === "dispose") {
      queue = queue.then(async () => {
        await batches.idle();
        await opened.model.dispose();
        post({ type: "disposed" });
        port.close();
      });
      return;
    }
    queue = queue.then(() => run(opened, message));
  });
}

async function run(opened: OpenedBart, request: Extract<ToWorker, { type: "generate" }>): Promise<void> {
  const controller = new AbortController();
  const timing = emptyTiming();
  let steps = 0;
  let lastReport = performance.now();
  const model = watched(opened.model, timing, (rows) => {
    if (Atomics.load(abortFlags, 0) === request.id) controller.abort(new Error("generation aborted"));
    steps++;
    timing.rowSteps += rows;
    const now = performance.now();
    if (now - lastReport >= 1000) {
      lastReport = now;
      post({ type: "progress", id: request.id, steps, rows: request.inputIds.length });
    }
  });
  const started = performance.now();
  try {
    const result = await generate(model, { inputIds: request.inputIds }, request.options, { signal: controller.signal, stats: timing });
    timing.totalMs = performance.now() - started;
    timing.steps = steps;
    post({
      type: "result",
      id: request.id,
      sequences: result.sequences,
      ...(result.sequencesScores ? { sequencesScores: result.sequencesScores } : {}),
      timing,
    });
  } catch (error) {
    post({ type: "error", id: request.id, error: serializeError(error), aborted: controller.signal.aborted });
  }
}

void main();
