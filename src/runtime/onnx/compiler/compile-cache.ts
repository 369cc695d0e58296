/**
 * Where compiled graphs live and when they are reused, for every graph the compiler emits.
 *
 * Compiled graphs hold no weights of their own: every initializer is an external-data reference into
 * the source file, so a compilation is small and is kept beside its source:
 *
 *   SOURCE.news-moe-<tag>.<part>.onnx   one file per emitted graph
 *   SOURCE.news-moe-<tag>.json          manifest: the tag, source size, mtime and SHA-256, and what the
 *                                       runtime needs to know about the graphs (`details`)
 *
 * The tag names the compiler and its version (`c1`: decoder, version 1), so a new compiler version
 * rebuilds and old compilations are ignored. A manifest that matches the source (same size and mtime,
 * or the same SHA-256 after a touch) means the graphs are reused, from the source's folder or
 * `fallbackDir`, whether or not either can be written now. A new compilation goes beside the source,
 * or to `fallbackDir` when the source's folder cannot be written (a read-only model directory).
 *
 * ONNX Runtime refuses external data whose path, symbolic links resolved, leaves the graph's folder
 * ("External data path escapes model directory"). The Hugging Face cache keeps every file of a
 * snapshot as a symbolic link into the repo's `blobs/`, so a graph that named the source file as it
 * sits in the snapshot could not be loaded, and everyone who downloaded the models ran the slower
 * published graphs. So the graphs are written to, and loaded from, their folder's real path, and a
 * weight file whose real path is elsewhere gets a hard link beside them (a copy where no hard link
 * can be made: another file system).
 */

import { createHash } from "node:crypto";
import { constants, copyFileSync, createReadStream, existsSync, linkSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { OnnxFormatError, type WeightSource } from "./onnx-proto.js";

/** Where graphs compiled from a read-only `source` go: a folder per source path under the cache root. */
export function compiledFolderFor(source: string, cacheRoot: string | undefined): string | undefined {
  return cacheRoot ? join(cacheRoot, createHash("sha256").update(resolve(source)).digest("hex").slice(0, 16)) : undefined;
}

export interface CompileTarget<D> {
  readonly source: string;
  /** Compiler and version, e.g. "c1"; part of every file name. */
  readonly tag: string;
  /** Graph names, e.g. ["step", "cross"]. */
  readonly parts: readonly string[];
  /** Where to put the graphs when the source's folder is read-only. */
  readonly fallbackDir?: string;
  /** Told once before a compilation starts (not when one is reused). */
  readonly onCompile?: (source: string) => void;
  /**
   * What the compilation depends on besides the source's bytes (the model's config, say), as a string:
   * an earlier compilation or refusal under other settings is not reused.
   */
  readonly settings?: string;
  /**
   * Emits the graphs; `locate` turns a weight into the external-data location the graphs must name.
   * Returns each part's serialized model and the details to keep in the manifest.
   */
  readonly build: (locate: (weight: WeightSource) => string) => { graphs: Readonly<Record<string, Uint8Array>>; details: D };
}

export interface CompileOutcome<D> {
  /** Path of each part's graph. */
  readonly paths: Readonly<Record<string, string>>;
  readonly details: D;
  /** True when this call compiled; false when an earlier compilation was reused. */
  readonly compiled: boolean;
}

/**
 * How compiled graphs refer to their weights. 2: inside the graph's real folder (hard links, no
 * symbolic links); compilations of an earlier layout are compiled again.
 */
const WEIGHT_LINKS = 2;

interface Manifest<D> {
  tag: string;
  /** `WEIGHT_LINKS` of the compilation. */
  weightLinks?: number;
  source: { file: string; size: number; mtimeMs: number; sha256: string };
  details: D;
  /** Set when the compiler turned this source down: the reason, given again without re-reading the source. */
  refused?: string;
  settings?: string;
}

/**
 * A compiler's definitive "this source is not for me" (an unsupported layout), as opposed to a failure
 * to read or write: remembered in the manifest, so the next load does not parse the source again.
 */
export class CompileRefusal extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CompileRefusal";
  }
}

/**
 * Weights found by role in a published graph (`find` parses it), or a CompileRefusal: a graph in
 * another layout stays in that layout, and the refusal is remembered, so the next load does not parse
 * it again.
 */
export function findOrRefuse<T>(find: () => T): T {
  try {
    return find();
  } catch (error) {
    if (error instanceof OnnxFormatError) throw new CompileRefusal(error.message, { cause: error });
    throw error;
  }
}

export class CompileFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CompileFolderError";
  }
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

function readManifest<D>(path: string, tag: string, settings: string | undefined): Manifest<D> | null {
  try {
    const manifest = JSON.parse(readFileSync(path, "utf8")) as Manifest<D>;
    return manifest.tag === tag && manifest.settings === settings && manifest.weightLinks === WEIGHT_LINKS ? manifest : null;
  } catch {
    return null;
  }
}

function settingsOf(target: CompileTarget<unknown>): { settings?: string; weightLinks: number } {
  return { ...(target.settings !== undefined ? { settings: target.settings } : {}), weightLinks: WEIGHT_LINKS };
}

/**
 * Puts the file `real` (a real path) at `at` without a symbolic link: a hard link, else a copy made
 * aside and renamed into place, so that an interrupted copy is never taken for the weights.
 */
function placeWeightFile(real: string, at: string): void {
  if (existsSync(at)) unlinkSync(at);
  try {
    linkSync(real, at);
  } catch {
    const temporary = `${at}.${process.pid}.tmp`;
    copyFileSync(real, temporary, constants.COPYFILE_FICLONE);
    renameSync(temporary, at);
  }
}

function writeAtomically(path: string, data: Uint8Array | string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, path);
}

/**
 * The compilation of `source` kept at `stem` (`<folder>/<name>.news-moe-<tag>`), if it is one of the
 * same bytes by the same compiler (a refusal is thrown again), else null.
 */
async function earlierCompilation<D>(target: CompileTarget<D>, stem: string, source: string, stat: Stats): Promise<CompileOutcome<D> | null> {
  const paths = Object.fromEntries(target.parts.map((part) => [part, `${stem}.${part}.onnx`]));
  const manifestPath = `${stem}.json`;
  const manifest = readManifest<D>(manifestPath, target.tag, target.settings);
  const graphsExist = Object.values(paths).every((path) => existsSync(path));
  if (!manifest || !(graphsExist || manifest.refused !== undefined) || manifest.source.size !== stat.size) return null;
  const reuse = (): CompileOutcome<D> => {
    if (manifest.refused !== undefined) throw new CompileRefusal(manifest.refused);
    return { paths, details: manifest.details, compiled: false };
  };
  if (manifest.source.mtimeMs === stat.mtimeMs) return reuse();
  if (manifest.source.sha256 !== (await sha256Of(source))) return null;
  try {
    writeAtomically(manifestPath, JSON.stringify({ ...manifest, source: { ...manifest.source, mtimeMs: stat.mtimeMs } }, null, 2));
  } catch {
    // A folder that cannot be written: the hash is checked again next time.
  }
  return reuse();
}

/** Compiles `target.source` (or reuses an earlier compilation of the same bytes by the same compiler). */
export async function compileCached<D>(target: CompileTarget<D>): Promise<CompileOutcome<D>> {
  const source = resolve(target.source);
  const sourceDir = dirname(source);
  const stat = statSync(source);
  const stemIn = (dir: string) => join(dir, `${basename(source, ".onnx")}.news-moe-${target.tag}`);
  // An earlier compilation is used wherever it is, the model's own folder first, even where nothing
  // can be written now: models pulled (and so compiled) when an image was built, run on a read-only
  // file system.
  for (const dir of [sourceDir, target.fallbackDir]) {
    if (!dir || !existsSync(dir)) continue;
    const found = await earlierCompilation(target, stemIn(realpathSync(dir)), source, stat);
    if (found) return found;
  }

  const chosenDir = canWrite(sourceDir) ? sourceDir : target.fallbackDir;
  if (!chosenDir) throw new CompileFolderError(`${sourceDir} is not writable and no other folder was given for compiled graphs`);
  try {
    mkdirSync(chosenDir, { recursive: true });
    if (!canWrite(chosenDir)) throw Object.assign(new Error("not writable"), { code: "EACCES" });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "not writable";
    throw new CompileFolderError(
      `neither ${sourceDir} nor ${chosenDir} can be written (${code}); compiling takes a writable folder once: ` +
        "run `news-moe models pull` where the model cache can be written (it compiles at once)",
    );
  }
  // The real path: ONNX Runtime compares weight paths, links resolved, with the graph's folder.
  const outDir = realpathSync(chosenDir);
  const stem = stemIn(outDir);
  const paths = Object.fromEntries(target.parts.map((part) => [part, `${stem}.${part}.onnx`]));
  const manifestPath = `${stem}.json`;

  target.onCompile?.(source);
  const linkedSources = new Map<string, string>();
  const locate = (weight: WeightSource): string => {
    if (weight.inline) return "";
    const file = realpathSync(weight.file);
    if (dirname(file) === outDir) return basename(file);
    // A snapshot's link into the hub cache's blobs, or a read-only model folder: the weights beside the graphs.
    let name = linkedSources.get(file);
    if (!name) {
      name = `${basename(stem)}.source.${linkedSources.size}.${basename(weight.file)}`;
      placeWeightFile(file, join(outDir, name));
      linkedSources.set(file, name);
    }
    return name;
  };
  const sourceRecord = async () => ({ file: basename(source), size: stat.size, mtimeMs: stat.mtimeMs, sha256: await sha256Of(source) });
  let built: ReturnType<CompileTarget<D>["build"]>;
  try {
    built = target.build(locate);
  } catch (error) {
    if (error instanceof CompileRefusal) {
      const refusal: Manifest<null> = { tag: target.tag, source: await sourceRecord(), details: null, refused: error.message, ...settingsOf(target) };
      writeAtomically(manifestPath, JSON.stringify(refusal, null, 2));
    }
    throw error;
  }
  const { graphs, details } = built;
  for (const part of target.parts) {
    const graph = graphs[part];
    if (!graph) throw new Error(`compiler emitted no ${part} graph`);
    writeAtomically(paths[part]!, graph);
  }
  const record: Manifest<D> = {
    tag: target.tag,
    source: await sourceRecord(),
    details,
    ...settingsOf(target),
  };
  writeAtomically(manifestPath, JSON.stringify(record, null, 2));
  return { paths, details, compiled: true };
}
