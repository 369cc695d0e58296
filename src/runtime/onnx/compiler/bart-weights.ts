/**
 * Finds the BART decoder's weights in a published decoder graph (`decoder_model_merged.onnx` or
 * `decoder_model.onnx`, as optimum / transformers.js export them), by role.
 *
 * Parameters with a torch name keep it in the export (`...decoder.layers.3.fc1.bias`); the MatMul weights
 * are anonymous (`onnx::MatMul_1501`, stored transposed as [in, out]), so each one is found through the
 * node that adds its named bias: MatMul(x, W) -> Add(bias, ·). The token embedding is whatever the graph
 * gathers `input_ids` from; the LM head is the MatMul that feeds `logits`, over its own matrix (untied
 * export) or a Transpose of the embedding (tied).
 */

import { allNodes, OnnxFormatError, type LoadedOnnxModel, type NodeProto, type WeightSource } from "./onnx-proto.js";

export interface Linear {
  /** [in, out] */
  readonly weight: WeightSource;
  readonly bias: WeightSource;
}

export interface LayerNorm {
  readonly scale: WeightSource;
  readonly bias: WeightSource;
}

export interface BartDecoderLayerWeights {
  readonly selfQ: Linear;
  readonly selfK: Linear;
  readonly selfV: Linear;
  readonly selfOut: Linear;
  readonly selfNorm: LayerNorm;
  readonly crossQ: Linear;
  readonly crossK: Linear;
  readonly crossV: Linear;
  readonly crossOut: Linear;
  readonly crossNorm: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly finalNorm: LayerNorm;
}

export interface BartDecoderWeights {
  /** [vocab, d] */
  readonly embedTokens: WeightSource;
  /** [max_position_embeddings + 2, d] */
  readonly embedPositions: WeightSource;
  readonly embeddingNorm: LayerNorm;
  readonly layers: readonly BartDecoderLayerWeights[];
  /** The LM head: its own [d, vocab] matrix, or null when it is the transposed token embedding. */
  readonly lmHead: WeightSource | null;
  /** [1, vocab] or [vocab], when the export has one. */
  readonly finalLogitsBias: WeightSource | null;
}

function findByPattern(model: LoadedOnnxModel, pattern: RegExp): WeightSource | undefined {
  for (const [name, source] of model.weights) if (pattern.test(name)) return source;
  return undefined;
}

export function findBartDecoderWeights(model: LoadedOnnxModel, layerCount: number): BartDecoderWeights {
  const graph = model.model.graph!;
  const nodes = allNodes(graph);
  const need = (pattern: RegExp, what: string): WeightSource => {
    const found = findByPattern(model, pattern);
    if (!found) throw new OnnxFormatError(`${model.path}: no ${what} (looked for an initializer matching ${pattern})`);
    return found;
  };

  // Linear layers: bias name -> weight, through MatMul(x, W) -> Add(bias, matmul).
  const producer = new Map<string, NodeProto>();
  for (const node of nodes) for (const output of node.output ?? []) producer.set(output, node);
  const weightOfBias = new Map<string, WeightSource>();
  for (const node of nodes) {
    if (node.opType !== "Add") continue;
    const inputs = node.input ?? [];
    const biasName = inputs.find((i) => /\.bias$/.test(i) && model.weights.has(i));
    if (!biasName) continue;
    const other = inputs.find((i) => i !== biasName);
    const matmul = other ? producer.get(other) : undefined;
    if (!matmul || matmul.opType !== "MatMul") continue;
    const weight = model.weights.get(matmul.input?.[1] ?? "");
    if (weight) weightOfBias.set(biasName, weight);
  }
  const linear = (layer: number, path: string): Linear => {
    const bias = need(new RegExp(`(^|\\.)decoder\\.layers\\.${layer}\\.${path.replace(/\./g, "\\.")}\\.bias$`), `decoder layer ${layer} ${path} bias`);
    const weight = weightOfBias.get(bias.name);
    if (!weight) throw new OnnxFormatError(`${model.path}: no MatMul weight feeds ${bias.name}`);
    return { weight, bias };
  };
  const norm = (prefix: string, what: string): LayerNorm => ({
    scale: need(new RegExp(`(^|\\.)${prefix}\\.weight$`), `${what} weight`),
    bias: need(new RegExp(`(^|\\.)${prefix}\\.bias$`), `${what} bias`),
  });

  const layers: BartDecoderLayerWeights[] = [];
  for (let l = 0; l < layerCount; l++) {
    layers.push({
      selfQ: linear(l, "self_attn.q_proj"),
      selfK: linear(l, "self_attn.k_proj"),
      selfV: linear(l, "self_attn.v_proj"),
      selfOut: linear(l, "self_attn.out_proj"),
      selfNorm: norm(`decoder\\.layers\\.${l}\\.self_attn_layer_norm`, `decoder layer ${l} self_attn_layer_norm`),
      crossQ: linear(l, "encoder_attn.q_proj"),
      crossK: linear(l, "encoder_attn.k_proj"),
      crossV: linear(l, "encoder_attn.v_proj"),
      crossOut: linear(l, "encoder_attn.out_proj"),
      crossNorm: norm(`decoder\\.layers\\.${l}\\.encoder_attn_layer_norm`, `decoder layer ${l} encoder_attn_layer_norm`),
      fc1: linear(l, "fc1"),
      fc2: linear(l, "fc2"),
      finalNorm: norm(`decoder\\.layers\\.${l}\\.final_layer_norm`, `decoder layer ${l} final_layer_norm`),
    });
  }
  if (findByPattern(model, new RegExp(`(^|\\.)decoder\\.layers\\.${layerCount}\\.`))) {
    throw new OnnxFormatError(`${model.path}: more decoder layers than config.json's decoder_layers ${layerCount}`);
  }

  const embedGather = nodes.find((n) => n.opType === "Gather" && n.input?.[1] === "input_ids" && model.weights.has(n.input?.[0] ?? ""));
  if (!embedGather) throw new OnnxFormatError(`${model.path}: no Gather of input_ids from an embedding matrix`);
  const embedTokens = model.weights.get(embedGather.input![0]!)!;

  // LM head: walk back from `logits` through Add (final_logits_bias) to the MatMul.
  let finalLogitsBias: WeightSource | null = null;
  let head = producer.get("logits");
  if (head?.opType === "Add") {
    const [a, b] = head.input ?? [];
    const biasName = model.weights.has(a ?? "") ? a : b;
    finalLogitsBias = model.weights.get(biasName ?? "") ?? null;
    head = producer.get((biasName === a ? b : a) ?? "");
  }
  if (!head || head.opType !== "MatMul") throw new OnnxFormatError(`${model.path}: logits do not come from a MatMul (LM head)`);
  const headInput = head.input?.[1] ?? "";
  let lmHead: WeightSource | null = model.weights.get(headInput) ?? null;
  if (!lmHead) {
    const transpose = producer.get(headInput);
    if (transpose?.opType !== "Transpose" || transpose.input?.[0] !== embedTokens.name) {
      throw new OnnxFormatError(`${model.path}: the LM head is neither a weight nor the transposed token embedding`);
    }
  }

  return {
    embedTokens,
    embedPositions: need(/(^|\.)decoder\.embed_positions\.weight$/, "decoder position embedding"),
    embeddingNorm: norm("decoder\\.layernorm_embedding", "decoder layernorm_embedding"),
    layers,
    lmHead,
    finalLogitsBias,
  };
}
