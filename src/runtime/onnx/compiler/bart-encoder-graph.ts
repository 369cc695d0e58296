/**
 * The encoder graph a compiled BART runs, built over the published encoder's weights (referenced in place):
 *
 *   token_embeddings [B, S, d] -> last_hidden_state [B, S, d]
 *
 * The token-embedding rows come in as an input, read from the model file by the caller
 * (`token-table.ts`), so the table (206 MB at fp32 for distilbart) never enters the process.
 *
 * Self-attention runs as com.microsoft.MultiHeadAttention without a mask: the caller encodes one article
 * at a time at its own length, so no position is padding, and ONNX Runtime then takes its flash-attention
 * path, which never holds an article's [heads, S, S] scores. The published graph keeps several such
 * tensors per layer (30 MB each at 680 tokens, 67 MB at 1,024) and, once freed, the C allocator kept them
 * for the rest of the process. The results are not bit-identical to the published graph's (the softmax
 * is accumulated block by block): within float rounding, and token-identical on every reference.
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
  const rows = g.input(TOKEN_EMBEDDINGS_INPUT, weights.embedTokens.weight.dataType, ["B", "S", dModel]);

  let tokens = g.tableRows(weights.embedTokens, rows);
  if (shape.embedScale !== 1) tokens = g.node("Mul", [tokens, g.float([shape.embedScale], [])]);
  const length = g.node("Squeeze", [g.node("Shape", [rows], { start: 1, end: 2 }), g.int64([0])]);
  const offset = g.int64([POSITION_OFFSET], []);
  const positionIds = g.node("Range", [offset, g.node("Add", [length, offset]), g.int64([1], [])]); // [S]
  const positions = g.gather(weights.embedPositions, positionIds); // [S, d], broadcast over B
  let h = g.layerNorm(g.node("Add", [tokens, positions]), weights.embeddingNorm, eps);

  for (const layer of weights.layers) {
    const attended = g.node(
      "MultiHeadAttention",
      [g.linear(h, layer.selfQ), g.linear(h, layer.selfK), g.linear(h, layer.selfV)],
      { num_heads: heads, scale: { float: (dModel / heads) ** -0.5 } },
      "com.microsoft",
    );
    h = g.layerNorm(g.node("Add", [h, g.linear(attended, layer.selfOut)]), layer.selfNorm, eps);
    h = g.layerNorm(g.node("Add", [h, g.linear(g.gelu(g.linear(h, layer.fc1)), layer.fc2)]), layer.finalNorm, eps);
  }
  g.output(h, "last_hidden_state", DataType.FLOAT, ["B", "S", dModel]);
  return g.build(OPSETS);
}
