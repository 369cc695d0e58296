/**
 * The one place the summariser meets the ONNX seq2seq runtime: open a model's graphs with the
 * project's BART runner (src/runtime/onnx) and generate token ids with the HF-faithful
 * `generate()` (src/runtime/generation).
 */
import type { Seq2SeqModelFiles } from "../../models/model-store.js";
import { generate, type GenerationOptions } from "../../runtime/generation/index.js";
import { loadBartOnnx } from "../../runtime/onnx/index.js";

export interface Seq2SeqRunner {
  /** HF `generate(input_ids, **options)`: one sequence per input row (decoder start token first). */
  generate(inputIds: readonly (readonly number[])[], options: GenerationOptions, signal?: AbortSignal): Promise<{ sequences: number[][] }>;
  dispose(): Promise<void>;
}

export async function loadSeq2SeqModel(
  files: Seq2SeqModelFiles,
  config: Readonly<Record<string, unknown>>,
  generationConfig: Readonly<Record<string, unknown>> | undefined,
  threads?: number,
): Promise<Seq2SeqRunner> {
  // The model store's plan (models/model-files.ts) chose the dtype's files: the encoder and the
  // merged decoder, which holds the decoder weights once where the split pair holds them twice.
  const model = await loadBartOnnx(
    {
      encoder: files.encoder,
      decoderMerged: files.decoderMerged,
      config,
      ...(generationConfig ? { generationConfig } : {}),
    },
    threads !== undefined ? { intraOpNumThreads: threads } : {},
  );
  return {
    async generate(inputIds, options, signal) {
      const result = await generate(model, { inputIds }, options, signal ? { signal } : {});
      return { sequences: result.sequences };
    },
    dispose: () => model.dispose(),
  };
}
