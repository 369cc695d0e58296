import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { DEFAULT_REVISION, isCommitHash } from "./model-spec.js";

/**
 * The Hugging Face hub cache, laid out exactly as huggingface_hub lays it out so Python tools and
 * news-moe share downloads both ways:
 *
 *   {root}/models--{owner}--{name}/
 *     blobs/{etag}                  file contents, named by etag (sha256 for LFS files, git sha1 otherwise)
 *     snapshots/{commit}/{path}     relative symlink to ../../blobs/{etag} (a copy where symlinks fail)
 *     refs/{revision}               the commit hash a branch or tag pointed at when last fetched
 *     .no_exist/{commit}/{path}     empty marker: the hub said this file does not exist at that commit
 *
 * Also readable: a transformers.js file cache, which stores `{cacheDir}/{owner}/{name}/{path}`
 * (`{cacheDir}/{owner}/{name}/{revision}/{path}` for revisions other than main).
 */

/** Unique per call, so concurrent writers in one process never share a temporary file. */
function temporaryName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
}

export function repoFolderName(repoId: string): string {
  return ["models", ...repoId.split("/")].join("--");
}

/** Reverses `repoFolderName`; undefined for folders that are not model repos. */
export function repoIdFromFolderName(folder: string): string | undefined {
  if (!folder.startsWith("models--")) return undefined;
  const parts = folder.slice("models--".length).split("--");
  return parts.length >= 1 && parts.length <= 2 && parts.every((p) => p !== "") ? parts.join("/") : undefined;
}

function toFsPath(base: string, repoPath: string): string {
  return join(base, ...repoPath.split("/"));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export type LinkMethod = "symlink" | "copy";

export interface LinkOptions {
  /** Replaceable so the copy fallback can be exercised on systems where symlinks always work. */
  symlink?: (target: string, path: string) => Promise<void>;
}

/** One model repo's corner of the hub cache. */
export class HubCacheRepo {
  readonly dir: string;

  constructor(
    readonly root: string,
    readonly repoId: string,
  ) {
    this.dir = join(root, repoFolderName(repoId));
  }

  get blobsDir(): string {
    return join(this.dir, "blobs");
  }

  blobPath(etag: string): string {
    return join(this.blobsDir, etag);
  }

  incompletePath(etag: string): string {
    return `${this.blobPath(etag)}.incomplete`;
  }

  /** Next to huggingface_hub's own `.locks` folder; our lock files carry a distinct suffix. */
  lockPath(etag: string): string {
    return join(this.root, ".locks", repoFolderName(this.repoId), `${etag}.news-moe.lock`);
  }

  snapshotDir(commit: string): string {
    return join(this.dir, "snapshots", commit);
  }

  snapshotFile(commit: string, path: string): string {
    return toFsPath(this.snapshotDir(commit), path);
  }

  refPath(revision: string): string {
    return toFsPath(join(this.dir, "refs"), revision);
  }

  noExistPath(commit: string, path: string): string {
    return toFsPath(join(this.dir, ".no_exist", commit), path);
  }

  async readRef(revision: string): Promise<string | undefined> {
    try {
      const commit = (await readFile(this.refPath(revision), "utf8")).trim();
      return isCommitHash(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  /** Atomic, so a crash never leaves a half-written ref that points nowhere. */
  async writeRef(revision: string, commit: string): Promise<void> {
    const path = this.refPath(revision);
    await mkdir(dirname(path), { recursive: true });
    const temporary = temporaryName(path);
    await writeFile(temporary, commit);
    await rename(temporary, path);
  }

  /**
   * The commit a revision stands for in this cache: a commit hash is itself, a branch or tag goes
   * through `refs/`. Undefined when the cache has never fetched that revision.
   */
  async commitFor(revision: string): Promise<string | undefined> {
    if (isCommitHash(revision)) return revision;
    return this.readRef(revision);
  }

  async hasBlob(etag: string): Promise<boolean> {
    return exists(this.blobPath(etag));
  }

  /** Points `snapshots/{commit}/{path}` at the blob; copies where the filesystem refuses symlinks. */
  async linkSnapshotFile(commit: string, path: string, etag: string, options: LinkOptions = {}): Promise<LinkMethod> {
    const pointer = this.snapshotFile(commit, path);
    const blob = this.blobPath(etag);
    await mkdir(dirname(pointer), { recursive: true });
    const makeLink = options.symlink ?? ((target: string, at: string) => symlink(target, at));
    // Made aside and renamed over the pointer: atomic, so concurrent resolves never see a gap, and
    // a pointer left dangling by a cache cleaner is simply replaced.
    const temporary = temporaryName(pointer);
    try {
      // Relative, like huggingface_hub, so the cache survives being moved or mounted elsewhere.
      await makeLink(relative(dirname(pointer), blob), temporary);
      await rename(temporary, pointer);
      return "symlink";
    } catch {
      await rm(temporary, { force: true });
      await copyFile(blob, temporary, constants.COPYFILE_FICLONE);
      await rename(temporary, pointer);
      return "copy";
    }
  }

  async markMissing(commit: string, path: string): Promise<void> {
    const marker = this.noExistPath(commit, path);
    await mkdir(dirname(marker), { recursive: true });
    await writeFile(marker, "");
  }

  async isMarkedMissing(commit: string, path: string): Promise<boolean> {
    return exists(this.noExistPath(commit, path));
  }

  /** Drops a partial download that can no longer be trusted. */
  async discardIncomplete(etag: string): Promise<void> {
    await rm(this.incompletePath(etag), { force: true });
  }
}

/** Where a transformers.js file cache keeps a model's files for `revision`. */
export function transformersJsModelDir(cacheDir: string, repoId: string, revision: string = DEFAULT_REVISION): string {
  const modelDir = toFsPath(cacheDir, repoId);
  return revision === DEFAULT_REVISION ? modelDir : toFsPath(modelDir, revision);
}

export interface CachedFile {
  /** Repo-relative, `/`-separated. */
  path: string;
  size: number;
}

export interface CachedSnapshot {
  /** The commit for hub-layout snapshots; the revision name for transformers.js ones. */
  id: string;
  dir: string;
  /** Revisions (branches, tags) whose ref points at this snapshot. */
  refs: string[];
  files: CachedFile[];
  /** ONNX precision variants with at least one graph here: fp32, q8, fp16, q4, ... */
  dtypeVariants: string[];
}

export interface CachedModel {
  repoId: string;
  layout: "hub" | "transformers.js";
  /** The repo's storage folder (`models--owner--name`, or the transformers.js model dir). */
  dir: string;
  snapshots: CachedSnapshot[];
  /** Bytes on disk; blobs shared between snapshots count once. */
  sizeOnDisk: number;
}

async function listFilesRecursively(dir: string, prefix = ""): Promise<CachedFile[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: CachedFile[] = [];
  for (const entry of entries) {
    const repoPath = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    const fullPath = join(dir, entry.name);
    if (entry.isDirectory()) {
      files.push(...(await listFilesRecursively(fullPath, repoPath)));
      continue;
    }
    const info = await stat(fullPath).catch(() => undefined); // follows the snapshot symlink
    if (info?.isFile()) files.push({ path: repoPath, size: info.size });
  }
  // Code-point order: stable across locales, and `model.onnx` sorts before `model_quantized.onnx`.
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const DTYPE_SUFFIXES: Array<[suffix: string, dtype: string]> = [
  ["_quantized", "q8"],
  ["_fp16", "fp16"],
  ["_int8", "int8"],
  ["_uint8", "uint8"],
  ["_q4f16", "q4f16"],
  ["_q4", "q4"],
  ["_bnb4", "bnb4"],
];

/** Names the precision variants among a snapshot's ONNX graphs, in the transformers.js naming. */
export function onnxDtypeVariants(paths: readonly string[]): string[] {
  const found = new Set<string>();
  for (const path of paths) {
    const match = /^onnx\/(.+)\.onnx$/.exec(path);
    if (!match?.[1]) continue;
    const stem = match[1];
    found.add(DTYPE_SUFFIXES.find(([suffix]) => stem.endsWith(suffix))?.[1] ?? "fp32");
  }
  const order = ["fp32", ...DTYPE_SUFFIXES.map(([, dtype]) => dtype)];
  return [...found].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

async function listHubLayoutModel(root: string, folder: string, repoId: string): Promise<CachedModel> {
  const repo = new HubCacheRepo(root, repoId);
  const refsDir = join(repo.dir, "refs");
  const refFiles = await listFilesRecursively(refsDir);
  const refsByCommit = new Map<string, string[]>();
  for (const { path } of refFiles) {
    const commit = await repo.readRef(path);
    if (commit) refsByCommit.set(commit, [...(refsByCommit.get(commit) ?? []), path]);
  }
  const commits = (await readdir(join(repo.dir, "snapshots"), { withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  const snapshots: CachedSnapshot[] = [];
  for (const commit of commits.sort()) {
    const files = await listFilesRecursively(repo.snapshotDir(commit));
    snapshots.push({
      id: commit,
      dir: repo.snapshotDir(commit),
      refs: refsByCommit.get(commit) ?? [],
      files,
      dtypeVariants: onnxDtypeVariants(files.map((file) => file.path)),
    });
  }
  const blobs = await listFilesRecursively(repo.blobsDir);
  const sizeOnDisk = blobs.filter((blob) => !blob.path.endsWith(".incomplete")).reduce((sum, blob) => sum + blob.size, 0);
  return { repoId, layout: "hub", dir: join(root, folder), snapshots, sizeOnDisk };
}

async function isModelDir(dir: string): Promise<boolean> {
  return exists(join(dir, "config.json"));
}

async function listTransformersJsModel(cacheDir: string, repoId: string): Promise<CachedModel | undefined> {
  const modelDir = transformersJsModelDir(cacheDir, repoId);
  const snapshots: CachedSnapshot[] = [];
  const describe = async (id: string, dir: string): Promise<CachedSnapshot> => {
    // Revision subfolders belong to their own snapshot, not to main's file list.
    const files = (await listFilesRecursively(dir)).filter(
      (file) => file.path.startsWith("onnx/") || !file.path.includes("/"),
    );
    return { id, dir, refs: [id], files, dtypeVariants: onnxDtypeVariants(files.map((f) => f.path)) };
  };
  if (await isModelDir(modelDir)) snapshots.push(await describe(DEFAULT_REVISION, modelDir));
  for (const entry of await readdir(modelDir, { withFileTypes: true }).catch(() => [])) {
    const dir = join(modelDir, entry.name);
    if (entry.isDirectory() && entry.name !== "onnx" && (await isModelDir(dir))) {
      snapshots.push(await describe(entry.name, dir));
    }
  }
  if (snapshots.length === 0) return undefined;
  const sizeOnDisk = snapshots.flatMap((s) => s.files).reduce((sum, file) => sum + file.size, 0);
  return { repoId, layout: "transformers.js", dir: modelDir, snapshots, sizeOnDisk };
}

/**
 * Every model in a cache dir: hub-layout repos (`models--*`) and, when `includeTransformersJs`,
 * transformers.js-layout ones (`{owner}/{name}` holding a `config.json`).
 */
export async function listCachedModels(cacheDir: string, includeTransformersJs = false): Promise<CachedModel[]> {
  const entries = await readdir(cacheDir, { withFileTypes: true }).catch(() => []);
  const models: CachedModel[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const repoId = repoIdFromFolderName(entry.name);
    if (repoId) {
      models.push(await listHubLayoutModel(cacheDir, entry.name, repoId));
      continue;
    }
    if (!includeTransformersJs) continue;
    // `{name}` (a repo id without owner) when it holds a config.json, else `{owner}/{name}`.
    if (await isModelDir(join(cacheDir, entry.name))) {
      const single = await listTransformersJsModel(cacheDir, entry.name);
      if (single) models.push(single);
      continue;
    }
    for (const child of await readdir(join(cacheDir, entry.name), { withFileTypes: true }).catch(() => [])) {
      if (!child.isDirectory()) continue;
      const model = await listTransformersJsModel(cacheDir, `${entry.name}/${child.name}`);
      if (model) models.push(model);
    }
  }
  return models.sort((a, b) => a.repoId.localeCompare(b.repoId) || a.layout.localeCompare(b.layout));
}
