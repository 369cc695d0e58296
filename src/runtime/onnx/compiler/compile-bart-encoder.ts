/**
 * Compiles a published BART encoder (`encoder_model.onnx`, fp32, or `encoder_model_quantized.onnx`,
 * int8) into the graph `bart-encoder-graph.ts` describes: the same weights (external-data references into
 * the source) and fused flash attention; for fp32, the token-embedding rows as an input read straight from
 * the source file (`token-table.ts`).
 *
 * Why the fp32 table goes: it is the encoder's largest weight (50,264 x 1,024 floats, 206 MB in fp32) and
 * the decoder holds the same table for its LM head, so a loaded summariser kept it twice. An encoder run
 * reads a few hundred of its rows; reading those from the file (the page cache, after the first time)
 * costs well under a millisecond per article.
 *
 * Why int8 compiles too: the published int8 encoder keeps attention as separate products and a softmax
 * over [heads, S, S] scores. Fused, it does 7% less work at 250-680 tokens, peaks a quarter to a half
 * lower and opens in half the time (full size, `scripts/prefill-timing.mjs`; README). Its int8 products
 * are kept as published; only the attention changes, and with it the rounding of the activations that
 * the next product quantizes (see the tests for how far apart the hidden states come).
 */

import { dirname, relative, resolve } from "node:path";
import { buildEncoderGraph, type BartEncoderShape } from "./bart-encoder-graph.js";
import { findBartEncoderWeights } from "./bart-weights.js";
import { BartCompileError, bartEncoderShapeFromConfig } from "./compile-bart.js";
import { CompileFolderError, compileCached, CompileRefusal, findOrRefuse } from "./compile-cache.js";
import type { TokenTableLocation } from "./token-table-location.js";
import { loadOnnxModel, OnnxFormatError, serializeModel, type WeightSource } from "./onnx-proto.js";

/** Bump whenever the emitted graph changes: old compilations are then ignored and rebuilt. */
export const BART_ENCODER_COMPILER_VERSION = 3;

export { TOKEN_EMBEDDINGS_INPUT, type TokenTableLocation } from "./token-table-location.js";

export interface CompiledBartEncoder {
  readonly graph: string;
  /** Where the graph's input rows are read from; null when the graph looks them up itself (input_ids). */
  readonly table: TokenTableLocation | null;
  readonly compiled: boolean;
}

/** Compiles `sourceEncoder` (or reuses an earlier compilation of the same bytes). */
export async function compileBartEncoder(
  sourceEncoder: string,
  options: {
    /** Parsed config.json of the model. */
    readonly config: Readonly<Record<string, unknown>>;
    readonly fallbackDir?: string;
    readonly onCompile?: (source: string) => void;
  },
): Promise<CompiledBartEncoder> {
  const source = resolve(sourceEncoder);
  const shape = bartEncoderShapeFromConfig(options.config);
  try {
    const outcome = await compileCached<{ table: TokenTableLocation | null }>({
      source,
      tag: `e${BART_ENCODER_COMPILER_VERSION}`,
      parts: ["encoder"],
      settings: JSON.stringify(shape),
      ...(options.fallbackDir ? { fallbackDir: options.fallbackDir } : {}),
      ...(options.onCompile ? { onCompile: options.onCompile } : {}),
      build: (locate) => buildEncoder(source, shape, locate),
    });
    // The manifest names the table's file relative to the source, so a moved model folder still works.
    const found = outcome.details.table;
    const table = found ? { ...found, file: resolve(dirname(source), found.file) } : null;
    return { graph: outcome.paths["encoder"]!, table, compiled: outcome.compiled };
  } catch (error) {
    if (error instanceof OnnxFormatError || error instanceof CompileFolderError || error instanceof CompileRefusal) throw new BartCompileError(error.message, { cause: error });
    throw error;
  }
}

function buildEncoder(source: string, shape: BartEncoderShape, locate: (weight: WeightSource) => string) {
  const weights = findOrRefuse(() => findBartEncoderWeights(loadOnnxModel(source), shape.layers));
  const graphs = { encoder: serializeModel(buildEncoderGraph(weights, shape, locate)) };
  // A quantized table stays in the graph, looked up there as in the published one (bart-encoder-graph.ts).
  if (weights.embedTokens.kind !== "float") return { graphs, details: { table: null } };
  const table = weights.embedTokens.weight;
  if (table.dims.length !== 2 || table.inline) throw new CompileRefusal(`${source}: the token-embedding table is not a matrix stored as raw bytes`);
  const [rows, width] = table.dims as [number, number];
  return { graphs, details: { table: { file: relative(dirname(source), table.file), offset: table.offset, rows, width, dataType: table.dataType } } };
}
