/** Messages between `Seq2SeqWorkerClient` (main thread) and `seq2seq-worker.ts`. */

import type { GenerationOptions } from "../generation/generation-config.js";
import type { BartEngine, BartSourceFiles, CompiledGraph, OpenBartOptions } from "../onnx/open-bart.js";

/** How the worker's running decoder batch admits articles (see runtime/generation/running-batch.ts). */
export interface RunningBatchSetup {
  readonly maxArticles: number;
  /** Bytes of decoder state the running articles may hold together. */
  readonly stateBudgetBytes: number;
  /** Encoding time a step boundary may spend on joining articles while others decode (ms). */
  readonly joinStallMs: number;
}

export interface WorkerSetup {
  readonly files: BartSourceFiles;
  readonly options: Pick<OpenBartOptions, "engine" | "compiledCacheDir" | "intraOpNumThreads" | "residentSessions">;
  readonly running: RunningBatchSetup;
  /** Int32Array view: slot 0 holds the id of a request to abort (0: none). */
  readonly abortFlags: SharedArrayBuffer;
}

/** Where one request's time went (ms), and how its beam steps were scored. */
export interface GenerationTiming {
  /** Encoder and cross-attention keys/values. */
  encodeMs: number;
  /** Decoder step runs, the copy of their outputs and the write of the new keys/values into the cache. */
  decodeMs: number;
  /** Beam reordering and dropping finished articles (cache rows moved). */
  reorderMs: number;
  /** The whole generate() call; what the three above leave is the search itself (JavaScript). */
  totalMs: number;
  steps: number;
  /** Decoder rows summed over the steps (rows per step = rowSteps / steps). */
  rowSteps: number;
  modelScoredSteps: number;
  replayedSteps: number;
  hostScoredSteps: number;
}

export function emptyTiming(): GenerationTiming {
  return { encodeMs: 0, decodeMs: 0, reorderMs: 0, totalMs: 0, steps: 0, rowSteps: 0, modelScoredSteps: 0, replayedSteps: 0, hostScoredSteps: 0 };
}

export function addTiming(into: GenerationTiming, add: GenerationTiming): void {
  for (const key of Object.keys(into) as (keyof GenerationTiming)[]) into[key] += add[key];
}

export interface SerializedError {
  readonly name: string;
  readonly message: string;
}

export type ToWorker =
  | { readonly type: "generate"; readonly id: number; readonly inputIds: readonly (readonly number[])[]; readonly options: GenerationOptions }
  /** One article for the running batch (continuous batching); answered by `summary` or `error`. */
  | { readonly type: "submit"; readonly id: number; readonly inputIds: readonly number[]; readonly options: GenerationOptions }
  /** Drops a submitted article (it leaves the batch at the next step boundary). */
  | { readonly type: "cancel"; readonly id: number }
  | { readonly type: "dispose" };

export type FromWorker =
  | { readonly type: "compiling"; readonly source: string; readonly graph: CompiledGraph }
  | { readonly type: "ready"; readonly engine: BartEngine; readonly fallbackReason?: string }
  | { readonly type: "load-error"; readonly error: SerializedError }
  | { readonly type: "progress"; readonly id: number; readonly steps: number; readonly rows: number }
  | { readonly type: "result"; readonly id: number; readonly sequences: number[][]; readonly sequencesScores?: number[]; readonly timing: GenerationTiming }
  | { readonly type: "error"; readonly id: number; readonly error: SerializedError; readonly aborted: boolean }
  /** A submitted article's best sequence; `timing` is what the running batch spent since the last report. */
  | { readonly type: "summary"; readonly id: number; readonly sequence: number[]; readonly score: number | undefined; readonly timing: GenerationTiming }
  /** The running batch's heartbeat, at most once a second while it decodes. */
  | { readonly type: "batch-progress"; readonly steps: number; readonly rows: number; readonly articles: number }
  | { readonly type: "disposed" };

export function serializeError(error: unknown): SerializedError {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: "Error", message: String(error) };
}
