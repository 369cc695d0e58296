/**
 * Compiles a published BART decoder (`decoder_model_merged.onnx` or `decoder_model.onnx`) into the two
 * graphs `bart-decoder-graph.ts` describes, and keeps them beside the source for later runs.
 *
 * The compiled graphs hold no weights of their own: every initializer is an external-data reference
 * into the source file (offset and length of its bytes), so compiling takes seconds, writes well under
 * a megabyte, and a cache of compiled models costs no disk. Files written next to `SOURCE.onnx`:
 *
 *   SOURCE.news-moe-c<version>.step.onnx     the decoder step
 *   SOURCE.news-moe-c<version>.cross.onnx    the per-article cross-attention keys/values
 *   SOURCE.news-moe-c<version>.json          manifest: compiler version, source size, mtime and SHA-256
 *
 * A manifest that matches the source (same size and mtime, or the same SHA-256 after a touch) means the
 * graphs are reused. When the source's folder cannot be written (a read-only model directory), the
 * graphs go to `fallbackDir` with a symbolic link to the source beside them, since ONNX Runtime only
 * follows external-data paths inside the graph's own folder.
 */

import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { buildCrossKvGraph, buildStepGraph, type BartShape } from "./bart-decoder-graph.js";
import { findBartDecoderWeights } from "./bart-weights.js";
import { loadOnnxModel, OnnxFormatError, serializeModel, type WeightSource } from "./onnx-proto.js";

/** Bump whenever the emitted graphs change: old compilations are then ignored and rebuilt. */
export const BART_COMPILER_VERSION = 1;

export interface CompiledBartDecoder {
  readonly step: string;
  readonly crossKv: string;
  readonly shape: BartShape;
  /** True when this call compiled; false when an earlier compilation was reused. */
  readonly compiled: boolean;
}

export interface CompileBartOptions {
  /** Parsed config.json of the model. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Where to put the graphs when the source's folder is read-only. */
  readonly fallbackDir?: string;
  /** Told once before a compilation starts (not when one is reused). */
  readonly onCompile?: (source: string) => void;
}

interface Manifest {
  compilerVersion: number;
  source: { file: string; size: number; mtimeMs: number; sha256: string };
  shape: BartShape;
}

export class BartCompileError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BartCompileError";
  }
}

export function bartShapeFromConfig(config: Readonly<Record<string, unknown>>): BartShape {
  const number = (key: string): number => {
    const value = config[key];
    if (typeof value !== "number") throw new BartCompileError(`config.json has no numeric ${key}`);
    return value;
  };
  if (config["model_type"] !== undefined && config["model_type"] !== "bart") {
    throw new BartCompileError(`model_type ${String(config["model_type"])} is not bart`);
  }
  // The compiled graph is BART's post-norm layout with erf GELU; anything else keeps the published graph.
  if (config["normalize_before"] === true) throw new BartCompileError("normalize_before=true (pre-norm BART) is not compiled");
  if (config["add_final_layer_norm"] === true) throw new BartCompileError("add_final_layer_norm=true is not compiled");
  const activation = config["activation_function"] ?? "gelu";
  if (activation !== "gelu") throw new BartCompileError(`activation_function ${String(activation)} is not compiled (gelu only)`);
  const dModel = number("d_model");
  const heads = number("decoder_attention_heads");
  if (dModel % heads !== 0) throw new BartCompileError("d_model is not divisible by decoder_attention_heads");
  return {
    dModel,
    heads,
    layers: number("decoder_layers"),
    vocab: number("vocab_size"),
    embedScale: config["scale_embedding"] === true ? Math.sqrt(dModel) : 1,
    layerNormEpsilon: 1e-5,
  };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function canWrite(dir: string): boolean {
  const probe = join(dir, `.news-moe-write-test-${process.pid}`);
  try {
    writeFileSync(probe, "");
    unlinkSync(probe);
    return true;
  } catch {
    return false;
  }
}

function readManifest(path: string): Manifest | null {
  try {
    const manifest = JSON.parse(readFileSync(path, "utf8")) as Manifest;
    return manifest.compilerVersion === BART_COMPILER_VERSION ? manifest : null;
  } catch {
    return null;
  }
}

function writeAtomically(path: string, data: Uint8Array | string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, path);
}

/** Compiles `sourceDecoder` (or reuses an earlier compilation of the same bytes). */
export async function compileBartDecoder(sourceDecoder: string, options: CompileBartOptions): Promise<CompiledBartDecoder> {
  const source = resolve(sourceDecoder);
  const shape = bartShapeFromConfig(options.config);
  const sourceDir = dirname(source);
  const outDir = canWrite(sourceDir) ? sourceDir : options.fallbackDir;
  if (!outDir) throw new BartCompileError(`${sourceDir} is not writable and no other folder was given for the compiled decoder`);
  mkdirSync(outDir, { recursive: true });
  const stem = join(outDir, `${basename(source, ".onnx")}.news-moe-c${BART_COMPILER_VERSION}`);
  const files = { step: `${stem}.step.onnx`, crossKv: `${stem}.cross.onnx`, manifest: `${stem}.json` };

  const stat = statSync(source);
  const manifest = readManifest(files.manifest);
  const graphsExist = existsSync(files.step) && existsSync(files.crossKv);
  if (manifest && graphsExist && manifest.source.size === stat.size) {
    if (manifest.source.mtimeMs === stat.mtimeMs) return { step: files.step, crossKv: files.crossKv, shape: manifest.shape, compiled: false };
    if (manifest.source.sha256 === (await sha256Of(source))) {
      writeAtomically(files.manifest, JSON.stringify({ ...manifest, source: { ...manifest.source, mtimeMs: stat.mtimeMs } }, null, 2));
      return { step: files.step, crossKv: files.crossKv, shape: manifest.shape, compiled: false };
    }
  }

  options.onCompile?.(source);
  const loaded = loadOnnxModel(source);
  const weights = findBartDecoderWeights(loaded, shape.layers);
  const linkedSources = new Map<string, string>();
  const locate = (weight: WeightSource): string => {
    if (weight.inline) return "";
    const file = resolve(weight.file);
    if (dirname(file) === outDir) return basename(file);
    // Read-only model folder: link the source file beside the compiled graphs.
    let name = linkedSources.get(file);
    if (!name) {
      name = `${basename(stem)}.source.${linkedSources.size}.${basename(file)}`;
      const link = join(outDir, name);
      if (existsSync(link)) unlinkSync(link);
      symlinkSync(file, link);
      linkedSources.set(file, name);
    }
    return name;
  };
  let step: Uint8Array;
  let crossKv: Uint8Array;
  try {
    step = serializeModel(buildStepGraph(weights, shape, locate));
    crossKv = serializeModel(buildCrossKvGraph(weights, shape, locate));
  } catch (error) {
    if (error instanceof OnnxFormatError) throw new BartCompileError(error.message, { cause: error });
    throw error;
  }
  for (const weight of [weights.embedTokens.weight, weights.layers[0]!.fc1.matrix.weight]) {
    if (weight.dims.length !== 2) throw new BartCompileError(`${source}: ${weight.name} is not a matrix`);
  }
  writeAtomically(files.step, step);
  writeAtomically(files.crossKv, crossKv);
  const record: Manifest = {
    compilerVersion: BART_COMPILER_VERSION,
    source: { file: basename(source), size: stat.size, mtimeMs: stat.mtimeMs, sha256: await sha256Of(source) },
    shape,
  };
  writeAtomically(files.manifest, JSON.stringify(record, null, 2));
  return { step: files.step, crossKv: files.crossKv, shape, compiled: true };
}
