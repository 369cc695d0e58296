/**
 * Compiles a published encoder-only graph (a sequence classifier such as DistilBERT SST-2,
 * `onnx/model.onnx`) into the same graph without its token-embedding table: the rows a batch needs come
 * in as the input `token_embeddings`, read from the source file by `token-table.ts`.
 *
 * Why: the table is the model's largest weight (30,522 x 768 floats, 94 MB in fp32, for DistilBERT), and a
 * batch reads a few thousand of its rows. Reading those from the page cache costs well under a millisecond
 * per batch and keeps the table's pages out of the process.
 *
 * The graph is otherwise the published one, node for node, so its results are bit for bit the published
 * graph's: the table's Gather is removed, its output becomes the new input, and nodes left without a
 * consumer are dropped. Every other initializer is an external-data reference into the source.
 * Quantized tables are refused (remembered): ONNX Runtime fuses their lookup with the dequantization,
 * and fed from outside the values come out slightly apart.
 */

import { dirname, relative, resolve } from "node:path";
import { CompileFolderError, compileCached, CompileRefusal } from "./compile-cache.js";
import { TOKEN_EMBEDDINGS_INPUT, type TokenTableLocation } from "./token-table-location.js";
import { allNodes, DataType, externalInitializer, loadOnnxModel, onnx, OnnxFormatError, serializeModel, type NodeProto, type WeightSource } from "./onnx-proto.js";

/** Bump whenever the emitted graph changes: old compilations are then ignored and rebuilt. */
export const TABLELESS_COMPILER_VERSION = 1;

export interface TablelessGraph {
  readonly graph: string;
  readonly table: TokenTableLocation;
  /** True when this call compiled; false when an earlier compilation was reused. */
  readonly compiled: boolean;
}

export class TablelessCompileError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TablelessCompileError";
  }
}

/** Compiles `sourceGraph` (or reuses an earlier compilation of the same bytes). */
export async function compileWithoutTokenTable(
  sourceGraph: string,
  options: { readonly fallbackDir?: string; readonly onCompile?: (source: string) => void } = {},
): Promise<TablelessGraph> {
  const source = resolve(sourceGraph);
  try {
    const outcome = await compileCached<{ table: TokenTableLocation }>({
      source,
      tag: `t${TABLELESS_COMPILER_VERSION}`,
      parts: ["model"],
      ...(options.fallbackDir ? { fallbackDir: options.fallbackDir } : {}),
      ...(options.onCompile ? { onCompile: options.onCompile } : {}),
      build: (locate) => buildWithoutTable(source, locate),
    });
    // The manifest names the table's file relative to the source, so a moved model folder still works.
    const table = { ...outcome.details.table, file: resolve(dirname(source), outcome.details.table.file) };
    return { graph: outcome.paths["model"]!, table, compiled: outcome.compiled };
  } catch (error) {
    if (error instanceof OnnxFormatError || error instanceof CompileFolderError || error instanceof CompileRefusal) {
      throw new TablelessCompileError(error.message, { cause: error });
    }
    throw error;
  }
}

function buildWithoutTable(source: string, locate: (weight: WeightSource) => string) {
  const loaded = loadOnnxModel(source);
  const graph = loaded.model.graph!;
  const nodes = graph.node ?? [];
  if (!(graph.input ?? []).some((i) => i.name === "input_ids")) throw new CompileRefusal(`${source}: no input_ids input`);
  // The table: what a Gather reads by input_ids directly (positions are gathered by a computed index).
  const lookups = nodes.filter((node) => node.opType === "Gather" && node.input?.[1] === "input_ids");
  const table = lookups.length === 1 ? loaded.weights.get(lookups[0]!.input?.[0] ?? "") : undefined;
  if (!table || table.dims.length !== 2 || table.inline) throw new CompileRefusal(`${source}: no token-embedding table gathered by input_ids`);
  if (table.dataType !== DataType.FLOAT) throw new CompileRefusal(`${source}: the token-embedding table is quantized; the published graph runs`);
  const lookup = lookups[0]!;
  const readers = allNodes(graph).filter((node) => (node.input ?? []).includes(table.name));
  if (readers.length !== 1) throw new CompileRefusal(`${source}: the token-embedding table is read by ${readers.length} nodes`);

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
      type: { tensorType: { elemType: table.dataType, shape: { dim: [{ dimParam: "batch_size" }, { dimParam: "sequence_length" }, { dimValue: width }] } } },
    }),
  ];
  const model = onnx.ModelProto.create({
    irVersion: loaded.model.irVersion,
    opsetImport: loaded.model.opsetImport,
    producerName: "news-moe",
    graph: onnx.GraphProto.create({ name: `${graph.name ?? "graph"}_without_token_table`, node: kept, initializer: initializers, input: inputs, output: graph.output }),
  });
  return {
    graphs: { model: serializeModel(model) },
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
