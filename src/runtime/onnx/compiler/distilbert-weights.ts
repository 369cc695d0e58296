/**
 * Finds a DistilBERT sequence classifier's weights by role in its published graph (transformers.js
 * layout `onnx/model.onnx` or `onnx/model_quantized.onnx`), as `bart-weights.ts` does for BART: matrices
 * through the node that adds their named bias, tables through the Gather that reads them.
 */

import { indexWeights, type LayerNorm, type Linear, type Table } from "./bart-weights.js";
import { OnnxFormatError, type LoadedOnnxModel } from "./onnx-proto.js";

export interface DistilBertLayerWeights {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly out: Linear;
  readonly attentionNorm: LayerNorm;
  readonly ffnIn: Linear;
  readonly ffnOut: Linear;
  readonly outputNorm: LayerNorm;
}

export interface DistilBertClassifierWeights {
  /** [vocab, dim], gathered by input_ids. */
  readonly words: Table;
  /** [max_position_embeddings, dim], gathered by position 0, 1, ... */
  readonly positions: Table;
  readonly embeddingNorm: LayerNorm;
  readonly layers: readonly DistilBertLayerWeights[];
  /** dim -> dim, then ReLU, applied to the first token's hidden state. */
  readonly preClassifier: Linear;
  /** dim -> labels. */
  readonly classifier: Linear;
  /** The epsilon of the graph's layer norms (DistilBERT's is 1e-12, not BART's 1e-5). */
  readonly layerNormEpsilon: number;
}

export function findDistilBertClassifierWeights(model: LoadedOnnxModel, layerCount: number): DistilBertClassifierWeights {
  const index = indexWeights(model);
  const { nodes, linear, norm, tableOf } = index;
  const stack = "distilbert\\.transformer\\.layer";
  const layers = Array.from({ length: layerCount }, (_, l): DistilBertLayerWeights => {
    const at = (path: string, what: string) => linear(`${stack}\\.${l}\\.${path}`, `layer ${l} ${what}`);
    return {
      q: at("attention\\.q_lin", "q_lin"),
      k: at("attention\\.k_lin", "k_lin"),
      v: at("attention\\.v_lin", "v_lin"),
      out: at("attention\\.out_lin", "out_lin"),
      attentionNorm: norm(`${stack}\\.${l}\\.sa_layer_norm`, `layer ${l} sa_layer_norm`),
      ffnIn: at("ffn\\.lin1", "ffn.lin1"),
      ffnOut: at("ffn\\.lin2", "ffn.lin2"),
      outputNorm: norm(`${stack}\\.${l}\\.output_layer_norm`, `layer ${l} output_layer_norm`),
    };
  });
  if ([...index.weights.keys()].some((name) => new RegExp(`(^|\\.)${stack}\\.${layerCount}\\.`).test(name))) {
    throw new OnnxFormatError(`${model.path}: more layers than config.json's n_layers ${layerCount}`);
  }
  const gatherOf = (pattern: RegExp) => nodes.find((n) => n.opType === "Gather" && pattern.test(n.input?.[0] ?? ""));
  const wordsGather = nodes.find((n) => n.opType === "Gather" && n.input?.[1] === "input_ids");
  const words = wordsGather ? tableOf(wordsGather) : undefined;
  if (!words) throw new OnnxFormatError(`${model.path}: no Gather of input_ids from a word-embedding table`);
  const positionsGather = gatherOf(/(^|\.)embeddings\.position_embeddings\.weight(_quantized)?$/);
  const positions = positionsGather ? tableOf(positionsGather) : undefined;
  if (!positions) throw new OnnxFormatError(`${model.path}: no Gather from the position embedding`);
  const epsilon = nodes.find((n) => n.opType === "LayerNormalization")?.attribute?.find((a) => a.name === "epsilon")?.f;
  if (typeof epsilon !== "number") throw new OnnxFormatError(`${model.path}: no LayerNormalization epsilon`);
  return {
    words,
    positions,
    embeddingNorm: norm("distilbert\\.embeddings\\.LayerNorm", "embeddings LayerNorm"),
    layers,
    preClassifier: linear("pre_classifier", "pre_classifier"),
    classifier: linear("classifier", "classifier"),
    layerNormEpsilon: epsilon,
  };
}
