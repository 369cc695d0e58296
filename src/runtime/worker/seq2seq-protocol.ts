/** Messages between `Seq2SeqWorkerClient` (main thread) and `seq2seq-worker.ts`. */

import type { GenerationOptions } from "../generation/generation-config.js";
import type { BartEngine, BartSourceFiles, OpenBartOptions } from "../onnx/open-bart.js";

export interface WorkerSetup {
  readonly files: BartSourceFiles;
  readonly options: Pick<OpenBartOptions, "engine" | "compiledCacheDir" | "intraOpNumThreads">;
  /** Int32Array view: slot 0 holds the id of a request to abort (0: none). */
  readonly abortFlags: SharedArrayBuffer;
}

export interface SerializedError {
  readonly name: string;
  readonly message: string;
}

export type ToWorker =
  | { readonly type: "generate"; readonly id: number; readonly inputIds: readonly (readonly number[])[]; readonly options: GenerationOptions }
  | { readonly type: "dispose" };

export type FromWorker =
  | { readonly type: "compiling"; readonly source: string }
  | { readonly type: "ready"; readonly engine: BartEngine; readonly fallbackReason?: string }
  | { readonly type: "load-error"; readonly error: SerializedError }
  | { readonly type: "progress"; readonly id: number; readonly steps: number; readonly rows: number }
  | { readonly type: "result"; readonly id: number; readonly sequences: number[][]; readonly sequencesScores?: number[] }
  | { readonly type: "error"; readonly id: number; readonly error: SerializedError; readonly aborted: boolean }
  | { readonly type: "disposed" };

export function serializeError(error: unknown): SerializedError {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: "Error", message: String(error) };
}
