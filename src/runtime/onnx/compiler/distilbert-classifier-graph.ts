/**
 * The graph a compiled DistilBERT sequence classifier runs, built over the published weights
 * (referenced in place):
 *
 *   input_ids [B, S] -> logits [B, labels]
 *
 * Self-attention runs as com.microsoft.MultiHeadAttention without a mask, which ONNX Runtime takes as
 * flash attention: the published graph's attention is separate products, a mask, and a softmax over
 * [heads, S, S] scores. Without a mask every row must be all text: the caller runs rows unpadded
 * (`sequence-classifier.ts` runs each row alone).
 *
 * Built for the published int8 graph (`model_quantized.onnx`): its token table is looked up in the graph
 * as published (Gather, then DequantizeLinear of the gathered rows), its products keep the published
 * DynamicQuantizeLinear/MatMulInteger chains, and the feed-forward residual is the SkipLayerNormalization
 * ONNX Runtime fuses it into in the published graph.
 */

import type { DistilBertClassifierWeights } from "./distilbert-weights.js";
import { DataType, type ModelProto } from "./onnx-proto.js";
import { OPSETS, WeightedBuilder, type WeightLocator } from "./weighted-builder.js";

export interface DistilBertShape {
  readonly dim: number;
  readonly heads: number;
  readonly layers: number;
}

export function buildDistilBertClassifierGraph(weights: DistilBertClassifierWeights, shape: DistilBertShape, locate: WeightLocator): ModelProto {
  const g = new WeightedBuilder("news_moe_distilbert_classifier", locate);
  const { dim, heads } = shape;
  const eps = weights.layerNormEpsilon;
  const ids = g.input("input_ids", DataType.INT64, ["B", "S"]);

  const words = g.gather(weights.words, ids); // [B, S, dim]
  const length = g.node("Squeeze", [g.node("Shape", [ids], { start: 1, end: 2 }), g.int64([0])]);
  const positionIds = g.node("Range", [g.int64([0], []), length, g.int64([1], [])]); // [S]
  const positions = g.gather(weights.positions, positionIds); // [S, dim], broadcast over B
  let h = g.layerNorm(g.node("Add", [words, positions]), weights.embeddingNorm, eps);

  for (const layer of weights.layers) {
    const attended = g.selfAttention(h, layer, heads, dim);
    h = g.layerNorm(g.node("Add", [g.linear(attended, layer.out), h]), layer.attentionNorm, eps);
    const ffn = g.linear(g.gelu(g.linear(h, layer.ffnIn)), layer.ffnOut);
    h = layer.ffnOut.matrix.kind === "int8" ? g.skipLayerNorm(ffn, h, layer.outputNorm, eps) : g.layerNorm(g.node("Add", [ffn, h]), layer.outputNorm, eps);
  }
  // The first token's ([CLS]) hidden state, through the classification head.
  const first = g.node("Gather", [h, g.int64([0], [])], { axis: 1 }); // [B, dim]
  const hidden = g.node("Relu", [g.linear(first, weights.preClassifier)]);
  g.output(g.linear(hidden, weights.classifier), "logits", DataType.FLOAT, ["B", "labels"]);
  return g.build(OPSETS);
}
