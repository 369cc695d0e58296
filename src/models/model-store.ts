import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { HubCacheRepo, transformersJsModelDir } from "./hub-cache.js";
import {
  type DownloadProgress,
  downloadFileToCache,
  fetchFileMetadata,
  HubError,
  type HubRequestOptions,
} from "./hub-download.js";
import { defaultHubCacheDir, hubEndpoint, offlineEnvVar } from "./hub-env.js";
import { ModelNotAvailableError } from "./model-errors.js";
import {
  inferModelKind,
  inspectModelDir,
  type ModelDirInspection,
  type ModelDtype,
  type ModelFiles,
  type ModelKind,
  modelFilePlan,
  planPaths,
} from "./model-files.js";
import { InvalidModelSpecError, isCommitHash, parseModelSpec } from "./model-spec.js";

export { ModelNotAvailableError } from "./model-errors.js";
export type { DownloadProgress } from "./hub-download.js";
export type { ModelDtype, ModelFiles, ModelKind, ClassifierModelFiles, Seq2SeqModelFiles } from "./model-files.js";

/**
 * Turns a model spec (a directory, or a hub id with an optional `@revision`) into a directory of
 * model files, from disk, from the hub cache, or by downloading into that cache.
 *
 * Network policy, in order:
 *  - offline (`offline: true`, `HF_HUB_OFFLINE=1` or `TRANSFORMERS_OFFLINE=1`): never a request;
 *    the cache has it or the call fails with ModelNotAvailableError.
 *  - a revision that is a full commit hash, cached complete: no request (commits never change).
 *  - a branch or tag (`main`), cached: one HEAD on config.json to learn the commit it points at
 *    now. Same commit: use the cache. New commit: fetch it (unchanged files are re-linked from
 *    their blobs, not re-downloaded). Hub unreachable or refusing: use the cache, with a warning.
 *  - a transformers.js cache hit: used as is; that layout records no commit to check against.
 *  - not cached: download, or fail with ModelNotAvailableError.
 */

export const DEFAULT_SUMMARIZER_MODEL = "Xenova/distilbart-cnn-6-6";
export const DEFAULT_SENTIMENT_MODEL = "Xenova/distilbert-base-uncased-finetuned-sst-2-english";

export type ModelSource = "local" | "cache" | "download";

export interface ResolvedModel {
  spec: string;
  source: ModelSource;
  /** Absolute directory holding the files (a snapshot dir for hub models). */
  dir: string;
  files: ModelFiles;
  /** Hub models: the revision asked for (`main` unless `@revision` was given). */
  revision?: string;
  /** Hub models in the hub layout: the commit the files come from. */
  commit?: string;
}

export interface ResolveModelOptions {
  /** `auto` reads config.json to tell (encoder-decoder → seq2seq, id2label → classifier). */
  kind: ModelKind | "auto";
  dtype: ModelDtype;
  /** No network at all. Also on when HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE is truthy. */
  offline?: boolean;
  /**
   * Why `offline` is set when it is the caller's rule rather than the user's switch, for the
   * error message ("`news-moe models path` never downloads"); without it the message blames
   * the offline switch (see `offlineLabel`) and tells how to turn it off.
   */
  offlineReason?: string;
  /** How the caller's front end names the switch behind `offline` ("--offline"); default "offline option". */
  offlineLabel?: string;
  /**
   * Cache root instead of `$HF_HUB_CACHE` / `$HF_HOME/hub` / `~/.cache/huggingface/hub`. Downloads
   * go there in the hub layout; models already there in the transformers.js layout
   * (`{cacheDir}/{owner}/{name}/...`) are read too, so an existing transformers.js cache can be used.
   */
  cacheDir?: string;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Endpoint, token, timeouts and retries for the hub; defaults come from the environment. */
  hub?: Omit<HubRequestOptions, "signal" | "onProgress">;
  /** Things worth telling the user that are not failures (stale cache used, ...). */
  warn?: (message: string) => void;
  /** Base for relative directory specs. */
  cwd?: string;
}

export async function resolveModel(spec: string, options: ResolveModelOptions): Promise<ResolvedModel> {
  let parsed;
  try {
    parsed = parseModelSpec(spec, options.cwd);
  } catch (error) {
    if (!(error instanceof InvalidModelSpecError)) throw error;
    throw new ModelNotAvailableError({
      spec,
      kind: options.kind,
      dtype: options.dtype,
      reason: error.message.replace(/^"[^"]*" is not a model: /, "it is not a model name: "),
      lookedIn: [join(options.cwd ?? process.cwd(), spec)],
    });
  }
  if (parsed.type === "local") return resolveLocal(spec, parsed.path, options);
  return resolveFromHub(spec, parsed.repoId, parsed.revision, options);
}

interface KindedInspection {
  kind?: ModelKind;
  inspection?: ModelDirInspection;
  /** Why the kind could not be settled, when it could not. */
  problem?: string;
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, "utf8")) as unknown;
}

/** Inspects `dir` for `kind`, reading config.json first when the kind is `auto`. */
async function inspectFor(dir: string, kind: ModelKind | "auto", dtype: ModelDtype): Promise<KindedInspection> {
  if (kind !== "auto") return { kind, inspection: await inspectModelDir(dir, modelFilePlan(kind, dtype)) };
  let config: unknown;
  try {
    config = await readJson(join(dir, "config.json"));
  } catch (error) {
    const absent = (error as NodeJS.ErrnoException).code === "ENOENT";
    return { problem: absent ? "config.json is missing" : `config.json is unreadable (${(error as Error).message})` };
  }
  const inferred = inferModelKind(config);
  if (!inferred) {
    return { problem: "config.json does not say whether it is a seq2seq (summariser) or a classifier model" };
  }
  return { kind: inferred, inspection: await inspectModelDir(dir, modelFilePlan(inferred, dtype)) };
}

/** Everything a plan wants, as words for an error, when nothing at all was found. */
function wholePlan(kind: ModelKind | "auto", dtype: ModelDtype): string[] {
  if (kind === "auto") {
    return ["config.json", "tokenizer.json", "tokenizer_config.json", "the onnx/ graphs (which ones depends on config.json)"];
  }
  const plan = modelFilePlan(kind, dtype);
  return [...plan.required];
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}

async function resolveLocal(spec: string, dir: string, options: ResolveModelOptions): Promise<ResolvedModel> {
  const base = { spec, kind: options.kind, dtype: options.dtype, lookedIn: [dir] };
  if (!(await isDirectory(dir))) {
    throw new ModelNotAvailableError({ ...base, reason: "that directory does not exist" });
  }
  const { inspection, problem } = await inspectFor(dir, options.kind, options.dtype);
  if (!inspection?.files) {
    throw new ModelNotAvailableError({
      ...base,
      reason: problem ?? "the directory lacks files the model needs",
      missing: inspection?.missing ?? (problem?.startsWith("config.json is missing") ? ["config.json"] : []),
    });
  }
  return { spec, source: "local", dir: inspection.dir, files: inspection.files };
}

interface CacheHit {
  dir: string;
  files: ModelFiles;
  layout: "hub" | "transformers.js";
  commit?: string;
  /** Optional files the cache cannot vouch for: neither present nor known to be absent upstream. */
  undetermined: string[];
}

interface CacheLookup {
  hit?: CacheHit;
  lookedIn: string[];
  missing: string[];
  commit?: string;
  problem?: string;
}

async function lookupCache(
  repo: HubCacheRepo,
  revision: string,
  options: ResolveModelOptions,
): Promise<CacheLookup> {
  const lookedIn: string[] = [];
  const lookup: CacheLookup = { lookedIn, missing: [] };
  const commit = await repo.commitFor(revision);
  if (!isCommitHash(revision)) {
    lookedIn.push(`${repo.refPath(revision)}${commit ? ` (→ ${commit})` : " (no such ref)"}`);
  }
  if (commit) {
    lookup.commit = commit;
    const dir = repo.snapshotDir(commit);
    if (await isDirectory(dir)) {
      const { inspection, problem } = await inspectFor(dir, options.kind, options.dtype);
      if (inspection?.files) {
        const undetermined: string[] = [];
        for (const path of planPaths(inspection.plan)) {
          if (!inspection.present.has(path) && !(await repo.isMarkedMissing(commit, path))) undetermined.push(path);
        }
        lookedIn.push(dir);
        lookup.hit = { dir: inspection.dir, files: inspection.files, layout: "hub", commit, undetermined };
        return lookup;
      }
      lookedIn.push(`${dir} (incomplete)`);
      lookup.missing = inspection?.missing ?? [];
      if (problem) lookup.problem = problem;
    } else {
      lookedIn.push(`${dir} (absent)`);
    }
  }
  if (options.cacheDir) {
    const dir = transformersJsModelDir(options.cacheDir, repo.repoId, revision);
    if (await isDirectory(dir)) {
      const { inspection } = await inspectFor(dir, options.kind, options.dtype);
      if (inspection?.files) {
        lookedIn.push(dir);
        lookup.hit = { dir: inspection.dir, files: inspection.files, layout: "transformers.js", undetermined: [] };
        return lookup;
      }
      lookedIn.push(`${dir} (transformers.js layout, incomplete)`);
      if (lookup.missing.length === 0) lookup.missing = inspection?.missing ?? [];
    } else {
      lookedIn.push(`${dir} (transformers.js layout, absent)`);
    }
  }
  if (lookup.missing.length === 0) lookup.missing = wholePlan(options.kind, options.dtype);
  return lookup;
}

function fromHit(spec: string, revision: string, hit: CacheHit): ResolvedModel {
  return {
    spec,
    source: "cache",
    dir: hit.dir,
    files: hit.files,
    revision,
    ...(hit.commit ? { commit: hit.commit } : {}),
  };
}

function describeFailure(error: unknown): string {
  if (error instanceof HubError) return `the download failed: ${error.message}`;
  return `the download failed: ${(error as Error).message ?? String(error)}`;
}

async function resolveFromHub(
  spec: string,
  repoId: string,
  revision: string,
  options: ResolveModelOptions,
): Promise<ResolvedModel> {
  const cacheRoot = options.cacheDir ?? defaultHubCacheDir();
  const repo = new HubCacheRepo(cacheRoot, repoId);
  const lookup = await lookupCache(repo, revision, options);
  const { hit } = lookup;
  const envVar = offlineEnvVar();
  const offlineBecause = options.offline
    ? (options.offlineLabel ?? "offline option")
    : envVar
      ? `${envVar}=${process.env[envVar] ?? ""}`
      : undefined;
  const errorBase = { spec, kind: options.kind, dtype: options.dtype, hubId: repoId === spec ? spec : `${repoId}@${revision}` };

  if (offlineBecause) {
    if (hit) return fromHit(spec, revision, hit);
    // A caller-given reason (e.g. `models path`) is not a mode the user could switch off.
    const callerReason = options.offline ? options.offlineReason : undefined;
    throw new ModelNotAvailableError({
      ...errorBase,
      reason:
        lookup.problem ??
        (callerReason
          ? `it is not in the cache, and ${callerReason}`
          : `offline mode is on (${offlineBecause}) and the model is not in the cache`),
      missing: lookup.missing,
      lookedIn: lookup.lookedIn,
      ...(callerReason ? {} : { offlineBecause }),
    });
  }

  if (hit && (hit.layout === "transformers.js" || (isCommitHash(revision) && hit.undetermined.length === 0))) {
    return fromHit(spec, revision, hit);
  }

  const hubOptions: HubRequestOptions = {
    ...options.hub,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };

  let knownCommit: string | undefined;
  if (hit) {
    // Branch or tag: one HEAD tells whether it still points at the cached commit.
    try {
      const metadata = await fetchFileMetadata(repoId, revision, "config.json", hubOptions);
      if (metadata.commit === hit.commit && hit.undetermined.length === 0) return fromHit(spec, revision, hit);
      if (metadata.commit === hit.commit) knownCommit = hit.commit;
    } catch (error) {
      options.signal?.throwIfAborted();
      options.warn?.(
        `could not check ${repoId}@${revision} for updates (${(error as Error).message}); using the cached commit ${hit.commit}`,
      );
      return fromHit(spec, revision, hit);
    }
  }

  try {
    const downloaded = await downloadModel(spec, repo, revision, options, hubOptions, knownCommit);
    return {
      spec,
      source: downloaded.transferred ? "download" : "cache",
      dir: downloaded.dir,
      files: downloaded.files,
      revision,
      commit: downloaded.commit,
    };
  } catch (error) {
    options.signal?.throwIfAborted();
    if (hit) {
      options.warn?.(`could not update ${repoId}@${revision} (${(error as Error).message}); using the cached commit ${hit.commit}`);
      return fromHit(spec, revision, hit);
    }
    if (error instanceof ModelNotAvailableError) throw error;
    const url = error instanceof HubError ? error.url : `${options.hub?.endpoint ?? hubEndpoint()}/${repoId}`;
    throw new ModelNotAvailableError({
      ...errorBase,
      reason: describeFailure(error),
      missing: lookup.missing,
      lookedIn: [...lookup.lookedIn, url],
      cause: error,
    });
  }
}

interface DownloadedModel {
  commit: string;
  dir: string;
  files: ModelFiles;
  transferred: boolean;
}

/**
 * Fetches every file of the plan into the cache: config.json at `revision` first (it pins the
 * commit), then the rest at that commit, so a push during the pull cannot mix two versions.
 * Optional files and decoder alternatives the repo lacks are recorded in `.no_exist/`. The ref is
 * written last, once the snapshot is usable.
 */
async function downloadModel(
  spec: string,
  repo: HubCacheRepo,
  revision: string,
  options: ResolveModelOptions,
  hubOptions: HubRequestOptions,
  knownCommit: string | undefined,
): Promise<DownloadedModel> {
  let transferred = false;
  let commit = knownCommit;
  const present = async (path: string) => commit !== undefined && stat(repo.snapshotFile(commit, path)).then(() => true, () => false);
  const reportCached = (path: string) =>
    options.onProgress?.({ repoId: repo.repoId, file: path, bytesDone: 0, bytesTotal: undefined, status: "cached" });

  if (!(await present("config.json"))) {
    const config = await downloadFileToCache(repo, commit ?? revision, "config.json", hubOptions);
    commit = config.commit;
    transferred ||= config.transferred;
  } else {
    reportCached("config.json");
  }
  if (commit === undefined) throw new Error("unreachable: config.json download yields a commit");
  const pinned: string = commit;

  let kind: ModelKind;
  if (options.kind === "auto") {
    const inferred = inferModelKind(await readJson(repo.snapshotFile(pinned, "config.json")));
    if (!inferred) {
      throw new ModelNotAvailableError({
        spec,
        kind: "auto",
        dtype: options.dtype,
        hubId: repo.repoId,
        reason: "its config.json does not say whether it is a seq2seq (summariser) or a classifier model; pass the kind explicitly",
        lookedIn: [repo.snapshotFile(pinned, "config.json")],
      });
    }
    kind = inferred;
  } else {
    kind = options.kind;
  }

  const plan = modelFilePlan(kind, options.dtype);
  const requiredPaths = new Set(plan.required);
  for (const path of planPaths(plan)) {
    if (path === "config.json") continue;
    if (await present(path)) {
      reportCached(path);
      continue;
    }
    if (await repo.isMarkedMissing(pinned, path)) {
      options.onProgress?.({ repoId: repo.repoId, file: path, bytesDone: 0, bytesTotal: undefined, status: "absent" });
      continue;
    }
    try {
      const file = await downloadFileToCache(repo, pinned, path, hubOptions);
      transferred ||= file.transferred;
    } catch (error) {
      if (!(error instanceof HubError) || error.reason !== "not-found" || requiredPaths.has(path)) throw error;
      await repo.markMissing(pinned, path);
      options.onProgress?.({ repoId: repo.repoId, file: path, bytesDone: 0, bytesTotal: undefined, status: "absent" });
    }
  }

  const inspection = await inspectModelDir(repo.snapshotDir(pinned), plan);
  if (!inspection.files) {
    throw new ModelNotAvailableError({
      spec,
      kind,
      dtype: options.dtype,
      hubId: repo.repoId,
      reason: `the repository at commit ${pinned} does not have every file a ${kind} model needs in ${options.dtype}`,
      missing: inspection.missing,
      lookedIn: [inspection.dir],
    });
  }
  if (!isCommitHash(revision)) await repo.writeRef(revision, pinned);
  return { commit: pinned, dir: inspection.dir, files: inspection.files, transferred };
}
