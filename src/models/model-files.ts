import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";

/**
 * Which files a model needs, in the layout transformers.js publishes its ONNX ports in
 * (`config.json`, tokenizer files at the root, graphs under `onnx/`).
 */

export type ModelKind = "seq2seq" | "classifier";
/** `fp32` picks the plain graphs, `q8` the int8 `*_quantized.onnx` ones. */
export type ModelDtype = "fp32" | "q8";

export const MODEL_KINDS: readonly ModelKind[] = ["seq2seq", "classifier"];
export const MODEL_DTYPES: readonly ModelDtype[] = ["fp32", "q8"];

export interface ModelFilePlan {
  kind: ModelKind;
  dtype: ModelDtype;
  /** Repo-relative paths (always `/`-separated) every model of this kind needs, and the only graphs fetched. */
  required: readonly string[];
  /** Used when present (and downloaded when the repo has them); their absence is never an error. */
  optional: readonly string[];
}

const COMMON_REQUIRED = ["config.json", "tokenizer.json", "tokenizer_config.json"] as const;

export function onnxFile(baseName: string, dtype: ModelDtype): string {
  return `onnx/${baseName}${dtype === "q8" ? "_quantized" : ""}.onnx`;
}

/**
 * The one place that decides which files a model of `kind` needs in `dtype`: what `models pull`
 * and a first-use download fetch, what a local directory or the cache must hold, and what the
 * runtime opens. A seq2seq model runs on its encoder and its merged decoder (one graph with and
 * without the past, decoder weights resident once); the split decoder pair the hub also publishes
 * is never opened, so it is never fetched (about 1.2 GB of fp32 graphs for distilbart-cnn-6-6).
 */
export function modelFilePlan(kind: ModelKind, dtype: ModelDtype): ModelFilePlan {
  if (kind === "classifier") {
    return { kind, dtype, required: [...COMMON_REQUIRED, onnxFile("model", dtype)], optional: ["special_tokens_map.json"] };
  }
  return {
    kind,
    dtype,
    required: [...COMMON_REQUIRED, onnxFile("encoder_model", dtype), onnxFile("decoder_model_merged", dtype)],
    optional: ["generation_config.json", "special_tokens_map.json"],
  };
}

/** Every path a plan mentions, required first, in a stable order (the download order). */
export function planPaths(plan: ModelFilePlan): string[] {
  return [...plan.required, ...plan.optional];
}

/** What is missing for `present` to satisfy `plan`. */
export function missingFromPlan(plan: ModelFilePlan, present: ReadonlySet<string>): string[] {
  return plan.required.filter((path) => !present.has(path));
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
  /** The merged decoder (with and without past in one graph), the only decoder the runtime opens. */
  decoderMerged: string;
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
    planPaths(plan).map(async (path) => {
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
  return {
    ...common,
    kind: "seq2seq",
    encoder: at(onnxFile("encoder_model", plan.dtype)),
    decoderMerged: at(onnxFile("decoder_model_merged", plan.dtype)),
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
