/**
 * Opens a BART model for `generate()` the fastest way its files allow: the compiled decoder
 * (`compiler/`, compiled on first use and kept beside the source graphs), else the published graphs
 * as they are, with a one-line notice saying why.
 */

import type { Seq2SeqModel } from "../generation/seq2seq-model.js";
import type { GenerationDefaultsSource } from "../generation/generate.js";
import { loadBartOnnx } from "./bart-onnx.js";
import { loadCompiledBart } from "./compiled-bart.js";
import { compileBartDecoder, type CompiledBartDecoder } from "./compiler/compile-bart.js";
import { compileBartEncoder, type CompiledBartEncoder } from "./compiler/compile-bart-encoder.js";
import { compiledFolderFor } from "./compiler/compile-cache.js";
import type { OrtSessionOptions } from "./session.js";

export interface BartSourceFiles {
  readonly encoder: string;
  readonly decoderMerged?: string;
  readonly splitDecoder?: { readonly decoder: string; readonly decoderWithPast: string };
  readonly config: Readonly<Record<string, unknown>>;
  readonly generationConfig?: Readonly<Record<string, unknown>>;
}

export type BartEngine = "compiled" | "published";

/** Which of the model's graphs a compilation is for. */
export type CompiledGraph = "decoder" | "encoder";

export interface OpenBartOptions extends OrtSessionOptions {
  /** "auto" (default): compiled, falling back to the published graphs; or force one. */
  readonly engine?: BartEngine | "auto";
  /** Root for compiled graphs of read-only model folders (a subfolder per source file). */
  readonly compiledCacheDir?: string;
  /**
   * Keep all of the compiled engine's sessions loaded. By default the encoder is released once a call's
   * articles are encoded and the decoder step before the next call encodes (`phase-sessions.ts`).
   */
  readonly residentSessions?: boolean;
  /** Told before a compilation starts (it takes seconds, once per model file). */
  readonly onCompile?: (source: string, graph: CompiledGraph) => void;
}

export interface OpenedBart {
  readonly model: Seq2SeqModel & GenerationDefaultsSource & { dispose(): Promise<void> };
  readonly engine: BartEngine;
  /** Why the compiled decoder is not used, when it is not. */
  readonly fallbackReason?: string;
}


/** Compiles (or finds the earlier compilation of) the model's decoder, as `openBart` does before loading. */
export async function compileBart(
  files: Pick<BartSourceFiles, "decoderMerged" | "splitDecoder" | "config">,
  options: Pick<OpenBartOptions, "compiledCacheDir" | "onCompile"> = {},
): Promise<CompiledBartDecoder> {
  // The merged graph and decoder_model.onnx hold the same weights; either compiles.
  const source = files.decoderMerged ?? files.splitDecoder?.decoder;
  if (!source) throw new Error("no decoder graph to compile");
  const fallbackDir = compiledFolderFor(source, options.compiledCacheDir);
  return compileBartDecoder(source, {
    config: files.config,
    ...(fallbackDir ? { fallbackDir } : {}),
    ...(options.onCompile ? { onCompile: (source: string) => options.onCompile!(source, "decoder") } : {}),
  });
}

/**
 * The encoder compiled with fused attention (fp32: also without its token table), or null when it does
 * not compile (the published encoder then runs as it is: slower, more memory).
 */
export async function compileEncoder(
  files: Pick<BartSourceFiles, "encoder" | "config">,
  options: Pick<OpenBartOptions, "compiledCacheDir" | "onCompile"> = {},
): Promise<CompiledBartEncoder | null> {
  const fallbackDir = compiledFolderFor(files.encoder, options.compiledCacheDir);
  try {
    return await compileBartEncoder(files.encoder, {
      config: files.config,
      ...(fallbackDir ? { fallbackDir } : {}),
      ...(options.onCompile ? { onCompile: (source: string) => options.onCompile!(source, "encoder") } : {}),
    });
  } catch {
    return null;
  }
}

export async function openBart(files: BartSourceFiles, options: OpenBartOptions = {}): Promise<OpenedBart> {
  const engine = options.engine ?? "auto";
  const session: OrtSessionOptions = { ...options };
  let fallbackReason: string | undefined;
  if (engine !== "published") {
    try {
      const compiled = await compileBart(files, options);
      const encoder = await compileEncoder(files, options);
      const model = await loadCompiledBart(
        {
          encoder: encoder?.graph ?? files.encoder,
          ...(encoder?.table ? { encoderTable: encoder.table } : {}),
          step: compiled.step,
          crossKv: compiled.crossKv,
          stepTable: compiled.stepTable,
          shape: compiled.shape,
          config: files.config,
          ...(files.generationConfig ? { generationConfig: files.generationConfig } : {}),
        },
        session,
        { resident: options.residentSessions ?? false },
      );
      return { model, engine: "compiled" };
    } catch (error) {
      if (engine === "compiled") throw error;
      fallbackReason = (error as Error).message.split("\n")[0];
    }
  }
  const model = await loadBartOnnx(
    {
      encoder: files.encoder,
      ...(files.decoderMerged
        ? { decoderMerged: files.decoderMerged }
        : { decoder: files.splitDecoder!.decoder, decoderWithPast: files.splitDecoder!.decoderWithPast }),
      config: files.config,
      ...(files.generationConfig ? { generationConfig: files.generationConfig } : {}),
    },
    session,
  );
  return { model, engine: "published", ...(fallbackReason ? { fallbackReason } : {}) };
}
