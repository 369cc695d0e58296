/**
 * Reading and writing ONNX model files with the ONNX protobuf schema (`onnx-proto`, over protobufjs).
 *
 * A published model holds its weights either inline (`raw_data` inside the protobuf) or in an external
 * data file. Either way we only need to know *where* each weight's bytes are: the compiled graphs refer
 * to those bytes in place (ONNX external data: file, offset, length), so compiling never copies a
 * weight and the compiled files are a few hundred kilobytes.
 */

import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
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
  /** Small constant tensors as numbers (scalars and vectors up to 4,096 values), by initializer name. */
  readonly constants: ReadonlyMap<string, Float64Array>;
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

function decodeSmallConstant(tensor: TensorProto, bytes: Uint8Array | null): Float64Array | null {
  const dims = (tensor.dims ?? []).map(longToNumber);
  const count = elementCount(dims);
  if (count > 4096) return null;
  const out = new Float64Array(count);
  if (bytes && bytes.length > 0) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) {
      if (tensor.dataType === DataType.FLOAT) out[i] = view.getFloat32(i * 4, true);
      else if (tensor.dataType === DataType.INT64) out[i] = Number(view.getBigInt64(i * 8, true));
      else if (tensor.dataType === DataType.INT32) out[i] = view.getInt32(i * 4, true);
      else if (tensor.dataType === DataType.DOUBLE) out[i] = view.getFloat64(i * 8, true);
      else return null;
    }
    return out;
  }
  const typed = tensor.floatData?.length ? tensor.floatData : tensor.int64Data?.length ? tensor.int64Data : tensor.int32Data;
  if (!typed || typed.length !== count) return count === 0 ? out : null;
  for (let i = 0; i < count; i++) out[i] = longToNumber(typed[i]);
  return out;
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
  const constants = new Map<string, Float64Array>();
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
      if (elementCount(dims) <= 16) {
        const all = readFileSync(join(dirname(path), location));
        const value = decodeSmallConstant(tensor, all.subarray(offset, offset + length));
        if (value) constants.set(name, value);
      }
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
    const value = decodeSmallConstant(tensor, raw);
    if (value) constants.set(name, value);
  }
  return { path, model, weights, constants };
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

/** Constant nodes' values (`value` attribute), by output name, for small tensors. */
export function constantNodeValues(graph: GraphProto): Map<string, Float64Array> {
  const values = new Map<string, Float64Array>();
  for (const node of allNodes(graph)) {
    if (node.opType !== "Constant") continue;
    const tensor = (node.attribute ?? []).find((a) => a.name === "value")?.t;
    if (!tensor) continue;
    const raw = tensor.rawData && tensor.rawData.length > 0 ? tensor.rawData : null;
    const value = decodeSmallConstant(tensor as TensorProto, raw);
    if (value) values.set(node.output?.[0] ?? "", value);
  }
  return values;
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

/** Relative name under which a compiled graph in `dir` refers to `file` (same folder only). */
export function locationIn(dir: string, file: string): string {
  if (dirname(file) !== dir) throw new OnnxFormatError(`${file}: external data must sit beside the compiled graph in ${dir}`);
  return basename(file);
}
