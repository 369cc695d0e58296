/**
 * The two graphs a compiled BART decoder runs, built over the published weights (referenced in place).
 *
 * cross-kv graph, once per batch of articles:
 *   encoder_hidden_states [B, S, d] -> cross_kv [2L, B, H, S, D]   (layer l: key 2l, value 2l+1)
 *   The cross-attention keys and values are computed once per *article*: its beams share them.
 *
 * step graph, once per decoder step, R = B * N rows (N beams of each of B articles, article-major):
 *   token_embeddings [R, 1, d]      the rows of the token-embedding table for each row's input token, in the
 *                                   table's element type (dequantized in the graph); the caller reads them
 *                                   from the model file, so the table's pages are not mapped into the process
 *   position_ids [R] int64          per row: its article's past length + BART's offset 2 (articles of a
 *                                   running batch joined at different steps, so each row has its own)
 *   prefix_key.l, prefix_value.l    [B, H, P, D] per layer: the positions all beams of an article share,
 *                                   stored once per article (caller-owned, capacity P, read only)
 *   suffix_key.l, suffix_value.l    [R, H, U, D] per layer: each row's positions after its article's
 *                                   shared prefix (caller-owned, capacity U, read only)
 *   self_mask [R, 1, 1, P + U + 1]  additive, per row: 0 for its article's filled prefix slots, its filled
 *                                   suffix slots and the current token; -inf elsewhere
 *   cross_key.g.l, cross_value.g.l  [B_g, H, S_g, D] per source group g (0 and 1) and layer: the cross-kv
 *                                   graph's output, per article; B_0 + B_1 = B, either may be 0
 *   encoder_bias.g [B_g, 1, 1, S_g] additive source padding mask of group g
 *   beam_scores [B, N]              running beam scores (also fixes N)
 *   processor_bias [R, V]           additive logits-processor bans: 0 or -inf
 *   top_k [1] int64
 * -> new_kv [2L, R, H, 1, D]        this step's self-attention keys/values; the caller writes them into
 *                                   its cache (nothing else of the cache is copied, in or out)
 *    top_scores, top_indices [B, K] top-K over N * V of log_softmax(logits) + processor_bias + beam score,
 *                                   HF's beam-search candidate scores, computed where the logits are
 *    logits [R, V]                  fetched only on steps the search must score in full
 *
 * Self-attention attends to the cache and to the current token without concatenating them (the
 * published graphs copy the whole cache into a new `present` every step). An article's beams agree on
 * almost all of their history (on the bench's articles they differ in the last ~7 of ~150 positions on
 * average), so the cache is split: the shared prefix is read once per article with the beams as the
 * query axis, like cross-attention, and only the short per-beam suffixes are read per row; one softmax
 * runs over prefix, suffix and current token together. Cross-attention keys and values are stored once
 * per article and every beam's query is a one-row product against them, broadcast over the beams; the
 * beams of an article run one after the other, so its keys and values come from memory once a step
 * and from the cache for the other beams.
 *
 * The articles come in two source groups, each padded only to its own longest source: the first B_0
 * articles attend over group 0's keys/values, the rest over group 1's. A call can then hold short and
 * long articles together without reading the long ones' padding for the short ones on every step, and
 * a step's weight products serve all their rows at once (the products read every weight once per
 * step whatever the rows: on the full-size model, five 680-token and five 281-token articles in one
 * step took 15-17% less than in two steps, the step alone; ~7% less decoder time in the bench's
 * process). A group may be empty (B_g = 0): its products are then empty.
 *
 * Int8 weights: each article's activations are quantized over its own N rows, never over the whole
 * step (article-int8-products.ts), so an article's numbers are those of a call of its own whatever
 * shares the step; float weights are plain MatMuls.
 */

import { ArticleInt8Products } from "./article-int8-products.js";
import type { BartDecoderWeights } from "./bart-weights.js";
import { TOKEN_EMBEDDINGS_INPUT } from "./token-table-location.js";
import { DataType, type ModelProto } from "./onnx-proto.js";
import { OPSETS, WeightedBuilder, type WeightLocator } from "./weighted-builder.js";

export interface BartShape {
  readonly dModel: number;
  readonly heads: number;
  readonly layers: number;
  readonly vocab: number;
  /** sqrt(d_model) when config.scale_embedding, else 1. */
  readonly embedScale: number;
  readonly layerNormEpsilon: number;
}

/** Source groups of the step graph: its articles' cross-attention keys/values come in this many blocks. */
export const SOURCE_GROUPS = 2;

export function buildCrossKvGraph(weights: BartDecoderWeights, shape: BartShape, locate: WeightLocator): ModelProto {
  const g = new WeightedBuilder("news_moe_bart_cross_kv", locate);
  const { heads, dModel } = shape;
  const headDim = dModel / heads;
  const hidden = g.input("encoder_hidden_states", DataType.FLOAT, ["B", "S", dModel]);
  const toHeads = g.int64([0, 0, heads, headDim]);
  const axis0 = g.int64([0]);
  const parts: string[] = [];
  for (const layer of weights.layers) {
    for (const projection of [layer.crossK, layer.crossV]) {
      const heads4 = g.node("Transpose", [g.node("Reshape", [g.linear(hidden, projection), toHeads])], { perm: [0, 2, 1, 3] });
      parts.push(g.node("Unsqueeze", [heads4, axis0]));
    }
  }
  g.output(g.node("Concat", parts, { axis: 0 }), "cross_kv", DataType.FLOAT, [2 * shape.layers, "B", heads, "S", headDim]);
  return g.build(OPSETS);
}

export function buildStepGraph(weights: BartDecoderWeights, shape: BartShape, locate: WeightLocator): ModelProto {
  const g = new WeightedBuilder("news_moe_bart_step", locate);
  const { heads, dModel, vocab } = shape;
  const headDim = dModel / heads;
  const eps = shape.layerNormEpsilon;

  const tableRows = g.input(TOKEN_EMBEDDINGS_INPUT, weights.embedTokens.weight.dataType, ["R", 1, dModel]);
  const positionIds = g.input("position_ids", DataType.INT64, ["R"]);
  const selfMask = g.input("self_mask", DataType.FLOAT, ["R", 1, 1, "PU1"]);
  const groups = Array.from({ length: SOURCE_GROUPS }, (_, group) => group);
  const encoderBias = groups.map((group) => g.input(`encoder_bias.${group}`, DataType.FLOAT, [`B${group}`, 1, 1, `S${group}`]));
  const beamScores = g.input("beam_scores", DataType.FLOAT, ["B", "N"]);
  const processorBias = g.input("processor_bias", DataType.FLOAT, ["R", vocab]);
  const topK = g.input("top_k", DataType.INT64, [1]);

  // Dynamic sizes from beam_scores: [B, N].
  const bn = g.node("Shape", [beamScores]);
  const b = g.node("Slice", [bn, g.int64([0]), g.int64([1])]);
  const n = g.node("Slice", [bn, g.int64([1]), g.int64([2])]);
  // Int8 products quantize each article's activations on their own: an article's numbers never depend
  // on the articles beside it in the step (see article-int8-products.ts).
  const products = new ArticleInt8Products(g, b, n);
  const articleHeads = g.node("Concat", [b, n, g.int64([heads, headDim])], { axis: 0 }); // [B, N, H, D]
  const articleHeadRows = g.node("Concat", [b, n, g.int64([heads, 1, headDim])], { axis: 0 }); // [B, N, H, 1, D]
  const rowsHeadsOne = g.int64([-1, heads, 1, 0]); // [B, N, H, X] -> [R, H, 1, X]
  const axis1 = g.int64([1]);
  const axis2 = g.int64([2]);
  const crossBias = encoderBias.map((bias) => g.node("Unsqueeze", [bias, axis1])); // [B_g, 1, 1, 1, S_g]
  // Articles per group, to split the cross-attention queries: [B_0, B_1].
  const groupSizes = g.node("Concat", encoderBias.map((bias) => g.node("Shape", [bias], { start: 0, end: 1 })), { axis: 0 });
  const rowsOneD = g.int64([-1, 1, dModel]);
  const toHeads = g.int64([0, 1, heads, headDim]);
  const scale = g.float([headDim ** -0.5], []);
  const lastAxis = g.int64([-1]);

  let tokens = g.tableRows(weights.embedTokens, tableRows); // [R, 1, d]
  if (shape.embedScale !== 1) tokens = g.node("Mul", [tokens, g.float([shape.embedScale], [])]);
  const positions = g.node("Unsqueeze", [g.gather(weights.embedPositions, positionIds), g.int64([1])]); // [R, 1, d]
  let h = g.layerNorm(g.node("Add", [tokens, positions]), weights.embeddingNorm, eps);

  const heads4 = (x: string): string => g.node("Transpose", [g.node("Reshape", [x, toHeads])], { perm: [0, 2, 1, 3] }); // [R, H, 1, D]
  const merge = (x: string): string => g.node("Reshape", [g.node("Transpose", [x], { perm: [0, 2, 1, 3] }), rowsOneD]); // [R, 1, d]
  const newKv: string[] = [];
  const axis0 = g.int64([0]);

  weights.layers.forEach((layer, l) => {
    // Self-attention over [shared prefix, row suffix, current token]: the three score blocks side by
    // side, one softmax, then the three weighted sums added.
    const prefixKey = g.input(`prefix_key.${l}`, DataType.FLOAT, ["B", heads, "P", headDim]);
    const prefixValue = g.input(`prefix_value.${l}`, DataType.FLOAT, ["B", heads, "P", headDim]);
    const suffixKey = g.input(`suffix_key.${l}`, DataType.FLOAT, ["R", heads, "U", headDim]);
    const suffixValue = g.input(`suffix_value.${l}`, DataType.FLOAT, ["R", heads, "U", headDim]);
    const [selfQ, selfK, selfV] = products.linears(h, [layer.selfQ, layer.selfK, layer.selfV]) as [string, string, string];
    const scaledQ = g.node("Mul", [selfQ, scale]); // [R, 1, d]
    const q = heads4(scaledQ); // [R, H, 1, D]
    const articleQ = g.node("Transpose", [g.node("Reshape", [scaledQ, articleHeads])], { perm: [0, 2, 1, 3] }); // [B, H, N, D]
    const k = heads4(selfK);
    const v = heads4(selfV);
    newKv.push(g.node("Unsqueeze", [k, axis0]), g.node("Unsqueeze", [v, axis0]));
    const prefixScores = g.node("MatMul", [articleQ, g.node("Transpose", [prefixKey], { perm: [0, 1, 3, 2] })]); // [B, H, N, P]
    const prefixRowScores = g.node("Reshape", [g.node("Transpose", [prefixScores], { perm: [0, 2, 1, 3] }), rowsHeadsOne]); // [R, H, 1, P]
    const suffixScores = g.node("MatMul", [q, g.node("Transpose", [suffixKey], { perm: [0, 1, 3, 2] })]); // [R, H, 1, U]
    const newScore = g.node("ReduceSum", [g.node("Mul", [q, k]), lastAxis], { keepdims: 1 }); // [R, H, 1, 1]
    const allScores = g.node("Concat", [prefixRowScores, suffixScores, newScore], { axis: -1 });
    const probs = g.node("Softmax", [g.node("Add", [allScores, selfMask])], { axis: -1 });
    const blockSizes = g.node("Concat", [g.node("Shape", [prefixKey], { start: 2, end: 3 }), g.node("Shape", [suffixKey], { start: 2, end: 3 }), g.int64([1])], { axis: 0 });
    const [prefixProbs, suffixProbs, newProb] = g.op("Split", [probs, blockSizes], { axis: -1 }, 3) as [string, string, string];
    const prefixArticleProbs = g.node("Transpose", [g.node("Reshape", [prefixProbs, g.node("Concat", [b, n, g.int64([heads, -1])], { axis: 0 })])], { perm: [0, 2, 1, 3] }); // [B, H, N, P]
    const prefixOut = g.node("Reshape", [g.node("Transpose", [g.node("MatMul", [prefixArticleProbs, prefixValue])], { perm: [0, 2, 1, 3] }), rowsHeadsOne]); // [R, H, 1, D]
    const attended = g.node("Add", [g.node("Add", [prefixOut, g.node("MatMul", [suffixProbs, suffixValue])]), g.node("Mul", [newProb, v])]);
    h = g.layerNorm(g.node("Add", [h, products.linear(merge(attended), layer.selfOut)]), layer.selfNorm, eps);

    // Cross-attention, per source group: each beam's query is a one-row product against its article's
    // keys and values, broadcast over the N beams ([B, H, N, 1, D] x [B, H, 1, S, D]). ONNX Runtime runs
    // one-row products on the keys and values where they lie; MultiHeadAttention (the N beams as one
    // query block) first packs each head's keys and values, and took 23-26 ms against 17-18 ms for six
    // layers at 5 x 680 source tokens (2 threads, AMD EPYC).
    const query = g.node("Transpose", [g.node("Reshape", [g.node("Mul", [products.linear(h, layer.crossQ), scale]), articleHeadRows])], { perm: [0, 2, 1, 3, 4] }); // [B, H, N, 1, D]
    const groupQueries = g.op("Split", [query, groupSizes], { axis: 0 }, SOURCE_GROUPS); // [B_g, H, N, 1, D]
    const groupOuts = groups.map((group) => {
      const crossKey = g.input(`cross_key.${group}.${l}`, DataType.FLOAT, [`B${group}`, heads, `S${group}`, headDim]);
      const crossValue = g.input(`cross_value.${group}.${l}`, DataType.FLOAT, [`B${group}`, heads, `S${group}`, headDim]);
      const scores = g.node("FusedMatMul", [groupQueries[group]!, g.node("Unsqueeze", [crossKey, axis2])], { transB: 1, alpha: { float: 1 } }, "com.microsoft"); // [B_g, H, N, 1, S_g]
      const probs = g.node("Softmax", [g.node("Add", [scores, crossBias[group]!])], { axis: -1 });
      return g.node("MatMul", [probs, g.node("Unsqueeze", [crossValue, axis2])]); // [B_g, H, N, 1, D]
    });
    const crossOut = g.node("Transpose", [g.node("Concat", groupOuts, { axis: 0 })], { perm: [0, 2, 1, 3, 4] }); // [B, N, H, 1, D]
    h = g.layerNorm(g.node("Add", [h, products.linear(g.node("Reshape", [crossOut, rowsOneD]), layer.crossOut)]), layer.crossNorm, eps);

    h = g.layerNorm(g.node("Add", [h, products.linear(g.gelu(products.linear(h, layer.fc1)), layer.fc2)]), layer.finalNorm, eps);
  });

  // A tied head reads the table as it is stored ([V, d], transB): a Transpose would be constant-folded
  // into a second [d, V] copy at every session load, 1 s of the step's 1.9 s load in fp32. ORT packs B
  // from either layout into the same panels, so the logits are bit for bit the MatMul's.
  let logits = weights.lmHead
    ? products.matmul(h, weights.lmHead)
    : g.node("FusedMatMul", [h, g.floatTable(weights.embedTokens)], { transB: 1, alpha: { float: 1 } }, "com.microsoft"); // [R, 1, V]
  if (weights.finalLogitsBias) logits = g.node("Add", [logits, g.weight(weights.finalLogitsBias)]);
  logits = g.node("Reshape", [logits, g.int64([-1, vocab])]);

  // Search head: HF's beam candidate scores and their top-K per article.
  const logProbs = g.node("LogSoftmax", [logits], { axis: -1 });
  const rowScores = g.node("Reshape", [beamScores, g.int64([-1, 1])]);
  const candidates = g.node("Add", [g.node("Add", [logProbs, processorBias]), rowScores]);
  const perArticle = g.node("Reshape", [candidates, g.node("Concat", [b, g.int64([-1])], { axis: 0 })]); // [B, N * V]
  const [topScores, topIndices] = g.op("TopK", [perArticle, topK], { axis: -1, largest: 1, sorted: 1 }, 2);

  g.output(logits, "logits", DataType.FLOAT, ["R", vocab]);
  g.output(topScores!, "top_scores", DataType.FLOAT, ["B", "K"]);
  g.output(topIndices!, "top_indices", DataType.INT64, ["B", "K"]);
  g.output(g.node("Concat", newKv, { axis: 0 }), "new_kv", DataType.FLOAT, [2 * shape.layers, "R", heads, 1, headDim]);
  return g.build(OPSETS);
}
