import { createRequire } from "node:module";

/**
 * onnxruntime-node is an optional dependency: its install script downloads CUDA files from a NuGet
 * feed, which fails without internet, and npm then leaves the optional package out instead of
 * failing the whole install. The neural experts ask here first, so that a missing runtime is one
 * clear reason ("not installed") and the embedded experts take over, instead of an import error
 * that would stop every command, embedded ones included. Modules that use the runtime are imported
 * only after this says it is there.
 */
export function onnxRuntimeMissing(): string | undefined {
  try {
    createRequire(import.meta.url).resolve("onnxruntime-node");
    return undefined;
  } catch {
    return (
      "onnxruntime-node is not installed (an optional dependency; its install script needs the internet " +
      "for CUDA files): run `npm install onnxruntime-node` with network access, or " +
      "`ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node` for the CPU runtime alone"
    );
  }
}
