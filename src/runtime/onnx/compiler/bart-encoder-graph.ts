/**
 * The encoder graph a compiled BART runs, built over the published encoder's weights (referenced in place):
 *
 *   token_embeddings [B, S, d] -> last_hidden_state [B, S, d]      (float token table)
 *   input_ids [B, S]           -> last_hidden_state [B, S, d]      (quantized token table)
 *
 * A float table's rows come in as an input, read from the model file by the caller (`token-table.ts`),
 * so the table (206 MB at fp32 for distilbart) never enters the process. A quantized table (51 MB) stays
 * in the graph, looked up as the published graph does (Gather, then DequantizeLinear of the gathered
 * rows): ONNX Runtime fuses that pair, and rows fed from outside came out up to 6e-7 apart.
 *
 * Int8 matrices keep the published chain (one DynamicQuantizeLinear per activation, MatMulInteger,
 * the scale products), which ONNX Runtime fuses into one kernel as it does in the published graph.
 *
 * Self-attention runs as com.microsoft.MultiHeadAttention without a mask: the caller encodes one article
 * at a time at its own length, so no position is padding, and ONNX Runtime then takes its flash-attention
 * path, which never holds an article's [heads, S, S] scores. The published graph keeps several such
 * tensors per layer (30 MB each at 680 tokens, 67 MB at 1,024) and, once freed, the C allocator kept them
 * for the rest of the process. The results are not bit-identical to the published graph's (the softmax
 * is accumulated block by block): for fp32 within float rounding, and token-identical on every
 * reference; for int8 the next product's quantization turns that rounding into whole quantization steps
 * here and there (quantization noise, no further from fp32 than the published int8 graph).
 */

import type { BartEncoderWeights } from "./bart-weights.js";
import { TOKEN_EMBEDDINGS_INPUT } from "./token-table-location.js";
import { DataType, type ModelProto } from "./onnx-proto.js";
import { OPSETS, WeightedBuilder, type WeightLocator } from "./weighted-builder.js";

export interface BartEncoderShape {
  readonly dModel: number;
  readonly heads: number;
  readonly layers: number;
  /** sqrt(d_model) when config.scale_embedding, else 1. */
  readonly embedScale: number;
  readonly layerNormEpsilon: number;
}

/** BART's learned positions start at 2 (`BartLearnedPositionalEmbedding.offset`). */
const POSITION_OFFSET = 2;

export function buildEncoderGraph(weights: BartEncoderWeights, shape: BartEncoderShape, locate: WeightLocator): ModelProto {
  const g = new WeightedBuilder("news_moe_bart_encoder", locate);
  const { dModel, heads } = shape;
  const eps = shape.layerNormEpsilon;
  const table = weights.embedTokens;
  const fed = table.kind === "float" ? g.input(TOKEN_EMBEDDINGS_INPUT, table.weight.dataType, ["B", "S", dModel]) : g.input("input_ids", DataType.INT64, ["B", "S"]);

  let tokens = table.kind === "float" ? fed : g.gather(table, fed);
  if (shape.embedScale !== 1) tokens = g.node("Mul", [tokens, g.float([shape.embedScale], [])]);
  const length = g.node("Squeeze", [g.node("Shape", [fed], { start: 1, end: 2 }), g.int64([0])]);
  const offset = g.int64([POSITION_OFFSET], []);
  const positionIds = g.node("Range", [offset, g.node("Add", [length, offset]), g.int64([1], [])]); // [S]
  const positions = g.gather(weights.embedPositions, positionIds); // [S, d], broadcast over B
  let h = g.layerNorm(g.node("Add", [tokens, positions]), weights.embeddingNorm, eps);

  for (const layer of weights.layers) {
    const attended = g.selfAttention(h, { q: layer.selfQ, k: layer.selfK, v: layer.selfV }, heads, dModel);
    h = g.layerNorm(g.node("Add", [h, g.linear(attended, layer.selfOut)]), layer.selfNorm, eps);
    const ffn = g.linear(g.gelu(g.linear(h, layer.fc1)), layer.fc2);
    // ORT fuses this residual and norm into SkipLayerNormalization in the published int8 graph (its shapes
    // are known there, the attention's are not): the same kernel here gives the same rounding.
    h = layer.fc2.matrix.kind === "int8" ? g.skipLayerNorm(h, ffn, layer.finalNorm, eps) : g.layerNorm(g.node("Add", [h, ffn]), layer.finalNorm, eps);
  }
  g.output(h, "last_hidden_state", DataType.FLOAT, ["B", "S", dModel]);
  return g.build(OPSETS);
}
