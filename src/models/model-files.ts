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
  /** Repo-relative paths (always `/`-separated) every model of this kind needs. */
  required: readonly string[];
  /**
   * Groups of which at least one must be complete. For seq2seq: the merged decoder, or the split
   * pair (decoder + decoder-with-past). The runtime prefers the split pair when both exist, so a
   * download fetches every group the hub has; a local dir with either group is usable.
   */
  anyOf: readonly (readonly string[])[];
  /** Used when present; their absence is never an error. */
  optional: readonly string[];
}

const COMMON_REQUIRED = ["config.json", "tokenizer.json", "tokenizer_config.json"] as const;

export function onnxFile(baseName: string, dtype: ModelDtype): string {
  return `onnx/${baseName}${dtype === "q8" ? "_quantized" : ""}.onnx`;
}

export function modelFilePlan(kind: ModelKind, dtype: ModelDtype): ModelFilePlan {
  if (kind === "classifier") {
    return {
      kind,
      dtype,
      required: [...COMMON_REQUIRED, onnxFile("model", dtype)],
      anyOf: [],
      optional: ["special_tokens_map.json"],
    };
  }
  return {
    kind,
    dtype,
    required: [...COMMON_REQUIRED, onnxFile("encoder_model", dtype)],
    anyOf: [
      [onnxFile("decoder_model_merged", dtype)],
      [onnxFile("decoder_model", dtype), onnxFile("decoder_with_past_model", dtype)],
    ],
    optional: ["generation_config.json", "special_tokens_map.json"],
  };
}

/** Every path a plan mentions, required first, in a stable order (the download order). */
export function planPaths(plan: ModelFilePlan): string[] {
  return [...plan.required, ...plan.anyOf.flat(), ...plan.optional];
}

/** What is missing for `present` to satisfy `plan`, in words fit for an error message. */
export function missingFromPlan(plan: ModelFilePlan, present: ReadonlySet<string>): string[] {
  const missing = plan.required.filter((path) => !present.has(path));
  const anyGroupComplete = plan.anyOf.some((group) => group.every((path) => present.has(path)));
  if (plan.anyOf.length > 0 && !anyGroupComplete) {
    const [first, ...alternatives] = plan.anyOf.map((group) => group.join(" + "));
    missing.push(`${first}${alternatives.map((group) => ` (or ${group})`).join("")}`);
  }
  return missing;
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
  /** Present when the dir has the merged decoder; the fallback when there is no split pair. */
  decoderMerged?: string;
  /** Present only when both halves exist; the runtime prefers it over the merged decoder. */
  splitDecoder?: { decoder: string; decoderWithPast: string };
}

/** The absolute paths of a usable model's files. Seq2seq always has a merged decoder or a split pair. */
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
  const decoder = ifPresent(onnxFile("decoder_model", plan.dtype));
  const decoderWithPast = ifPresent(onnxFile("decoder_with_past_model", plan.dtype));
  return {
    ...common,
    kind: "seq2seq",
    encoder: at(onnxFile("encoder_model", plan.dtype)),
    ...optionalField("decoderMerged", ifPresent(onnxFile("decoder_model_merged", plan.dtype))),
    ...(decoder && decoderWithPast ? { splitDecoder: { decoder, decoderWithPast } } : {}),
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

/** Which dtype variants of `kind`'s graphs a set of present paths covers completely. */
export function dtypesPresent(kind: ModelKind, present: ReadonlySet<string>): ModelDtype[] {
  return MODEL_DTYPES.filter((dtype) => {
    const plan = modelFilePlan(kind, dtype);
    const graphs: ModelFilePlan = { ...plan, required: plan.required.filter((p) => p.startsWith("onnx/")) };
    return missingFromPlan(graphs, present).length === 0;
  });
}
