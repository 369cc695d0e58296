import type { ModelNotAvailableError } from "../models/model-errors.js";

function modelFlagFor(kind: string | undefined): string {
  if (kind === "seq2seq") return "--summarizer-model DIR";
  if (kind === "classifier") return "--sentiment-model DIR";
  return "--summarizer-model DIR / --sentiment-model DIR";
}

/**
 * A missing model in the CLI's words: the store's account (which model, what is missing, where we
 * looked) followed by how to get it with this command line.
 */
export function describeModelNotAvailable(error: ModelNotAvailableError): string {
  const details = error.details;
  const lines = [error.message, "  To get it:"];
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

/** The reason an expert is unavailable, with the CLI's advice when a missing model is behind it. */
export function describeUnavailableCause(reason: string, error: unknown): string {
  let cause: unknown = error;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++) {
    if (cause.name === "ModelNotAvailableError") return describeModelNotAvailable(cause as ModelNotAvailableError);
    cause = cause.cause;
  }
  return reason;
}
