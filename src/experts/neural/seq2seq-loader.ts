/**
 * The one place the summariser meets the ONNX seq2seq runtime: open a model directory's graphs and
 * generate token ids for a batch of encoder inputs with the generation helper's HF-faithful
 * `generate()` (src/runtime/generation).
 *
 * The graphs are opened by InterimBartOnnx until the project's `loadBartOnnx` (src/runtime/onnx)
 * exists; swapping it in changes this file only.
 */
import type { Seq2SeqModelFiles } from "../../models/model-store.js";
import { generate, type GenerationOptions, generationOptionsFromHfJson } from "../../runtime/generation/index.js";
import { InterimBartOnnx } from "./interim-bart-onnx.js";

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
  if (!files.splitDecoder) {
    throw new Error(
      `${files.dir} has only the merged decoder; this build needs onnx/decoder_model and onnx/decoder_with_past_model (as Xenova/distilbart-cnn-6-6 ships them)`,
    );
  }
  const model = await InterimBartOnnx.create(
    { encoder: files.encoder, decoder: files.splitDecoder.decoder, decoderWithPast: files.splitDecoder.decoderWithPast },
    config,
    generationOptionsFromHfJson(generationConfig ?? config),
    threads,
  );
  return {
    async generate(inputIds, options, signal) {
      const result = await generate(model, { inputIds }, options, signal ? { signal } : {});
      return { sequences: result.sequences.map((row) => Array.from(row)) };
    },
    dispose: () => model.dispose(),
  };
}
