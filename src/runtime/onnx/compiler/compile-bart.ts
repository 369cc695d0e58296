/**
 * Compiles a published BART decoder (`decoder_model_merged.onnx` or `decoder_model.onnx`) into the two
 * graphs `bart-decoder-graph.ts` describes, and keeps them beside the source for later runs.
 *
 * The compiled graphs hold no weights of their own: every initializer is an external-data reference
 * into the source file (offset and length of its bytes), so compiling takes seconds, writes about a
 * megabyte at most (an int8 step carries its matrices' column sums, ~0.5 MB on distilbart-cnn-6-6),
 * and a cache of compiled models costs no disk. Files written next to `SOURCE.onnx`
 * (see compile-cache.ts for when they are reused):
 *
 *   SOURCE.news-moe-c<version>.step.onnx     the decoder step
 *   SOURCE.news-moe-c<version>.cross.onnx    the per-article cross-attention keys/values
 *   SOURCE.news-moe-c<version>.json          manifest: source size, mtime and SHA-256, graph shape, and
 *                                            where the step reads its token-embedding rows
 */

import { dirname, relative, resolve } from "node:path";
import { buildCrossKvGraph, buildStepGraph, type BartShape } from "./bart-decoder-graph.js";
import type { BartEncoderShape } from "./bart-encoder-graph.js";
import { findBartDecoderWeights } from "./bart-weights.js";
import { CompileFolderError, compileCached, CompileRefusal } from "./compile-cache.js";
import { loadOnnxModel, OnnxFormatError, serializeModel } from "./onnx-proto.js";
import type { TokenTableLocation } from "./token-table-location.js";

/** Bump whenever the emitted graphs change: old compilations are then ignored and rebuilt. */
export const BART_COMPILER_VERSION = 10;

export interface CompiledBartDecoder {
  readonly step: string;
  readonly crossKv: string;
  readonly shape: BartShape;
  /** Where the step reads its input tokens' embedding rows (the step graph takes them as an input). */
  readonly stepTable: TokenTableLocation;
  /** True when this call compiled; false when an earlier compilation was reused. */
  readonly compiled: boolean;
}

export interface CompileBartOptions {
  /** Parsed config.json of the model. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Where to put the graphs when the source's folder is read-only. */
  readonly fallbackDir?: string;
  /** Told once before a compilation starts (not when one is reused). */
  readonly onCompile?: (source: string) => void;
}

export class BartCompileError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BartCompileError";
  }
}

/** A config value that must be a number. */
function configNumber(config: Readonly<Record<string, unknown>>, key: string): number {
  const value = config[key];
  if (typeof value !== "number") throw new BartCompileError(`config.json has no numeric ${key}`);
  return value;
}

/** The checks both compiled graphs need: BART's post-norm layout with erf GELU; anything else keeps the published graphs. */
function checkCompilable(config: Readonly<Record<string, unknown>>, headsKey: string): { dModel: number; heads: number; embedScale: number } {
  if (config["model_type"] !== undefined && config["model_type"] !== "bart") {
    throw new BartCompileError(`model_type ${String(config["model_type"])} is not bart`);
  }
  if (config["normalize_before"] === true) throw new BartCompileError("normalize_before=true (pre-norm BART) is not compiled");
  if (config["add_final_layer_norm"] === true) throw new BartCompileError("add_final_layer_norm=true is not compiled");
  const activation = config["activation_function"] ?? "gelu";
  if (activation !== "gelu") throw new BartCompileError(`activation_function ${String(activation)} is not compiled (gelu only)`);
  const dModel = configNumber(config, "d_model");
  const heads = configNumber(config, headsKey);
  if (dModel % heads !== 0) throw new BartCompileError(`d_model is not divisible by ${headsKey}`);
  return { dModel, heads, embedScale: config["scale_embedding"] === true ? Math.sqrt(dModel) : 1 };
}

export function bartShapeFromConfig(config: Readonly<Record<string, unknown>>): BartShape {
  const { dModel, heads, embedScale } = checkCompilable(config, "decoder_attention_heads");
  return { dModel, heads, layers: configNumber(config, "decoder_layers"), vocab: configNumber(config, "vocab_size"), embedScale, layerNormEpsilon: 1e-5 };
}

export function bartEncoderShapeFromConfig(config: Readonly<Record<string, unknown>>): BartEncoderShape {
  const { dModel, heads, embedScale } = checkCompilable(config, "encoder_attention_heads");
  return { dModel, heads, layers: configNumber(config, "encoder_layers"), embedScale, layerNormEpsilon: 1e-5 };
}

/** Compiles `sourceDecoder` (or reuses an earlier compilation of the same bytes). */
export async function compileBartDecoder(sourceDecoder: string, options: CompileBartOptions): Promise<CompiledBartDecoder> {
  const source = resolve(sourceDecoder);
  const shape = bartShapeFromConfig(options.config);
  try {
    const outcome = await compileCached<{ shape: BartShape; table: TokenTableLocation }>({
      source,
      tag: `c${BART_COMPILER_VERSION}`,
      parts: ["step", "cross"],
      // The graph is built for the config's shape (layer count, widths): another config compiles anew.
      settings: JSON.stringify(shape),
      ...(options.fallbackDir ? { fallbackDir: options.fallbackDir } : {}),
      ...(options.onCompile ? { onCompile: options.onCompile } : {}),
      build: (locate) => {
        let weights: ReturnType<typeof findBartDecoderWeights>;
        try {
          weights = findBartDecoderWeights(loadOnnxModel(source), shape.layers);
        } catch (error) {
          // A graph in another layout stays in that layout: remembered, so the next load does not parse it again.
          if (error instanceof OnnxFormatError) throw new CompileRefusal(error.message, { cause: error });
          throw error;
        }
        for (const weight of [weights.embedTokens.weight, weights.layers[0]!.fc1.matrix.weight]) {
          if (weight.dims.length !== 2) throw new CompileRefusal(`${source}: ${weight.name} is not a matrix`);
        }
        const table = weights.embedTokens.weight;
        if (table.inline) throw new CompileRefusal(`${source}: the token-embedding table is not stored as raw bytes`);
        // Relative to the source, so a moved model folder still finds it.
        const location = { file: relative(dirname(source), table.file), offset: table.offset, rows: table.dims[0]!, width: table.dims[1]!, dataType: table.dataType };
        const graphs = {
          step: serializeModel(buildStepGraph(weights, shape, locate)),
          cross: serializeModel(buildCrossKvGraph(weights, shape, locate)),
        };
        return { graphs, details: { shape, table: location } };
      },
    });
    const stepTable = { ...outcome.details.table, file: resolve(dirname(source), outcome.details.table.file) };
    return { step: outcome.paths["step"]!, crossKv: outcome.paths["cross"]!, shape: outcome.details.shape, stepTable, compiled: outcome.compiled };
  } catch (error) {
    if (error instanceof OnnxFormatError || error instanceof CompileFolderError || error instanceof CompileRefusal) {
      throw new BartCompileError(error.message, { cause: error });
    }
    throw error;
  }
}
