/** ONNX Runtime (onnxruntime-node, CPU) sessions and the BART seq2seq runner for `generate()`. */
export { loadBartOnnx, bartFilesInDirectory, BartOnnxModel, BartDecoderState, BartOnnxError } from "./bart-onnx.js";
export type { BartOnnxFiles, LoadBartOptions, DecoderLayout } from "./bart-onnx.js";
export { OnnxSession, sessionOptions } from "./session.js";
export type { OrtSessionOptions, GraphOptimizationLevel } from "./session.js";
export { gatherRows, gatherRowsInPlace, compactRowsInPlace, groupSourceRows, keepsRowGroups } from "./row-gather.js";
