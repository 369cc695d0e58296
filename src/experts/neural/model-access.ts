/**
 * How the neural experts get their models: through the model store, with every way of failing
 * turned into ExpertUnavailableError (so the router falls back to the embedded experts), and a
 * probe that never downloads.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { onnxRuntimeMissing } from "../../runtime/onnx/runtime-presence.js";
import { type Availability, ExpertUnavailableError, type LoadContext } from "../../core/expert.js";
import { defaultHubCacheDir, offlineEnvVar } from "../../models/hub-env.js";
import { InvalidModelSpecError, parseModelSpec } from "../../models/model-spec.js";
import type { ModelFiles } from "../../models/model-files.js";
import {
  type ModelKind,
  ModelNotAvailableError,
  type ResolvedModel,
  resolveModel,
} from "../../models/model-store.js";
import type { NeuralModelOptions } from "./options.js";

function isOffline(options: NeuralModelOptions): boolean {
  return options.offline || offlineEnvVar() !== undefined;
}

function storeOptions(options: NeuralModelOptions, kind: ModelKind) {
  return {
    kind,
    dtype: options.dtype,
    offline: options.offline,
    ...(options.offlineLabel !== undefined ? { offlineLabel: options.offlineLabel } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
  };
}

/**
 * Resolves (and if allowed downloads) the model, reporting download progress and the store's
 * warnings through the load context; any failure becomes ExpertUnavailableError, with the typed
 * error (ModelNotAvailableError and its data) as its cause. An abort is rethrown as it is.
 */
export async function resolveExpertModel(
  expert: string,
  spec: string,
  kind: ModelKind,
  options: NeuralModelOptions,
  context: LoadContext = {},
): Promise<ResolvedModel> {
  const noRuntime = onnxRuntimeMissing();
  if (noRuntime) throw new ExpertUnavailableError(expert, noRuntime);
  try {
    return await resolveModel(spec, {
      ...storeOptions(options, kind),
      ...(context.signal ? { signal: context.signal } : {}),
      ...(context.warn ? { warn: (message: string) => context.warn?.(message) } : {}),
      ...(context.progress
        ? { onProgress: (p) => context.progress?.({ source: p.repoId, file: p.file, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, status: p.status }) }
        : {}),
    });
  } catch (error) {
    if (context.signal?.aborted) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ExpertUnavailableError(expert, reason, { cause: error });
  }
}

/**
 * Can `load()` succeed? Looks on disk and in the cache only. A hub model that is not cached counts
 * as available when the network may be used: `load()` will download it.
 */
export async function probeExpertModel(
  spec: string,
  kind: ModelKind,
  options: NeuralModelOptions,
): Promise<Availability> {
  const noRuntime = onnxRuntimeMissing();
  if (noRuntime) return { available: false, reason: noRuntime };
  try {
    // Offline by the user's choice: the store's message then names that switch. Otherwise offline
    // only for this look, so a miss is not blamed on a switch the user never set.
    await resolveModel(spec, {
      ...storeOptions(options, kind),
      // Offline by the environment only: leave the store to read it, so it names that variable.
      offline: options.offline || offlineEnvVar() === undefined,
      ...(isOffline(options) ? {} : { offlineReason: "checking availability never downloads" }),
    });
    return { available: true };
  } catch (error) {
    if (!(error instanceof ModelNotAvailableError)) {
      return { available: false, reason: error instanceof Error ? error.message : String(error) };
    }
    if (!isOffline(options) && isHubSpec(spec)) return { available: true, downloadable: true };
    return { available: false, reason: error.message };
  }
}

function isHubSpec(spec: string): boolean {
  try {
    return parseModelSpec(spec).type === "hub";
  } catch (error) {
    if (error instanceof InvalidModelSpecError) return false;
    throw error;
  }
}

/** Reads a model JSON file; errors name the file. */
export async function readModelJson(path: string): Promise<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${path} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** Runs `fn` (the heavy part of `load()`); a failure there makes the expert unavailable, not the run fail. */
export async function asUnavailable<T>(expert: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ExpertUnavailableError) throw error;
    throw new ExpertUnavailableError(expert, `${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Resolves an expert's model (downloading it when allowed) and opens it with `open`: a model that
 * cannot be had, or that `open` fails on, makes the expert unavailable, naming the model and folder.
 */
export async function openExpertModel<K extends ModelKind, T>(
  expert: string,
  spec: string,
  kind: K,
  options: NeuralModelOptions,
  context: LoadContext,
  open: (files: Extract<ModelFiles, { kind: K }>) => Promise<T>,
): Promise<T> {
  const resolved = await resolveExpertModel(expert, spec, kind, options, context);
  const files = resolved.files;
  if (files.kind !== kind) throw new Error(`model store returned a ${files.kind} model, not a ${kind} one`);
  return asUnavailable(expert, `cannot load ${spec} from ${resolved.dir}`, () => open(files as Extract<ModelFiles, { kind: K }>));
}

/** Where graphs compiled from read-only model folders go (both neural experts' models): under the model cache. */
export function compiledCacheDir(cacheDir?: string): string {
  return join(cacheDir ?? defaultHubCacheDir(), ".news-moe", "compiled");
}

/**
 * A neural expert's loaded model: loaded once, on first use, and shared by every caller meanwhile.
 * A failed load is forgotten, so a later call may succeed (files pulled meanwhile); `release`
 * disposes what was loaded and forgets it, so the expert may load again.
 */
export class LoadOnce<T> {
  #loading: Promise<T> | undefined;

  constructor(
    private readonly load: (context: LoadContext) => Promise<T>,
    private readonly dispose: (loaded: T) => Promise<void>,
  ) {}

  get(context: LoadContext = {}): Promise<T> {
    this.#loading ??= this.load(context).catch((error: unknown) => {
      this.#loading = undefined;
      throw error;
    });
    return this.#loading;
  }

  async release(): Promise<void> {
    const loading = this.#loading;
    this.#loading = undefined;
    if (loading) await loading.then((loaded) => this.dispose(loaded), () => undefined);
  }
}
