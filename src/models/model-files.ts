import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";

/**
 * Which files a model needs, in the layout transformers.js publishes its ONNX ports in
 * (`config.json`, tokenizer files at the root, graphs under `onnx/`).
 */

export type ModelKind = "seq2seq" | "classifier";
/** `fp32` (the default, first) picks the plain graphs, `q8` the int8 `*_quantized.onnx` ones. */
export const MODEL_DTYPES = ["fp32", "q8"] as const;
export type ModelDtype = (typeof MODEL_DTYPES)[number];

export const MODEL_KINDS: readonly ModelKind[] = ["seq2seq", "classifier"];

export interface ModelFilePlan {
  kind: ModelKind;
  dtype: ModelDtype;
  /** Repo-relative paths (always `/`-separated) every model of this kind needs, and the only graphs fetched. */
  required: readonly string[];
  /** Used when present (and downloaded when the repo has them); their absence is never an error. */
  optional: readonly string[];
  /**
   * Files a model directory (local, or in the cache) may hold instead of a required one; never
   * downloaded. The split decoder pair that several exporters write instead of the merged decoder.
   */
  alternatives: Readonly<Record<string, readonly string[]>>;
}

const COMMON_REQUIRED = ["config.json", "tokenizer.json", "tokenizer_config.json"] as const;

export function onnxFile(baseName: string, dtype: ModelDtype): string {
  return `onnx/${baseName}${dtype === "q8" ? "_quantized" : ""}.onnx`;
}

/**
 * The one place that decides which files a model of `kind` needs in `dtype`: what `models pull`
 * and a first-use download fetch, what a local directory or the cache must hold, and what the
 * runtime opens. A seq2seq model runs on its encoder and one decoder graph, which the runtime
 * compiles for beam search: the merged decoder (with and without the past in one graph) or, in a
 * directory that has it instead, `decoder_model.onnx` of the split pair (with its
 * `decoder_with_past_model.onnx`, which the published-graph fallback runs). Downloads fetch the
 * merged graph only: the split pair would be about 1.2 GB more of fp32 graphs for distilbart-cnn-6-6.
 */
export function modelFilePlan(kind: ModelKind, dtype: ModelDtype): ModelFilePlan {
  if (kind === "classifier") {
    return { kind, dtype, required: [...COMMON_REQUIRED, onnxFile("model", dtype)], optional: ["special_tokens_map.json"], alternatives: {} };
  }
  return {
    kind,
    dtype,
    required: [...COMMON_REQUIRED, onnxFile("encoder_model", dtype), onnxFile("decoder_model_merged", dtype)],
    optional: ["generation_config.json", "special_tokens_map.json"],
    alternatives: { [onnxFile("decoder_model_merged", dtype)]: [onnxFile("decoder_model", dtype), onnxFile("decoder_with_past_model", dtype)] },
  };
}

/** Every path a plan mentions, required first, in a stable order (the download order). */
export function planPaths(plan: ModelFilePlan): string[] {
  return [...plan.required, ...plan.optional];
}

/** Every path worth looking for in a model directory: the plan's, and the alternatives to its required files. */
function inspectedPaths(plan: ModelFilePlan): string[] {
  return [...new Set([...planPaths(plan), ...Object.values(plan.alternatives).flat()])];
}

/** Whether `present` has `path` or every file of its alternative. */
function satisfied(plan: ModelFilePlan, path: string, present: ReadonlySet<string>): boolean {
  if (present.has(path)) return true;
  const instead = plan.alternatives[path];
  return instead !== undefined && instead.every((alternative) => present.has(alternative));
}

/** What is missing for `present` to satisfy `plan`, in words: `onnx/x.onnx (or onnx/y.onnx with onnx/z.onnx)`. */
export function missingFromPlan(plan: ModelFilePlan, present: ReadonlySet<string>): string[] {
  return plan.required
    .filter((path) => !satisfied(plan, path, present))
    .map((path) => {
      const instead = plan.alternatives[path];
      return instead ? `${path} (or ${instead.join(" with ")})` : path;
    });
}

interface CommonModelFiles {
  kind: ModelKind;
  dtype: ModelDtype;
  /** Absolute path of the model directory; every path below is inside it. */
  dir: string;
  config: string;
  tokenizer: string;
  tokenizerConfig: string;
  generationConfig?: string;
  specialTokensMap?: string;
}

export interface ClassifierModelFiles extends CommonModelFiles {
  kind: "classifier";
  model: string;
}

export interface Seq2SeqModelFiles extends CommonModelFiles {
  kind: "seq2seq";
  encoder: string;
  /** The merged decoder (with and without past in one graph), when the directory has it. */
  decoderMerged?: string;
  /** Otherwise the split pair: the runtime compiles `decoder`; the published-graph fallback runs both. */
  splitDecoder?: { decoder: string; decoderWithPast: string };
}

/** The absolute paths of a usable model's files. */
export type ModelFiles = ClassifierModelFiles | Seq2SeqModelFiles;

export interface ModelDirInspection {
  plan: ModelFilePlan;
  dir: string;
  /** Repo-relative paths found (regular files, symlinks followed). */
  present: Set<string>;
  /** Human-readable missing requirements; empty when `files` is set. */
  missing: string[];
  files?: ModelFiles;
}

async function isFile(path: string): Promise<boolean> {
  try {
    // stat follows symlinks, so a snapshot link whose blob was deleted counts as missing.
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Looks at `dir` and reports which of the plan's files it has, and the usable set if complete. */
export async function inspectModelDir(dir: string, plan: ModelFilePlan): Promise<ModelDirInspection> {
  const absoluteDir = resolve(dir);
  const present = new Set<string>();
  await Promise.all(
    inspectedPaths(plan).map(async (path) => {
      if (await isFile(join(absoluteDir, ...path.split("/")))) present.add(path);
    }),
  );
  const missing = missingFromPlan(plan, present);
  const inspection: ModelDirInspection = { plan, dir: absoluteDir, present, missing };
  if (missing.length === 0) inspection.files = buildModelFiles(absoluteDir, plan, present);
  return inspection;
}

function buildModelFiles(dir: string, plan: ModelFilePlan, present: ReadonlySet<string>): ModelFiles {
  const at = (path: string) => join(dir, ...path.split("/"));
  const ifPresent = (path: string) => (present.has(path) ? at(path) : undefined);
  const common = {
    dtype: plan.dtype,
    dir,
    config: at("config.json"),
    tokenizer: at("tokenizer.json"),
    tokenizerConfig: at("tokenizer_config.json"),
    ...optionalField("generationConfig", ifPresent("generation_config.json")),
    ...optionalField("specialTokensMap", ifPresent("special_tokens_map.json")),
  };
  if (plan.kind === "classifier") {
    return { ...common, kind: "classifier", model: at(onnxFile("model", plan.dtype)) };
  }
  const merged = onnxFile("decoder_model_merged", plan.dtype);
  return {
    ...common,
    kind: "seq2seq",
    encoder: at(onnxFile("encoder_model", plan.dtype)),
    ...(present.has(merged)
      ? { decoderMerged: at(merged) }
      : { splitDecoder: { decoder: at(onnxFile("decoder_model", plan.dtype)), decoderWithPast: at(onnxFile("decoder_with_past_model", plan.dtype)) } }),
  };
}

// Keeps absent optional paths out of the object entirely rather than present-but-undefined,
// so `"generationConfig" in files` and JSON dumps tell the truth.
function optionalField<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: string });
}

/**
 * Guesses the kind from a model's `config.json`: encoder-decoder models are seq2seq (BART, T5),
 * models with an `id2label` table and no decoder are classifiers. Undefined when it can't tell.
 */
export function inferModelKind(config: unknown): ModelKind | undefined {
  if (typeof config !== "object" || config === null) return undefined;
  const record = config as Record<string, unknown>;
  if (record["is_encoder_decoder"] === true) return "seq2seq";
  const architectures = Array.isArray(record["architectures"]) ? record["architectures"] : [];
  if (architectures.some((name) => typeof name === "string" && /ConditionalGeneration|Seq2Seq/.test(name))) {
    return "seq2seq";
  }
  if (architectures.some((name) => typeof name === "string" && /SequenceClassification/.test(name))) {
    return "classifier";
  }
  if (typeof record["id2label"] === "object" && record["id2label"] !== null) return "classifier";
  return undefined;
}
