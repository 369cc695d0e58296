/**
 * Compiles a published int8 DistilBERT sequence classifier (`onnx/model_quantized.onnx`) into the graph
 * `distilbert-classifier-graph.ts` describes: the same weights (external-data references into the
 * source), fused flash attention, rows fed unpadded.
 *
 * Why: the published int8 graph runs attention as separate products, a mask and a softmax over
 * [heads, S, S] scores, and quantizes each activation over the whole padded batch (a row's logits move
 * with its batch-mates). Fused and run a row at a time it does 6-8% less work, peaks a third lower
 * (full size, `scripts/prefill-timing.mjs`; README), and each row's logits are its own. A float
 * classifier is not compiled here: `compile-without-table.ts` keeps its graph bit for bit.
 *
 * Files next to the source: SOURCE.news-moe-d<version>.model.onnx and its manifest (compile-cache.ts).
 */

import { resolve } from "node:path";
import { buildDistilBertClassifierGraph, type DistilBertShape } from "./distilbert-classifier-graph.js";
import { findDistilBertClassifierWeights } from "./distilbert-weights.js";
import { compileCached, CompileRefusal, findOrRefuse } from "./compile-cache.js";
import { loadOnnxModel, serializeModel, type WeightSource } from "./onnx-proto.js";

/** Bump whenever the emitted graph changes: old compilations are then ignored and rebuilt. */
export const DISTILBERT_CLASSIFIER_COMPILER_VERSION = 1;

export interface CompiledDistilBertClassifier {
  readonly graph: string;
  /** True when this call compiled; false when an earlier compilation was reused. */
  readonly compiled: boolean;
}

/** The graph's shape from config.json, or a refusal naming what does not fit. */
export function distilBertShapeFromConfig(config: Readonly<Record<string, unknown>>, source: string): DistilBertShape {
  const number = (key: string): number => {
    const value = config[key];
    if (typeof value !== "number") throw new CompileRefusal(`${source}: config.json has no numeric ${key}`);
    return value;
  };
  if (config["model_type"] !== "distilbert") throw new CompileRefusal(`${source}: model_type ${String(config["model_type"])} is not distilbert`);
  const activation = config["activation"] ?? "gelu";
  if (activation !== "gelu") throw new CompileRefusal(`${source}: activation ${String(activation)} is not compiled (gelu only)`);
  const dim = number("dim");
  const heads = number("n_heads");
  if (dim % heads !== 0) throw new CompileRefusal(`${source}: dim is not divisible by n_heads`);
  return { dim, heads, layers: number("n_layers") };
}

/** Compiles `sourceGraph` (or reuses an earlier compilation of the same bytes); throws CompileRefusal or a read/write error. */
export async function compileDistilBertClassifier(
  sourceGraph: string,
  options: { readonly config: Readonly<Record<string, unknown>>; readonly fallbackDir?: string; readonly onCompile?: (source: string) => void },
): Promise<CompiledDistilBertClassifier> {
  const source = resolve(sourceGraph);
  const shape = distilBertShapeFromConfig(options.config, source);
  const outcome = await compileCached<null>({
    source,
    tag: `d${DISTILBERT_CLASSIFIER_COMPILER_VERSION}`,
    parts: ["model"],
    settings: JSON.stringify(shape),
    ...(options.fallbackDir ? { fallbackDir: options.fallbackDir } : {}),
    ...(options.onCompile ? { onCompile: options.onCompile } : {}),
    build: (locate) => buildClassifier(source, shape, locate),
  });
  return { graph: outcome.paths["model"]!, compiled: outcome.compiled };
}

function buildClassifier(source: string, shape: DistilBertShape, locate: (weight: WeightSource) => string) {
  const weights = findOrRefuse(() => findDistilBertClassifierWeights(loadOnnxModel(source), shape.layers));
  if (weights.layers.some((layer) => layer.ffnIn.matrix.kind !== "int8")) throw new CompileRefusal(`${source}: the matrices are not int8`);
  return { graphs: { model: serializeModel(buildDistilBertClassifierGraph(weights, shape, locate)) }, details: null };
}
