/**
 * Main-thread side of the generation worker (`seq2seq-worker.ts`): starts it, waits until the model
 * is loaded (compiling it first if needed), and sends `generate` requests. The worker is unref'd while
 * idle, so an open model never keeps a finished process alive.
 */

import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { GenerationOptions } from "../generation/generation-config.js";
import type { BartEngine, CompiledGraph } from "../onnx/open-bart.js";
import { addTiming, emptyTiming, type FromWorker, type GenerationTiming, type SerializedError, type ToWorker, type WorkerSetup } from "./seq2seq-protocol.js";

export interface GenerationProgress {
  /** Decoder steps run so far for this request. */
  readonly steps: number;
  /** Encoder rows (articles or windows) in the request. */
  readonly rows: number;
}

export interface WorkerHooks {
  /** A compilation started (once per model file; seconds). */
  readonly onCompile?: (source: string, graph: CompiledGraph) => void;
}

export class WorkerGenerationError extends Error {
  constructor(
    serialized: SerializedError,
    readonly aborted: boolean,
  ) {
    super(serialized.message);
    this.name = serialized.name;
  }
}

/** The built worker script. Under the test runner this module is TypeScript in src/; the worker runs from dist/. */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".ts")) return here.replace(/\/src\/(.*)\.ts$/, "/dist/$1.js").replace("seq2seq-worker-client", "seq2seq-worker");
  return here.replace("seq2seq-worker-client", "seq2seq-worker");
}

interface Pending {
  resolve: (value: { sequences: number[][]; sequencesScores?: number[] }) => void;
  /** A submitted article (running batch): heartbeats of the whole batch reach it. */
  submitted: boolean;
  reject: (error: Error) => void;
  onProgress?: (progress: GenerationProgress) => void;
}

export class Seq2SeqWorkerClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed: Error | null = null;
  private disposing: Promise<void> | null = null;
  /** Where the time of every finished request went, added up. */
  readonly timing: GenerationTiming = emptyTiming();

  private constructor(
    private readonly worker: Worker,
    private readonly abortFlags: Int32Array,
    readonly engine: BartEngine,
    readonly fallbackReason: string | undefined,
  ) {
    worker.on("message", (message: FromWorker) => this.onMessage(message));
    const fail = (error: Error): void => {
      this.closed ??= error;
      for (const request of this.pending.values()) request.reject(error);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`generation worker exited (code ${code})`)));
    worker.unref();
  }

  static start(setup: Omit<WorkerSetup, "abortFlags">, hooks: WorkerHooks = {}): Promise<Seq2SeqWorkerClient> {
    const abortFlags = new SharedArrayBuffer(4);
    const worker = new Worker(workerScript(), { workerData: { ...setup, abortFlags } satisfies WorkerSetup });
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker): void => {
        if (message.type === "compiling") hooks.onCompile?.(message.source, message.graph);
        else if (message.type === "ready") {
          cleanup();
          resolve(new Seq2SeqWorkerClient(worker, new Int32Array(abortFlags), message.engine, message.fallbackReason));
        } else if (message.type === "load-error") {
          cleanup();
          void worker.terminate();
          const error = new Error(message.error.message);
          error.name = message.error.name;
          reject(error);
        }
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`generation worker exited while loading (code ${code})`));
      };
      const cleanup = (): void => {
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
      };
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
    });
  }

  generate(
    inputIds: readonly (readonly number[])[],
    options: GenerationOptions,
    signal?: AbortSignal,
    onProgress?: (progress: GenerationProgress) => void,
  ): Promise<{ sequences: number[][]; sequencesScores?: number[] }> {
    // The worker is inside a generate call while this one runs: the abort goes through shared memory.
    return this.request((id) => ({ type: "generate", id, inputIds, options }), (id) => Atomics.store(this.abortFlags, 0, id), false, signal, onProgress);
  }

  /**
   * One article into the worker's running decoder batch (continuous batching): it joins at the next step
   * boundary and resolves with its best sequence as soon as its own search is done. An abort takes it
   * out of the batch at the next boundary (the running batch reads messages between steps).
   */
  async submit(
    inputIds: readonly number[],
    options: GenerationOptions,
    signal?: AbortSignal,
    onProgress?: (progress: GenerationProgress) => void,
  ): Promise<number[]> {
    const cancel = (id: number): void => this.worker.postMessage({ type: "cancel", id } satisfies ToWorker);
    const { sequences } = await this.request((id) => ({ type: "submit", id, inputIds, options }), cancel, true, signal, onProgress);
    return sequences[0]!;
  }

  /** Sends one request and tracks it until the worker answers; `onAbort` tells the worker to stop it. */
  private request(
    message: (id: number) => ToWorker,
    onAbort: (id: number) => void,
    submitted: boolean,
    signal: AbortSignal | undefined,
    onProgress: ((progress: GenerationProgress) => void) | undefined,
  ): Promise<{ sequences: number[][]; sequencesScores?: number[] }> {
    if (this.closed) return Promise.reject(this.closed);
    signal?.throwIfAborted();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const abort = (): void => onAbort(id);
      signal?.addEventListener("abort", abort, { once: true });
      const done = (): void => {
        signal?.removeEventListener("abort", abort);
        this.pending.delete(id);
        // Idle, the worker must not keep the process alive; disposing, it must, until it has exited
        // (requests cancelled by a stop end after dispose() began: unref'ing then let the process run
        // out of work while dispose() waited, and Node exit with 13, "unsettled top-level await").
        if (this.pending.size === 0 && !this.disposing) this.worker.unref();
      };
      this.pending.set(id, {
        resolve: (value) => {
          done();
          resolve(value);
        },
        reject: (error) => {
          done();
          reject(signal?.aborted ? (signal.reason ?? error) : error);
        },
        submitted,
        ...(onProgress ? { onProgress } : {}),
      });
      this.worker.ref();
      this.worker.postMessage(message(id));
    });
  }

  /** Releases the model and stops the worker. */
  dispose(): Promise<void> {
    this.disposing ??= new Promise<void>((resolve) => {
      if (this.closed) {
        resolve();
        return;
      }
      this.worker.ref();
      this.worker.once("exit", () => resolve());
      this.worker.postMessage({ type: "dispose" } satisfies ToWorker);
    });
    return this.disposing;
  }

  private onMessage(message: FromWorker): void {
    if (message.type === "progress") this.pending.get(message.id)?.onProgress?.({ steps: message.steps, rows: message.rows });
    else if (message.type === "batch-progress") {
      for (const request of this.pending.values()) if (request.submitted) request.onProgress?.({ steps: message.steps, rows: message.articles });
    } else if (message.type === "summary") {
      addTiming(this.timing, message.timing);
      this.pending.get(message.id)?.resolve({ sequences: [message.sequence], ...(message.score !== undefined ? { sequencesScores: [message.score] } : {}) });
    } else if (message.type === "result") {
      addTiming(this.timing, message.timing);
      this.pending.get(message.id)?.resolve({
        sequences: message.sequences,
        ...(message.sequencesScores ? { sequencesScores: message.sequencesScores } : {}),
      });
    } else if (message.type === "error") this.pending.get(message.id)?.reject(new WorkerGenerationError(message.error, message.aborted));
  }
}
