/**
 * Compiles a published BART encoder (`encoder_model.onnx`, fp32) into the same graph
 * without its token-embedding table: the rows the batch needs come in as an input instead, read
 * straight from the source file (`token-table.ts`).
 *
 * Why: the table is the encoder's largest weight (50,264 × 1,024 floats, 206 MB in fp32) and the
 * decoder holds the same table for its LM head, so a loaded summariser kept it twice. An encoder run
 * reads a few hundred of its rows; reading those from the file (the page cache, after the first
 * time) costs well under a millisecond per article and keeps the table out of the process.
 *
 * The graph is otherwise the published one, node for node: the table's Gather is removed, its output
 * becomes the graph input `token_embeddings`, and nodes left without a consumer (the ids' reshape
 * for the Gather) are dropped. Every other initializer is an external-data reference into the source.
 */

import { dirname, relative, resolve } from "node:path";
import { BartCompileError } from "./compile-bart.js";
import { CompileFolderError, compileCached, CompileRefusal } from "./compile-cache.js";
import { TOKEN_EMBEDDINGS_INPUT, type TokenTableLocation } from "./token-table-location.js";
import { allNodes, DataType, externalInitializer, loadOnnxModel, onnx, OnnxFormatError, serializeModel, type NodeProto, type WeightSource } from "./onnx-proto.js";

/** Bump whenever the emitted graph changes: old compilations are then ignored and rebuilt. */
export const BART_ENCODER_COMPILER_VERSION = 1;

export { TOKEN_EMBEDDINGS_INPUT, type TokenTableLocation } from "./token-table-location.js";

export interface CompiledBartEncoder {
  readonly graph: string;
  readonly table: TokenTableLocation;
  readonly compiled: boolean;
}

const TABLE_TYPES = new Map<number, { bytes: number; name: string }>([
  [DataType.FLOAT, { bytes: 4, name: "float32" }],
  [DataType.UINT8, { bytes: 1, name: "uint8" }],
  [DataType.INT8, { bytes: 1, name: "int8" }],
]);

export function tokenTableElementBytes(dataType: number): number {
  const type = TABLE_TYPES.get(dataType);
  if (!type) throw new BartCompileError(`token-embedding table of ONNX type ${dataType} is not supported`);
  return type.bytes;
}

/** Compiles `sourceEncoder` (or reuses an earlier compilation of the same bytes). */
export async function compileBartEncoder(
  sourceEncoder: string,
  options: { readonly fallbackDir?: string; readonly onCompile?: (source: string) => void } = {},
): Promise<CompiledBartEncoder> {
  const source = resolve(sourceEncoder);
  try {
    const outcome = await compileCached<{ table: TokenTableLocation }>({
      source,
      tag: `e${BART_ENCODER_COMPILER_VERSION}`,
      parts: ["encoder"],
      ...(options.fallbackDir ? { fallbackDir: options.fallbackDir } : {}),
      ...(options.onCompile ? { onCompile: options.onCompile } : {}),
      build: (locate) => buildEncoderWithoutTable(source, locate),
    });
    // The manifest names the table's file relative to the source, so a moved model folder still works.
    const table = { ...outcome.details.table, file: resolve(dirname(source), outcome.details.table.file) };
    return { graph: outcome.paths["encoder"]!, table, compiled: outcome.compiled };
  } catch (error) {
    if (error instanceof OnnxFormatError || error instanceof CompileFolderError || error instanceof CompileRefusal) throw new BartCompileError(error.message, { cause: error });
    throw error;
  }
}

function buildEncoderWithoutTable(source: string, locate: (weight: WeightSource) => string) {
  const loaded = loadOnnxModel(source);
  const graph = loaded.model.graph!;
  const nodes = graph.node ?? [];
  const inputNames = new Set((graph.input ?? []).map((i) => i.name ?? ""));
  if (!inputNames.has("input_ids")) throw new BartCompileError(`${source}: no input_ids input`);
  // The table: the largest two-dimensional initializer a Gather reads rows of (the other is the
  // learned positions' table, 1,026 rows against the vocabulary's tens of thousands).
  const tableOf = (node: NodeProto): WeightSource | undefined => {
    const table = node.opType === "Gather" ? loaded.weights.get(node.input?.[0] ?? "") : undefined;
    return table && table.dims.length === 2 && !table.inline ? table : undefined;
  };
  const lookups = nodes.filter((node) => tableOf(node) !== undefined).sort((a, b) => tableOf(b)!.dims[0]! - tableOf(a)!.dims[0]!);
  if (lookups.length === 0) throw new BartCompileError(`${source}: no token-embedding Gather`);
  const lookup = lookups[0]!;
  const table = tableOf(lookup)!;
  // A quantized table (uint8 + DequantizeLinear) is left alone: ONNX Runtime fuses its lookup with
  // the dequantization in the published graph, and fed from outside, the same values come out up to
  // 6e-7 apart (measured on the tiny fixture), so results would change; it is 51 MB, not 206.
  if (table.dataType !== DataType.FLOAT) throw new CompileRefusal(`${source}: the token-embedding table is quantized; the published encoder runs`);
  const readers = allNodes(graph).filter((node) => (node.input ?? []).includes(table.name));
  if (readers.length !== 1) throw new BartCompileError(`${source}: the token-embedding table is read by ${readers.length} nodes`);

  const looked = lookup.output![0]!;
  const rewired: NodeProto[] = nodes
    .filter((node) => node !== lookup)
    .map((node) => onnx.NodeProto.create({ ...node, input: (node.input ?? []).map((i) => (i === looked ? TOKEN_EMBEDDINGS_INPUT : i)) }));
  const outputs = new Set((graph.output ?? []).map((o) => o.name ?? ""));
  const kept = withoutDeadNodes(rewired, outputs);
  const used = new Set(kept.flatMap((node) => node.input ?? []));

  const [rows, width] = table.dims as [number, number];
  const initializers = (graph.initializer ?? [])
    .filter((tensor) => tensor.name !== table.name && used.has(tensor.name ?? ""))
    .map((tensor) => externalInitializer(tensor.name!, loaded.weights.get(tensor.name!)!, locate(loaded.weights.get(tensor.name!)!)));
  const inputs = [
    ...(graph.input ?? []).filter((input) => used.has(input.name ?? "")),
    onnx.ValueInfoProto.create({
      name: TOKEN_EMBEDDINGS_INPUT,
      type: {
        tensorType: {
          elemType: table.dataType,
          shape: { dim: [{ dimParam: "batch_size" }, { dimParam: "encoder_sequence_length" }, { dimValue: width }] },
        },
      },
    }),
  ];
  const model = onnx.ModelProto.create({
    irVersion: loaded.model.irVersion,
    opsetImport: loaded.model.opsetImport,
    producerName: "news-moe",
    graph: onnx.GraphProto.create({ name: "bart_encoder_without_token_table", node: kept, initializer: initializers, input: inputs, output: graph.output }),
  });
  return {
    graphs: { encoder: serializeModel(model) },
    details: { table: { file: relative(dirname(source), table.file), offset: table.offset, rows, width, dataType: table.dataType } },
  };
}

/** Drops nodes none of whose outputs is read (by a node or as a graph output), until none is left. */
function withoutDeadNodes(nodes: readonly NodeProto[], graphOutputs: ReadonlySet<string>): NodeProto[] {
  let current = [...nodes];
  for (;;) {
    const read = new Set([...graphOutputs, ...current.flatMap((node) => node.input ?? [])]);
    const next = current.filter((node) => (node.output ?? []).some((o) => read.has(o)));
    if (next.length === current.length) return next;
    current = next;
  }
}
