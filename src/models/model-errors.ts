import type { ModelDtype, ModelKind } from "./model-files.js";

export interface ModelNotAvailableDetails {
  /** The spec as the user wrote it. */
  spec: string;
  kind?: ModelKind | "auto";
  dtype: ModelDtype;
  /** Why, in one clause: "offline mode is on and it is not in the cache". */
  reason: string;
  /** Files (repo-relative) that are missing; empty when unknown. */
  missing?: readonly string[];
  /** Exact paths (and URLs) that were looked at. */
  lookedIn: readonly string[];
  /** The hub id to suggest to `news-moe models pull`; absent for local-directory specs. */
  hubId?: string;
  /** What switched offline mode on ("HF_HUB_OFFLINE=1", "--offline", ...), when it was on. */
  offlineBecause?: string;
  cause?: unknown;
}

function modelFlagFor(kind: ModelKind | "auto" | undefined): string {
  if (kind === "seq2seq") return "--summarizer-model DIR";
  if (kind === "classifier") return "--sentiment-model DIR";
  return "--summarizer-model DIR / --sentiment-model DIR";
}

/**
 * A model could not be had: not on disk, not in the cache, and not downloadable right now. The
 * message is meant for the user as is: which model, what is missing, where we looked, and how to
 * get it. Neural experts wrap it into ExpertUnavailableError so the router falls back.
 */
export class ModelNotAvailableError extends Error {
  readonly spec: string;
  readonly missing: readonly string[];
  readonly lookedIn: readonly string[];
  readonly reason: string;

  constructor(readonly details: ModelNotAvailableDetails) {
    super(ModelNotAvailableError.format(details), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "ModelNotAvailableError";
    this.spec = details.spec;
    this.missing = details.missing ?? [];
    this.lookedIn = details.lookedIn;
    this.reason = details.reason;
  }

  private static format(details: ModelNotAvailableDetails): string {
    const what = [details.kind && details.kind !== "auto" ? details.kind : undefined, details.dtype].filter(Boolean).join(", ");
    const lines = [`Model ${details.spec} (${what}) is not available: ${details.reason}.`];
    if (details.missing && details.missing.length > 0) lines.push(`  Missing: ${details.missing.join(", ")}`);
    if (details.lookedIn.length > 0) {
      lines.push("  Looked in:", ...details.lookedIn.map((place) => `    ${place}`));
    }
    lines.push("  To get it:");
    const flag = modelFlagFor(details.kind);
    if (details.hubId) {
      lines.push(`    - with network access: news-moe models pull ${details.hubId} --dtype ${details.dtype}`);
      lines.push(`      (downloads into the Hugging Face cache; HF_HOME / HF_HUB_CACHE choose where)`);
      lines.push(`    - or use a local directory in the transformers.js ONNX layout: ${flag}`);
      if (details.offlineBecause) {
        lines.push(`    - offline mode is on (${details.offlineBecause}); without it, missing models are downloaded`);
      }
    } else {
      lines.push(
        `    - put the missing files into that directory (config.json, tokenizer.json, tokenizer_config.json, onnx/*.onnx)`,
        `    - or name a hub id instead (e.g. Xenova/distilbart-cnn-6-6) and run news-moe models pull <id>`,
      );
    }
    return lines.join("\n");
  }
}
