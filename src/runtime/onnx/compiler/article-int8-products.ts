/**
 * Int8 matrix products whose activations are quantized per article, for the decoder step.
 *
 * The published int8 graphs quantize an activation per tensor (DynamicQuantizeLinear: one scale and
 * zero point from the min and max of every element). In a running batch a step's tensor holds the rows
 * of several articles, so one article's numbers, and in the end its tokens, would depend on which other
 * articles share the step. Here every article gets the quantization a call of its own computes: the
 * min and max over its N beam rows (rows are article-major, N from `beam_scores` [B, N]). On an
 * article's first step its N rows are equal, so the range is that of its single row, as in the
 * published graph's call.
 *
 * ONNX Runtime's integer products take one activation zero point per product, so the product runs with
 * zero point 0 and each article's zero point comes off in int32, exactly:
 *   sum_k (xq_k - zp)(w_kj - wzp_j) = MatMulInteger(xq, W, 0, wzp)_j - zp * sum_k (w_kj - wzp_j)
 * The column sums are computed here, at compile time, from the weight bytes (a few hundred kilobytes
 * in the compiled graph instead of a constant fold of every matrix at each session load). The scales
 * follow the fused DynamicQuantizeMatMul kernel: float(int32 sum) * (x scale * w scale), the same float
 * product and the same rounding, so a one-article step gives the published graph's numbers.
 *
 * Float matrices go through the builder's plain MatMul: the fp32 graph is untouched.
 */

import { closeSync, openSync, readSync } from "node:fs";
import type { Linear, Matrix } from "./bart-weights.js";
import { DataType, type WeightSource } from "./onnx-proto.js";
import type { WeightedBuilder } from "./weighted-builder.js";

type Int8Matrix = Extract<Matrix, { kind: "int8" }>;

/** One activation quantized per article: its bytes [B, N, d] and each article's scale and zero point as [B, 1, 1]. */
interface QuantizedActivation {
  readonly values: string;
  readonly scale: string;
  readonly zeroPoint: string;
}

export class ArticleInt8Products {
  private readonly quantized = new Map<string, QuantizedActivation>();
  private readonly columnSumsOf = new Map<string, string>();
  private readonly rowShapes = new Map<number, string>();
  private constants: { articleRows: string; trailingAxes: string; zero: string; one: string; levels: string } | null = null;

  /**
   * `articles` and `beams` are the step's B and N as one-element int64 tensors (from `beam_scores`).
   * Nothing is added to the graph until an int8 matrix comes.
   */
  constructor(
    private readonly g: WeightedBuilder,
    private readonly articles: string,
    private readonly beams: string,
  ) {}

  /** x [R, 1, d] @ matrix -> [R, 1, out]. */
  matmul(x: string, matrix: Matrix): string {
    if (matrix.kind === "float") return this.g.matmul(x, matrix);
    const g = this.g;
    const operands = { weight: g.weight(matrix.weight), zeroPoint: g.weight(matrix.zeroPoint), scale: g.weight(matrix.scale), columnSums: this.columnSums(matrix) };
    return this.integerProduct(x, operands, matrix.weight.dims[1]!);
  }

  /** x [R, 1, d] @ an int8 matrix given by its graph values (weight [d, out], per-column zero point, scale and column sums) -> [R, 1, out]. */
  private integerProduct(x: string, matrix: { weight: string; zeroPoint: string; scale: string; columnSums: string }, out: number): string {
    const g = this.g;
    const { values, scale, zeroPoint } = this.quantize(x);
    const integer = g.node("MatMulInteger", [values, matrix.weight, "", matrix.zeroPoint]); // [B, N, out]
    const exact = g.node("Sub", [integer, g.node("Mul", [zeroPoint, matrix.columnSums])]); // sum (xq - zp)(w - wzp), exact in int32
    const scales = g.node("Mul", [scale, matrix.scale]); // [B, 1, out]: x scale * w scale, as the fused kernel
    let rows = this.rowShapes.get(out);
    if (!rows) this.rowShapes.set(out, (rows = g.int64([-1, 1, out])));
    return g.node("Reshape", [g.node("Mul", [g.node("Cast", [exact], { to: DataType.FLOAT }), scales]), rows]); // [R, 1, out]
  }

  linear(x: string, layer: Linear): string {
    if (layer.matrix.kind === "float") return this.g.linear(x, layer);
    return this.g.node("Add", [this.matmul(x, layer.matrix), this.g.weight(layer.bias)]);
  }

  /**
   * Several layers that read the same activation (self-attention's q, k and v), as one int8 product:
   * the matrices side by side ([d, 3d]), then split. Every output column is computed exactly as in a
   * product of its own (an int32 sum, its own zero-point correction, the same float scale product), so
   * the values are bit for bit those of separate products; one product instead of three, and a third of
   * the rescaling operators, make the step ~90 nodes shorter. Float layers, and int8 layers whose scales
   * or zero points are not one per column, stay separate products.
   */
  linears(x: string, layers: readonly Linear[]): string[] {
    const matrices = layers.map((layer) => layer.matrix);
    const int8 = matrices.filter((matrix): matrix is Int8Matrix => matrix.kind === "int8");
    const perColumn = (source: WeightSource, columns: number) => source.dims.length === 1 && source.dims[0] === columns;
    const groupable =
      layers.length > 1 &&
      int8.length === matrices.length &&
      int8.every((m) => m.weight.dims.length === 2 && perColumn(m.scale, m.weight.dims[1]!) && perColumn(m.zeroPoint, m.weight.dims[1]!));
    if (!groupable) return layers.map((layer) => this.linear(x, layer));
    const g = this.g;
    const widths = int8.map((m) => m.weight.dims[1]!);
    // Concats of initializers and compile-time constants: ONNX Runtime folds them once, at session load.
    const side = (parts: string[], axis: number) => g.node("Concat", parts, { axis });
    const operands = {
      weight: side(int8.map((m) => g.weight(m.weight)), 1),
      zeroPoint: side(int8.map((m) => g.weight(m.zeroPoint)), 0),
      scale: side(int8.map((m) => g.weight(m.scale)), 0),
      columnSums: side(int8.map((m) => this.columnSums(m)), 0),
    };
    const all = this.integerProduct(x, operands, widths.reduce((a, b) => a + b, 0));
    const parts = g.op("Split", [all, g.int64(widths)], { axis: -1 }, layers.length);
    return parts.map((part, i) => g.node("Add", [part, g.weight(layers[i]!.bias)]));
  }

  /**
   * DynamicQuantizeLinear per article, as ONNX Runtime computes it for a whole tensor: range widened to
   * include 0, scale (max - min) / 255 (1 when the range is empty), zero point round-half-even of
   * -min / scale clamped to [0, 255], values saturate(round(x / scale) + zero point). QuantizeLinear
   * per axis runs the same quantization kernel once per article, for the zero points and for the values.
   * One quantization per activation, shared by every matrix that reads it (q, k and v).
   */
  private quantize(x: string): QuantizedActivation {
    const known = this.quantized.get(x);
    if (known) return known;
    const g = this.g;
    const c = this.stepConstants();
    const perArticle = g.node("Reshape", [x, c.articleRows]); // [B, N, d]
    const min = g.node("Min", [g.node("ReduceMin", [perArticle], { axes: [1, 2], keepdims: 0 }), c.zero]); // [B]
    const max = g.node("Max", [g.node("ReduceMax", [perArticle], { axes: [1, 2], keepdims: 0 }), c.zero]);
    const scale = g.node("Where", [g.node("Equal", [max, min]), c.one, g.node("Div", [g.node("Sub", [max, min]), c.levels])]);
    const zeroPoint = g.node("QuantizeLinear", [g.node("Neg", [min]), scale], { axis: 0 }); // uint8 [B]
    const values = g.node("QuantizeLinear", [perArticle, scale, zeroPoint], { axis: 0 }); // uint8 [B, N, d]
    const quantized = {
      values,
      scale: g.node("Unsqueeze", [scale, c.trailingAxes]),
      zeroPoint: g.node("Unsqueeze", [g.node("Cast", [zeroPoint], { to: DataType.INT32 }), c.trailingAxes]),
    };
    this.quantized.set(x, quantized);
    return quantized;
  }

  private stepConstants() {
    const g = this.g;
    return (this.constants ??= {
      articleRows: g.node("Concat", [this.articles, this.beams, g.int64([-1])], { axis: 0 }), // [B, N, -1]
      trailingAxes: g.int64([1, 2]),
      zero: g.float([0], []),
      one: g.float([1], []),
      levels: g.float([255], []),
    });
  }

  /** sum_k (w_kj - wzp_j) per output column j, int32 [out], from the weight's bytes. */
  private columnSums(matrix: Int8Matrix): string {
    const name = `${matrix.weight.name}.column_sums`;
    const known = this.columnSumsOf.get(name);
    if (known) return known;
    const [rows, columns] = matrix.weight.dims as [number, number];
    const weight = integerValues(matrix.weight);
    const zeroPoints = integerValues(matrix.zeroPoint);
    const sums = new Int32Array(columns);
    for (let k = 0; k < rows; k++) {
      const row = k * columns;
      for (let j = 0; j < columns; j++) sums[j]! += weight[row + j]!;
    }
    for (let j = 0; j < columns; j++) sums[j]! -= rows * zeroPoints[zeroPoints.length === 1 ? 0 : j]!;
    const value = this.g.constantTensor(DataType.INT32, [columns], new Uint8Array(sums.buffer), name);
    this.columnSumsOf.set(name, value);
    return value;
  }
}

/** The elements of an int8 or uint8 initializer, wherever they are stored. */
function integerValues(source: WeightSource): Int8Array | Uint8Array | Int32Array {
  const view = (bytes: Uint8Array) =>
    source.dataType === DataType.INT8 ? new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
  if (source.dataType !== DataType.INT8 && source.dataType !== DataType.UINT8) {
    throw new Error(`${source.name}: expected an int8 or uint8 tensor, found data type ${source.dataType}`);
  }
  if (source.inline) {
    const raw = source.inline.rawData;
    // Small tensors (zero points) may keep their elements in int32_data.
    return raw && raw.length > 0 ? view(Uint8Array.from(raw)) : Int32Array.from(source.inline.int32Data ?? []);
  }
  const bytes = new Uint8Array(source.length);
  const fd = openSync(source.file, "r");
  try {
    for (let done = 0; done < bytes.length; ) {
      const read = readSync(fd, bytes, done, bytes.length - done, source.offset + done);
      if (read === 0) throw new Error(`${source.file}: ends inside ${source.name}`);
      done += read;
    }
  } finally {
    closeSync(fd);
  }
  return view(bytes);
}
