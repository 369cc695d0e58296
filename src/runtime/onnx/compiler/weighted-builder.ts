/**
 * The building blocks the compiled BART graphs share: weights referenced in place (external data into
 * the published file), float or int8 matrix products, table lookups and layer norms.
 */

import { GraphBuilder } from "./graph-builder.js";
import type { LayerNorm, Linear, Matrix, Table } from "./bart-weights.js";
import { DataType, externalInitializer, type WeightSource } from "./onnx-proto.js";

/** The opsets every compiled graph imports: ONNX 17 and the com.microsoft contrib ops. */
export const OPSETS = [
  { domain: "", version: 17 },
  { domain: "com.microsoft", version: 1 },
];

/** Resolves where the graph refers to a weight: the location relative to the compiled graph. */
export type WeightLocator = (source: WeightSource) => string;

/** A graph builder over a published model's weights, referenced in place, with BART's building blocks. */
export class WeightedBuilder extends GraphBuilder {
  constructor(
    name: string,
    private readonly locate: WeightLocator,
  ) {
    super(name);
  }

  weight(source: WeightSource): string {
    return this.initializer(externalInitializer(source.name, source, this.locate(source)));
  }

  private readonly quantized = new Map<string, string[]>();

  /** x @ matrix: MatMul, or for int8 weights the dynamic-quantization chain ORT fuses into one kernel. */
  matmul(x: string, matrix: Matrix): string {
    if (matrix.kind === "float") return this.node("MatMul", [x, this.weight(matrix.weight)]);
    // One DynamicQuantizeLinear per activation, shared by every matrix that reads it (q, k and v).
    let q = this.quantized.get(x);
    if (!q) {
      q = this.op("DynamicQuantizeLinear", [x], {}, 3);
      this.quantized.set(x, q);
    }
    const [xq, xScale, xZero] = q as [string, string, string];
    const integer = this.node("MatMulInteger", [xq, this.weight(matrix.weight), xZero, this.weight(matrix.zeroPoint)]);
    const scales = this.node("Mul", [xScale, this.weight(matrix.scale)]);
    return this.node("Mul", [this.node("Cast", [integer], { to: DataType.FLOAT }), scales]);
  }

  linear(x: string, layer: Linear): string {
    return this.node("Add", [this.matmul(x, layer.matrix), this.weight(layer.bias)]);
  }

  /** Rows of a table: Gather, then DequantizeLinear for a quantized table (only the gathered rows). */
  gather(table: Table, indices: string): string {
    return this.tableRows(table, this.node("Gather", [this.weight(table.weight), indices]));
  }

  /** Rows of a table, gathered here or fed from outside: as they are, or dequantized for a quantized table. */
  tableRows(table: Table, rows: string): string {
    if (table.kind === "float") return rows;
    return this.node("DequantizeLinear", [rows, this.weight(table.scale), this.weight(table.zeroPoint)]);
  }

  /** The whole table as float (constant-folded by ORT when the session loads). */
  floatTable(table: Table): string {
    if (table.kind === "float") return this.weight(table.weight);
    return this.node("DequantizeLinear", [this.weight(table.weight), this.weight(table.scale), this.weight(table.zeroPoint)]);
  }

  /**
   * Self-attention of x [B, S, width] over its own positions, without a mask: one
   * com.microsoft.MultiHeadAttention, which ONNX Runtime runs as flash attention (no [heads, S, S] scores).
   */
  selfAttention(x: string, projections: { readonly q: Linear; readonly k: Linear; readonly v: Linear }, heads: number, width: number): string {
    const { q, k, v } = projections;
    return this.node("MultiHeadAttention", [this.linear(x, q), this.linear(x, k), this.linear(x, v)], { num_heads: heads, scale: { float: (width / heads) ** -0.5 } }, "com.microsoft");
  }

  private geluConstants: [string, string, string] | null = null;

  /** erf GELU as torch computes it, x * 0.5 * (1 + erf(x / sqrt 2)): ORT fuses the pattern into one kernel. */
  gelu(x: string): string {
    const [half, one, sqrt2] = (this.geluConstants ??= [this.float([0.5], []), this.float([1], []), this.float([Math.SQRT2], [])]);
    return this.node("Mul", [this.node("Mul", [x, half]), this.node("Add", [this.node("Erf", [this.node("Div", [x, sqrt2])]), one])]);
  }

  /** layerNorm(x + skip) as one com.microsoft kernel: what ORT fuses the pair into when it can. */
  skipLayerNorm(x: string, skip: string, norm: LayerNorm, epsilon: number): string {
    return this.node("SkipLayerNormalization", [x, skip, this.weight(norm.scale), this.weight(norm.bias)], { epsilon: { float: epsilon } }, "com.microsoft");
  }

  layerNorm(x: string, norm: LayerNorm, epsilon: number): string {
    return this.node("LayerNormalization", [x, this.weight(norm.scale), this.weight(norm.bias)], { axis: -1, epsilon: { float: epsilon } });
  }
}
