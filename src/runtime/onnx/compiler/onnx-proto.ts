/**
 * Reading and writing ONNX model files with the ONNX protobuf schema (`onnx-proto`, over protobufjs).
 *
 * A published model holds its weights either inline (`raw_data` inside the protobuf) or in an external
 * data file. Either way we only need to know *where* each weight's bytes are: the compiled graphs refer
 * to those bytes in place (ONNX external data: file, offset, length), so compiling never copies a
 * weight and the compiled files are a few hundred kilobytes.
 */

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import onnxProto from "onnx-proto";

export const onnx = onnxProto.onnx;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type ModelProto = onnxProto.onnx.IModelProto;

export const DataType = onnx.TensorProto.DataType;

/** Where the bytes of one initializer live. */
export interface WeightSource {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  /** File holding the bytes (the model file itself for inline `raw_data`). */
  readonly file: string;
  readonly offset: number;
  readonly length: number;
  /** Set for a tensor stored in typed fields instead of raw bytes (small ones: scalars, zero points); copied as is. */
  readonly inline?: TensorProto;
}

export interface LoadedOnnxModel {
  readonly path: string;
  readonly model: ModelProto;
  /** Every initializer of the main graph, by name. */
  readonly weights: ReadonlyMap<string, WeightSource>;
}

export class OnnxFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OnnxFormatError";
  }
}

const BYTES_PER_ELEMENT: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.INT64]: 8,
  [DataType.INT32]: 4,
  [DataType.INT8]: 1,
  [DataType.UINT8]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.BOOL]: 1,
};

function longToNumber(value: unknown): number {
  if (typeof value === "number") return value;
  if (value && typeof value === "object" && "low" in value && "high" in value) {
    const { low, high } = value as { low: number; high: number };
    return high * 2 ** 32 + (low >>> 0);
  }
  return Number(value);
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Parses an ONNX model file and locates every initializer's bytes. */
export function loadOnnxModel(path: string): LoadedOnnxModel {
  const buffer = readFileSync(path);
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(buffer);
  } catch (error) {
    throw new OnnxFormatError(`${path}: not an ONNX model (${(error as Error).message})`);
  }
  const graph = model.graph;
  if (!graph) throw new OnnxFormatError(`${path}: no graph`);
  const weights = new Map<string, WeightSource>();
  for (const tensor of graph.initializer ?? []) {
    const name = tensor.name ?? "";
    const dims = (tensor.dims ?? []).map(longToNumber);
    const dataType = tensor.dataType ?? 0;
    const bytesPer = BYTES_PER_ELEMENT[dataType];
    if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? "", e.value ?? ""]));
      const location = entries.get("location");
      if (!location) throw new OnnxFormatError(`${path}: initializer ${name} has external data without a location`);
      const offset = Number(entries.get("offset") ?? 0);
      const length = entries.has("length") ? Number(entries.get("length")) : elementCount(dims) * (bytesPer ?? 0);
      weights.set(name, { name, dims, dataType, file: join(dirname(path), location), offset, length });
      continue;
    }
    const raw = tensor.rawData && tensor.rawData.length > 0 ? tensor.rawData : null;
    if (raw) {
      // protobufjs hands out views into the file buffer: the view's position is the byte offset in the file.
      const offset = raw.byteOffset - buffer.byteOffset;
      weights.set(name, { name, dims, dataType, file: path, offset, length: raw.byteLength });
    } else {
      weights.set(name, { name, dims, dataType, file: path, offset: 0, length: 0, inline: tensor });
    }
  }
  return { path, model, weights };
}

/** The graph's nodes, those of If/Loop subgraphs included (the merged decoder keeps its nodes in an If). */
export function allNodes(graph: GraphProto): NodeProto[] {
  const nodes: NodeProto[] = [];
  const visit = (g: GraphProto): void => {
    for (const node of g.node ?? []) {
      nodes.push(node);
      for (const attribute of node.attribute ?? []) {
        if (attribute.g) visit(attribute.g);
        for (const sub of attribute.graphs ?? []) visit(sub);
      }
    }
  };
  visit(graph);
  return nodes;
}

/** An initializer whose bytes stay where they are: an external-data reference to `source`, relative to `modelDir`. */
export function externalInitializer(name: string, source: WeightSource, location: string): TensorProto {
  if (source.inline) return onnx.TensorProto.create({ ...source.inline, name });
  return onnx.TensorProto.create({
    name,
    dims: [...source.dims],
    dataType: source.dataType,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: "location", value: location },
      { key: "offset", value: String(source.offset) },
      { key: "length", value: String(source.length) },
    ],
  });
}

export function serializeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
