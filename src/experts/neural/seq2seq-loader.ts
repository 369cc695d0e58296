/**
 * The one place the summariser meets the ONNX seq2seq runtime (src/runtime/onnx + generation):
 * open the graphs of a model directory and generate token ids for a batch of encoder inputs.
 */
import type { Seq2SeqModelFiles } from "../../models/model-store.js";
import type { GenerationOptions } from "../../runtime/generation/index.js";

export interface Seq2SeqRunner {
  /** HF `generate(input_ids, **options)`: one sequence per input row (decoder start token first). */
  generate(inputIds: readonly (readonly number[])[], options: GenerationOptions, signal?: AbortSignal): Promise<{ sequences: number[][] }>;
  dispose(): Promise<void>;
}

export async function loadSeq2SeqModel(files: Seq2SeqModelFiles, threads?: number): Promise<Seq2SeqRunner> {
  void files;
  void threads;
  throw new Error("the ONNX BART runner (src/runtime/onnx) is not available yet");
}
