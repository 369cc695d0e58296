/**
 * The one place the summariser meets the seq2seq runtime: the model runs in a worker thread
 * (src/runtime/worker) on the compiled decoder when its files compile (src/runtime/onnx/compiler),
 * else on the published graphs, and generates token ids with the HF-faithful `generate()`.
 */
import type { Seq2SeqModelFiles } from "../../models/model-store.js";
import { compiledCacheDir } from "./model-access.js";
import { DEFAULT_SUMMARY_STATE_MIB, summaryStateBytes } from "./options.js";
import type { GenerationOptions } from "../../runtime/generation/index.js";
import { SOURCE_GROUPS } from "../../runtime/onnx/compiler/bart-decoder-graph.js";
import type { BartEngine } from "../../runtime/onnx/open-bart.js";
import type { GenerationTiming, RunningBatchSetup } from "../../runtime/worker/seq2seq-protocol.js";
import { Seq2SeqWorkerClient, type GenerationProgress } from "../../runtime/worker/seq2seq-worker-client.js";

export interface Seq2SeqRunner {
  /** Which decoder runs: the compiled one, or the published graphs (`fallbackReason` says why). */
  readonly engine: BartEngine;
  readonly fallbackReason?: string;
  /**
   * Source lengths a generate call pads to: 1 pads every input to the longest; the compiled decoder
   * splits a call's inputs (in their order) into two groups, each padded to its own longest.
   */
  readonly sourceGroups: number;
  /** HF `generate(input_ids, **options)`: one sequence per input row (decoder start token first). */
  generate(
    inputIds: readonly (readonly number[])[],
    options: GenerationOptions,
    signal?: AbortSignal,
    onProgress?: (progress: GenerationProgress) => void,
  ): Promise<{ sequences: number[][] }>;
  /**
   * One article into the running decoder batch (continuous batching): joins at the next decoder step and
   * resolves with its sequence (decoder start token first) when its own search is done.
   */
  summarize(
    inputIds: readonly number[],
    options: GenerationOptions,
    signal?: AbortSignal,
    onProgress?: (progress: GenerationProgress) => void,
  ): Promise<number[]>;
  /** Where the generation time went so far (all requests added up). */
  timing(): GenerationTiming;
  dispose(): Promise<void>;
}

/**
 * The running batch's defaults: up to 16 articles (64 beam rows: the per-row decoder cost keeps falling
 * up to about that on 2 cores), the summariser's default decoder state, and a quarter second of encoding per step
 * boundary while others decode (a 680-token article encodes in ~0.3-0.6 s at fp32 on 2 cores, so one
 * joins per boundary; short ones several).
 */
export const DEFAULT_RUNNING_BATCH: RunningBatchSetup = { maxArticles: 16, stateBudgetBytes: summaryStateBytes(DEFAULT_SUMMARY_STATE_MIB), joinStallMs: 250 };

export interface Seq2SeqLoadOptions {
  threads?: number;
  /** Model cache root (compiled graphs of read-only model folders go under it). */
  cacheDir?: string;
  /** "auto" (default), or force the compiled or the published decoder. */
  engine?: BartEngine | "auto";
  /** Keep the compiled engine's encoder and step loaded (default: each released while the other phase runs). */
  residentSessions?: boolean;
  /** How the running decoder batch admits articles (continuous batching). */
  running?: RunningBatchSetup;
  /** One-line notices for the user: compilation started, compiled decoder unavailable. */
  onNotice?: (message: string) => void;
}

export async function loadSeq2SeqModel(
  files: Seq2SeqModelFiles,
  config: Readonly<Record<string, unknown>>,
  generationConfig: Readonly<Record<string, unknown>> | undefined,
  options: Seq2SeqLoadOptions = {},
): Promise<Seq2SeqRunner> {
  const client = await Seq2SeqWorkerClient.start(
    {
      files: {
        // The model store's plan (models/model-files.ts) chose the dtype's files: the encoder and
        // the merged decoder, or in a directory without it the split pair (its decoder_model compiles).
        encoder: files.encoder,
        ...(files.decoderMerged ? { decoderMerged: files.decoderMerged } : {}),
        ...(files.splitDecoder ? { splitDecoder: files.splitDecoder } : {}),
        config,
        ...(generationConfig ? { generationConfig } : {}),
      },
      options: {
        engine: options.engine ?? "auto",
        compiledCacheDir: compiledCacheDir(options.cacheDir),
        ...(options.threads !== undefined ? { intraOpNumThreads: options.threads } : {}),
        ...(options.residentSessions !== undefined ? { residentSessions: options.residentSessions } : {}),
      },
      running: options.running ?? DEFAULT_RUNNING_BATCH,
    },
    {
      onCompile: (source, graph) =>
        options.onNotice?.(
          graph === "decoder"
            ? `compiling the summariser's decoder for beam search (once per model file): ${source}`
            : `compiling the summariser's encoder with fused attention (once per model file): ${source}`,
        ),
    },
  );
  if (client.fallbackReason) {
    options.onNotice?.(`the compiled decoder is not available, so the published decoder graph runs (slower): ${client.fallbackReason}`);
  }
  return {
    engine: client.engine,
    sourceGroups: client.engine === "compiled" ? SOURCE_GROUPS : 1,
    ...(client.fallbackReason ? { fallbackReason: client.fallbackReason } : {}),
    generate: (inputIds, generation, signal, onProgress) => client.generate(inputIds, generation, signal, onProgress),
    summarize: (inputIds, generation, signal, onProgress) => client.submit(inputIds, generation, signal, onProgress),
    timing: () => ({ ...client.timing }),
    dispose: () => client.dispose(),
  };
}
