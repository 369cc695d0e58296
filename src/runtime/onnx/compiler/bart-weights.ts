/**
 * Finds a BART model's weights by role in its published graphs, as optimum / transformers.js export
 * them: the decoder's in `decoder_model_merged.onnx` or `decoder_model.onnx`, the encoder's in
 * `encoder_model.onnx`.
 *
 * Parameters with a torch name keep it in the export (`...decoder.layers.3.fc1.bias`); the MatMul weights
 * are anonymous (`onnx::MatMul_1501`, stored transposed as [in, out]), so each one is found through the
 * node that adds its named bias: MatMul(x, W) -> Add(bias, ·). The token embedding is whatever the graph
 * gathers `input_ids` from; the LM head is the MatMul that feeds `logits`, over its own matrix (untied
 * export) or a Transpose of the embedding (tied).
 */

import { allNodes, OnnxFormatError, type LoadedOnnxModel, type NodeProto, type WeightSource } from "./onnx-proto.js";

/** A weight matrix [in, out]: float, or int8/uint8 for MatMulInteger with its scale and zero point. */
export type Matrix =
  | { readonly kind: "float"; readonly weight: WeightSource }
  | { readonly kind: "int8"; readonly weight: WeightSource; readonly scale: WeightSource; readonly zeroPoint: WeightSource };

/** A table read by Gather (embeddings): float, or quantized rows dequantized after the gather. */
export type Table =
  | { readonly kind: "float"; readonly weight: WeightSource }
  | { readonly kind: "quantized"; readonly weight: WeightSource; readonly scale: WeightSource; readonly zeroPoint: WeightSource };

export interface Linear {
  readonly matrix: Matrix;
  readonly bias: WeightSource;
}

export interface LayerNorm {
  readonly scale: WeightSource;
  readonly bias: WeightSource;
}

/** What every BART layer has: self-attention and the feed-forward block, each followed by its norm. */
export interface BartEncoderLayerWeights {
  readonly selfQ: Linear;
  readonly selfK: Linear;
  readonly selfV: Linear;
  readonly selfOut: Linear;
  readonly selfNorm: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly finalNorm: LayerNorm;
}

/** A decoder layer adds cross-attention over the encoder's output. */
export interface BartDecoderLayerWeights extends BartEncoderLayerWeights {
  readonly crossQ: Linear;
  readonly crossK: Linear;
  readonly crossV: Linear;
  readonly crossOut: Linear;
  readonly crossNorm: LayerNorm;
}

export interface BartDecoderWeights {
  /** [vocab, d] */
  readonly embedTokens: Table;
  /** [max_position_embeddings + 2, d] */
  readonly embedPositions: Table;
  readonly embeddingNorm: LayerNorm;
  readonly layers: readonly BartDecoderLayerWeights[];
  /** The LM head: its own [d, vocab] matrix, or null when it is the transposed token embedding. */
  readonly lmHead: Matrix | null;
  /** [1, vocab] or [vocab], when the export has one. */
  readonly finalLogitsBias: WeightSource | null;
}

function findByPattern(weights: ReadonlyMap<string, WeightSource>, pattern: RegExp): WeightSource | undefined {
  for (const [name, source] of weights) if (pattern.test(name)) return source;
  return undefined;
}

/**
 * Initializers by name, aliases included: exporters deduplicate equal weights (a freshly initialised
 * model has many equal biases and norms) and keep the other names as Identity nodes of the survivor.
 */
function weightsWithAliases(model: LoadedOnnxModel, nodes: readonly NodeProto[]): Map<string, WeightSource> {
  const weights = new Map(model.weights);
  const identities = nodes.filter((n) => n.opType === "Identity");
  for (let changed = true; changed; ) {
    changed = false;
    for (const node of identities) {
      const source = weights.get(node.input?.[0] ?? "");
      const alias = node.output?.[0] ?? "";
      if (source && !weights.has(alias)) {
        weights.set(alias, source);
        changed = true;
      }
    }
  }
  return weights;
}

/** Lookups by role over one published graph, shared by the finders of BART (here) and DistilBERT (distilbert-weights.ts). */
export interface WeightIndex {
  readonly nodes: readonly NodeProto[];
  readonly weights: ReadonlyMap<string, WeightSource>;
  readonly producer: ReadonlyMap<string, NodeProto>;
  need(pattern: RegExp, what: string): WeightSource;
  /** The matrix behind a MatMul-like value: MatMul(x, W), or the int8 chain ending in Mul(Cast(MatMulInteger), scales). */
  matrixBehind(value: string): Matrix | undefined;
  /** The MatMul + bias whose bias is named `<prefix>.bias` (prefix a regular expression). */
  linear(prefix: string, what: string): Linear;
  norm(prefix: string, what: string): LayerNorm;
  /** The table a Gather reads, with the DequantizeLinear that follows it when the table is quantized. */
  tableOf(gather: NodeProto): Table | undefined;
}

export function indexWeights(model: LoadedOnnxModel): WeightIndex {
  const graph = model.model.graph!;
  const nodes = allNodes(graph);
  const weights = weightsWithAliases(model, nodes);
  const need = (pattern: RegExp, what: string): WeightSource => {
    const found = findByPattern(weights, pattern);
    if (!found) throw new OnnxFormatError(`${model.path}: no ${what} (looked for an initializer matching ${pattern})`);
    return found;
  };

  // Linear layers: bias name -> weight, through MatMul(x, W) -> Add(bias, matmul).
  const producer = new Map<string, NodeProto>();
  for (const node of nodes) for (const output of node.output ?? []) producer.set(output, node);
  const consumers = new Map<string, NodeProto[]>();
  for (const node of nodes) for (const input of node.input ?? []) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  const matrixBehind = (value: string): Matrix | undefined => {
    const node = producer.get(value);
    if (node?.opType === "MatMul") {
      const weight = weights.get(node.input?.[1] ?? "");
      return weight ? { kind: "float", weight } : undefined;
    }
    if (node?.opType !== "Mul") return undefined;
    const [left, right] = node.input ?? [];
    const cast = [producer.get(left ?? ""), producer.get(right ?? "")].find((n) => n?.opType === "Cast");
    const scales = [producer.get(left ?? ""), producer.get(right ?? "")].find((n) => n?.opType === "Mul");
    const integer = producer.get(cast?.input?.[0] ?? "");
    if (integer?.opType !== "MatMulInteger" || !scales) return undefined;
    const weight = weights.get(integer.input?.[1] ?? "");
    const zeroPoint = weights.get(integer.input?.[3] ?? "");
    const scale = (scales.input ?? []).map((i) => weights.get(i)).find((w) => w !== undefined);
    return weight && zeroPoint && scale ? { kind: "int8", weight, scale, zeroPoint } : undefined;
  };
  const weightOfBias = new Map<string, Matrix>();
  for (const node of nodes) {
    if (node.opType !== "Add") continue;
    const inputs = node.input ?? [];
    const biasName = inputs.find((i) => /\.bias$/.test(i) && weights.has(i));
    if (!biasName) continue;
    const other = inputs.find((i) => i !== biasName);
    const matrix = other ? matrixBehind(other) : undefined;
    if (matrix) weightOfBias.set(biasName, matrix);
  }
  /** The table a Gather reads, with the DequantizeLinear that follows it when the table is quantized. */
  const tableOf = (gather: NodeProto): Table | undefined => {
    const weight = weights.get(gather.input?.[0] ?? "");
    if (!weight) return undefined;
    const dequantize = (consumers.get(gather.output?.[0] ?? "") ?? []).find((n) => n.opType === "DequantizeLinear");
    if (!dequantize) return { kind: "float", weight };
    const scale = weights.get(dequantize.input?.[1] ?? "");
    const zeroPoint = weights.get(dequantize.input?.[2] ?? "");
    return scale && zeroPoint ? { kind: "quantized", weight, scale, zeroPoint } : undefined;
  };
  const linear = (prefix: string, what: string): Linear => {
    const pattern = new RegExp(`(^|\\.)${prefix}\\.bias$`);
    const biasName = [...weightOfBias.keys()].find((name) => pattern.test(name));
    if (!biasName) throw new OnnxFormatError(`${model.path}: no MatMul + bias for ${what} (looked for a bias matching ${pattern})`);
    return { matrix: weightOfBias.get(biasName)!, bias: weights.get(biasName)! };
  };
  const norm = (prefix: string, what: string): LayerNorm => ({
    scale: need(new RegExp(`(^|\\.)${prefix}\\.weight$`), `${what} weight`),
    bias: need(new RegExp(`(^|\\.)${prefix}\\.bias$`), `${what} bias`),
  });
  return { nodes, weights, producer, need, matrixBehind, linear, norm, tableOf };
}

/** Every BART layer's self-attention, feed-forward and their norms, in the encoder's or the decoder's stack. */
function layerOf(index: WeightIndex, stack: "encoder" | "decoder", l: number) {
  const linear = (path: string): Linear => index.linear(`${stack}\\.layers\\.${l}\\.${path.replace(/\./g, "\\.")}`, `${stack} layer ${l} ${path}`);
  const norm = (name: string): LayerNorm => index.norm(`${stack}\\.layers\\.${l}\\.${name}`, `${stack} layer ${l} ${name}`);
  const common: BartEncoderLayerWeights = {
    selfQ: linear("self_attn.q_proj"),
    selfK: linear("self_attn.k_proj"),
    selfV: linear("self_attn.v_proj"),
    selfOut: linear("self_attn.out_proj"),
    selfNorm: norm("self_attn_layer_norm"),
    fc1: linear("fc1"),
    fc2: linear("fc2"),
    finalNorm: norm("final_layer_norm"),
  };
  return { linear, norm, common };
}

/** config.json's layer count must be the graph's: a layer past it means another model. */
function checkNoLayerPast(index: WeightIndex, path: string, stack: "encoder" | "decoder", layerCount: number): void {
  if (findByPattern(index.weights, new RegExp(`(^|\\.)${stack}\\.layers\\.${layerCount}\\.`))) {
    throw new OnnxFormatError(`${path}: more ${stack} layers than config.json's ${stack}_layers ${layerCount}`);
  }
}

export function findBartDecoderWeights(model: LoadedOnnxModel, layerCount: number): BartDecoderWeights {
  const index = indexWeights(model);
  const { nodes, weights, producer, matrixBehind, norm, tableOf } = index;
  const layers: BartDecoderLayerWeights[] = [];
  for (let l = 0; l < layerCount; l++) {
    const { linear, norm: layerNorm, common } = layerOf(index, "decoder", l);
    layers.push({
      ...common,
      crossQ: linear("encoder_attn.q_proj"),
      crossK: linear("encoder_attn.k_proj"),
      crossV: linear("encoder_attn.v_proj"),
      crossOut: linear("encoder_attn.out_proj"),
      crossNorm: layerNorm("encoder_attn_layer_norm"),
    });
  }
  checkNoLayerPast(index, model.path, "decoder", layerCount);

  const embedGather = nodes.find((n) => n.opType === "Gather" && n.input?.[1] === "input_ids" && weights.has(n.input?.[0] ?? ""));
  const embedTokens = embedGather ? tableOf(embedGather) : undefined;
  if (!embedTokens) throw new OnnxFormatError(`${model.path}: no Gather of input_ids from an embedding matrix`);
  const positionsGather = nodes.find((n) => n.opType === "Gather" && /(^|\.)decoder\.embed_positions\.weight(_quantized)?$/.test(n.input?.[0] ?? ""));
  const embedPositions = positionsGather ? tableOf(positionsGather) : undefined;
  if (!embedPositions) throw new OnnxFormatError(`${model.path}: no Gather from the decoder position embedding`);

  // LM head: walk back from `logits` through Add (final_logits_bias) to the MatMul.
  let finalLogitsBias: WeightSource | null = null;
  let headValue = "logits";
  const logitsNode = producer.get("logits");
  if (logitsNode?.opType === "Add") {
    const [a, b] = logitsNode.input ?? [];
    const biasName = weights.has(a ?? "") ? a : b;
    finalLogitsBias = weights.get(biasName ?? "") ?? null;
    headValue = (biasName === a ? b : a) ?? "";
  }
  let lmHead: Matrix | null = matrixBehind(headValue) ?? null;
  if (lmHead?.kind === "float" || !lmHead) {
    // Tied: the matrix is the token embedding itself, seen through Transpose (and DequantizeLinear).
    const head = producer.get(headValue);
    if (head?.opType !== "MatMul") throw new OnnxFormatError(`${model.path}: logits do not come from a MatMul (LM head)`);
    let value = head.input?.[1] ?? "";
    while (!weights.has(value) && ["Transpose", "DequantizeLinear"].includes(producer.get(value)?.opType ?? "")) {
      value = producer.get(value)!.input?.[0] ?? "";
    }
    const viaTranspose = value !== (head.input?.[1] ?? "");
    if (viaTranspose) {
      if (weights.get(value) !== embedTokens.weight) throw new OnnxFormatError(`${model.path}: the LM head is neither a weight nor the transposed token embedding`);
      lmHead = null;
    }
  }

  return {
    embedTokens,
    embedPositions,
    embeddingNorm: norm("decoder\\.layernorm_embedding", "decoder layernorm_embedding"),
    layers,
    lmHead,
    finalLogitsBias,
  };
}

export interface BartEncoderWeights {
  /** [vocab, d]: the largest table the encoder gathers rows of. */
  readonly embedTokens: Table;
  /** [max_position_embeddings + 2, d] */
  readonly embedPositions: Table;
  readonly embeddingNorm: LayerNorm;
  readonly layers: readonly BartEncoderLayerWeights[];
}

/** The encoder's weights in a published `encoder_model.onnx`, by role (as the decoder's, above). */
export function findBartEncoderWeights(model: LoadedOnnxModel, layerCount: number): BartEncoderWeights {
  const index = indexWeights(model);
  const { nodes, norm, tableOf } = index;
  const layers = Array.from({ length: layerCount }, (_, l) => layerOf(index, "encoder", l).common);
  checkNoLayerPast(index, model.path, "encoder", layerCount);
  // Exports reshape input_ids before the lookup, so the token table is found by size: the largest
  // two-dimensional table a Gather reads (the other is the positions', ~1,000 rows against the vocabulary's).
  const tables = nodes
    .filter((n) => n.opType === "Gather")
    .map((n) => ({ node: n, table: tableOf(n) }))
    .filter((t): t is { node: NodeProto; table: Table } => t.table !== undefined && t.table.weight.dims.length === 2);
  const embedTokens = tables.sort((x, y) => y.table.weight.dims[0]! - x.table.weight.dims[0]!)[0]?.table;
  if (!embedTokens) throw new OnnxFormatError(`${model.path}: no token-embedding Gather`);
  const positions = tables.find((t) => /(^|\.)encoder\.embed_positions\.weight(_quantized)?$/.test(t.node.input?.[0] ?? ""));
  if (!positions) throw new OnnxFormatError(`${model.path}: no Gather from the encoder position embedding`);
  return {
    embedTokens,
    embedPositions: positions.table,
    embeddingNorm: norm("encoder\\.layernorm_embedding", "encoder layernorm_embedding"),
    layers,
  };
}
