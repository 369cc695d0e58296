/**
 * The tiny distilbart on the compiled decoder, as `openBart` loads it (fp32 with the compiled encoder,
 * int8 with the published quantized encoder), from a copy of the fixture folder: compiled graphs are
 * written beside their source, and the fixtures stay untouched.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadCompiledBart, type CompiledBartModel } from "../../src/runtime/onnx/compiled-bart.js";
import { compileBartDecoder } from "../../src/runtime/onnx/compiler/compile-bart.js";
import { compileBartEncoder } from "../../src/runtime/onnx/compiler/compile-bart-encoder.js";
import { MODEL_DIR } from "./summarization-references.js";

export const tinyConfig = JSON.parse(readFileSync(join(MODEL_DIR, "config.json"), "utf8")) as Record<string, unknown>;
export const tinyGenerationConfig = JSON.parse(readFileSync(join(MODEL_DIR, "generation_config.json"), "utf8")) as Record<string, unknown>;

/** `dir` is a copy of the fixture folder; `source` the decoder file compiled. */
export async function compiledTinyBart(dir: string, source: string, quantized = false, resident = true): Promise<CompiledBartModel> {
  const config = tinyConfig;
  const compiled = await compileBartDecoder(join(dir, "onnx", source), { config });
  const encoder = quantized ? null : await compileBartEncoder(join(dir, "onnx", "encoder_model.onnx"), { config });
  return loadCompiledBart(
    {
      encoder: encoder?.graph ?? join(dir, "onnx", "encoder_model_quantized.onnx"),
      ...(encoder?.table ? { encoderTable: encoder.table } : {}),
      ...compiled,
      config,
      generationConfig: tinyGenerationConfig,
    },
    { intraOpNumThreads: 1 },
    { resident },
  );
}
