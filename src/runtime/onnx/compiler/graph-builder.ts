/**
 * A small builder for ONNX graphs: typed inputs and outputs, nodes with generated value names, constants
 * and initializers. Enough for the graphs this engine compiles; not a general ONNX toolkit.
 */

import { DataType, onnx, type ModelProto, type NodeProto, type TensorProto } from "./onnx-proto.js";

export type Dim = number | string;

/** Numbers become INT attributes when integral: pass `{ float: x }` for a FLOAT attribute. */
type AttributeValue = number | string | readonly number[] | TensorProto | { float: number };

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: onnxProtoValueInfo[] = [];
  private readonly outputs: onnxProtoValueInfo[] = [];
  private readonly initializerNames = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  input(name: string, dataType: number, shape: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, dataType, shape));
    return name;
  }

  /** Declares `value` (a node output) as graph output `name`, renaming it in place (no Identity copy). */
  output(value: string, name: string, dataType: number, shape: readonly Dim[]): string {
    for (const node of this.nodes) {
      node.output = (node.output ?? []).map((o) => (o === value ? name : o));
      node.input = (node.input ?? []).map((i) => (i === value ? name : i));
    }
    this.outputs.push(valueInfo(name, dataType, shape));
    return name;
  }

  /** Adds an initializer once (by name); later calls with the same name return it. */
  initializer(tensor: TensorProto): string {
    const name = tensor.name ?? "";
    if (!this.initializerNames.has(name)) {
      this.initializerNames.add(name);
      this.initializers.push(tensor);
    }
    return name;
  }

  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    return this.constantTensor(DataType.INT64, dims, new Uint8Array(data.buffer));
  }

  float(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constantTensor(DataType.FLOAT, dims, new Uint8Array(Float32Array.from(values).buffer));
  }

  /** An initializer from raw little-endian bytes. */
  constantTensor(dataType: number, dims: readonly number[], rawData: Uint8Array, name?: string): string {
    const tensorName = name ?? `const_${++this.counter}`;
    return this.initializer(onnx.TensorProto.create({ name: tensorName, dims: [...dims], dataType, rawData }));
  }

  op(type: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, outputs = 1, domain = ""): string[] {
    const id = ++this.counter;
    const outNames = Array.from({ length: outputs }, (_, i) => `${type}_${id}_${i}`);
    this.nodes.push(
      onnx.NodeProto.create({
        opType: type,
        domain,
        name: `${type}_${id}`,
        input: [...inputs],
        output: outNames,
        attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
      }),
    );
    return outNames;
  }

  /** `op` with one output. */
  node(type: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, domain = ""): string {
    return this.op(type, inputs, attributes, 1, domain)[0]!;
  }

  build(opsetImports: readonly { domain: string; version: number }[]): ModelProto {
    const graph = onnx.GraphProto.create({
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    });
    return onnx.ModelProto.create({
      irVersion: 8,
      producerName: "news-moe",
      opsetImport: opsetImports.map((o) => onnx.OperatorSetIdProto.create({ domain: o.domain, version: o.version })),
      graph,
    });
  }
}

type onnxProtoValueInfo = ReturnType<typeof onnx.ValueInfoProto.create>;

function valueInfo(name: string, elemType: number, shape: readonly Dim[]): onnxProtoValueInfo {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType,
        shape: onnx.TensorShapeProto.create({
          dim: shape.map((d) =>
            typeof d === "number" ? onnx.TensorShapeProto.Dimension.create({ dimValue: d }) : onnx.TensorShapeProto.Dimension.create({ dimParam: d }),
          ),
        }),
      }),
    }),
  });
}

function attribute(name: string, value: AttributeValue): ReturnType<typeof onnx.AttributeProto.create> {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === "number") {
    return Number.isInteger(value) && !Object.is(value, -0)
      ? onnx.AttributeProto.create({ name, type: A.INT, i: value })
      : onnx.AttributeProto.create({ name, type: A.FLOAT, f: value });
  }
  if (typeof value === "string") return onnx.AttributeProto.create({ name, type: A.STRING, s: new TextEncoder().encode(value) });
  if (typeof value === "object" && "float" in value) return onnx.AttributeProto.create({ name, type: A.FLOAT, f: value.float });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: A.INTS, ints: [...(value as number[])] });
  return onnx.AttributeProto.create({ name, type: A.TENSOR, t: value as TensorProto });
}
