/**
 * Compiles a published BART encoder (`encoder_model.onnx`, fp32) into the graph `bart-encoder-graph.ts`
 * describes: the same weights (external-data references into the source), the token-embedding rows as an
 * input read straight from the source file (`token-table.ts`), and fused flash attention.
 *
 * Why the table goes: it is the encoder's largest weight (50,264 x 1,024 floats, 206 MB in fp32) and the
 * decoder holds the same table for its LM head, so a loaded summariser kept it twice. An encoder run reads
 * a few hundred of its rows; reading those from the file (the page cache, after the first time) costs well
 * under a millisecond per article.
 *
 * Quantized encoders are not compiled (CompileRefusal, remembered): the published graph runs as it is.
 */

import { dirname, relative, resolve } from "node:path";
import { buildEncoderGraph, type BartEncoderShape } from "./bart-encoder-graph.js";
import { findBartEncoderWeights, type BartEncoderWeights } from "./bart-weights.js";
import { BartCompileError, bartEncoderShapeFromConfig } from "./compile-bart.js";
import { CompileFolderError, compileCached, CompileRefusal } from "./compile-cache.js";
import type { TokenTableLocation } from "./token-table-location.js";
import { loadOnnxModel, OnnxFormatError, serializeModel, type WeightSource } from "./onnx-proto.js";

/** Bump whenever the emitted graph changes: old compilations are then ignored and rebuilt. */
export const BART_ENCODER_COMPILER_VERSION = 2;

export { TOKEN_EMBEDDINGS_INPUT, type TokenTableLocation } from "./token-table-location.js";

export interface CompiledBartEncoder {
  readonly graph: string;
  readonly table: TokenTableLocation;
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
    const outcome = await compileCached<{ table: TokenTableLocation }>({
      source,
      tag: `e${BART_ENCODER_COMPILER_VERSION}`,
      parts: ["encoder"],
      settings: JSON.stringify(shape),
      ...(options.fallbackDir ? { fallbackDir: options.fallbackDir } : {}),
      ...(options.onCompile ? { onCompile: options.onCompile } : {}),
      build: (locate) => buildEncoder(source, shape, locate),
    });
    // The manifest names the table's file relative to the source, so a moved model folder still works.
    const table = { ...outcome.details.table, file: resolve(dirname(source), outcome.details.table.file) };
    return { graph: outcome.paths["encoder"]!, table, compiled: outcome.compiled };
  } catch (error) {
    if (error instanceof OnnxFormatError || error instanceof CompileFolderError || error instanceof CompileRefusal) throw new BartCompileError(error.message, { cause: error });
    throw error;
  }
}

function buildEncoder(source: string, shape: BartEncoderShape, locate: (weight: WeightSource) => string) {
  let weights: BartEncoderWeights;
  try {
    weights = findBartEncoderWeights(loadOnnxModel(source), shape.layers);
  } catch (error) {
    // A graph in another layout stays in that layout: remembered, so the next load does not parse it again.
    if (error instanceof OnnxFormatError) throw new CompileRefusal(error.message, { cause: error });
    throw error;
  }
  const table = weights.embedTokens.weight;
  // A quantized encoder is left alone. Its table: ONNX Runtime fuses the lookup with the dequantization in
  // the published graph, and fed from outside the same values come out up to 6e-7 apart (tiny fixture);
  // it is 51 MB, not 206. Its matrices: rebuilt with flash attention it ran ~12% faster at 680 tokens, but
  // the dynamic quantization turned the attention's rounding into hidden states up to 8e-2 apart.
  if (weights.embedTokens.kind !== "float") throw new CompileRefusal(`${source}: the token-embedding table is quantized; the published encoder runs`);
  if (weights.layers.some((layer) => layer.fc1.matrix.kind !== "float")) throw new CompileRefusal(`${source}: the matrices are int8; the published encoder runs`);
  if (table.dims.length !== 2 || table.inline) throw new CompileRefusal(`${source}: the token-embedding table is not a matrix stored as raw bytes`);
  const [rows, width] = table.dims as [number, number];
  return {
    graphs: { encoder: serializeModel(buildEncoderGraph(weights, shape, locate)) },
    details: { table: { file: relative(dirname(source), table.file), offset: table.offset, rows, width, dataType: table.dataType } },
  };
}
