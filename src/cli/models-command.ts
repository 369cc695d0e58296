import cliProgress from "cli-progress";
import { type Command, Option } from "commander";
import { type CachedModel, listCachedModels } from "../models/hub-cache.js";
import { DEFAULT_TIMEOUT_MS, type DownloadProgress } from "../models/hub-download.js";
import { defaultHubCacheDir } from "../models/hub-env.js";
import { builtInCatalogue } from "../catalogue/catalogue.js";
import { MODEL_DTYPES, type ModelDtype, type ModelKind } from "../models/model-files.js";
import {
  ModelNotAvailableError,
  type ResolvedModel,
  resolveModel,
} from "../models/model-store.js";
import { UsageError } from "./exit-codes.js";
import { describeModelNotAvailable } from "./model-messages.js";
import { listenForStop } from "./stop-signal.js";
import type { CompiledGraph } from "../runtime/onnx/open-bart.js";
import { compiledCacheDir } from "../experts/neural/model-access.js";
import { readModelJson } from "../experts/neural/model-access.js";
import type { Seq2SeqModelFiles } from "../models/model-store.js";

/**
 * `news-moe models pull|list|path`: get the neural experts' models ahead of time (say, before a
 * run on a machine without network), see what the cache holds, and find a model's directory.
 * Exit status: 0 ok, 1 some model could not be had, 2 bad usage (commander's errors and
 * UsageError, mapped by main).
 */

export interface ModelsCommandIO {
  stdout?: NodeJS.WritableStream;
  /** Progress and errors. A TTY gets progress bars, anything else plain lines. */
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

const EXIT_MODEL_UNAVAILABLE = 1;
const EXIT_INTERRUPTED = 130;

type DtypeChoice = ModelDtype | "all";
type KindChoice = ModelKind | "auto";

interface CommonFlags {
  cacheDir?: string;
  offline?: boolean;
}

/** SI units, as the hub's web pages and huggingface_hub print sizes. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1000;
    unit++;
  } while (value >= 1000 && unit < units.length - 1);
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The models the built-in experts run unless told otherwise, from their catalogue entries. */
const DEFAULT_MODELS = builtInCatalogue()
  .experts()
  .flatMap((entry) => (entry.defaultModel ? [entry.defaultModel] : []));

/** The defaults' kinds are known, so `auto` need not wait for their config.json to say. */
function kindFor(spec: string, choice: KindChoice): KindChoice {
  if (choice !== "auto") return choice;
  const repoId = spec.split("@")[0];
  return DEFAULT_MODELS.find((model) => model.spec === repoId)?.kind ?? "auto";
}

function dtypesOf(choice: DtypeChoice): ModelDtype[] {
  return choice === "all" ? [...MODEL_DTYPES] : [choice];
}

function describeSource(model: ResolvedModel): string {
  if (model.source === "download") return "downloaded";
  if (model.source === "cache") return "already cached";
  return "local directory";
}

export interface ProgressView {
  onProgress(progress: DownloadProgress): void;
  stop(): void;
}

/** Bars on a TTY; elsewhere one line when a file starts and one when it is stored. */
export function createProgressView(stderr: NodeJS.WritableStream & { isTTY?: boolean }, plainIntervalMs = 10_000): ProgressView {
  if (stderr.isTTY) {
    const bars = new cliProgress.MultiBar(
      {
        stream: stderr as NodeJS.WriteStream,
        format: "{file} |{bar}| {percentage}% {done}/{size}",
        hideCursor: true,
        clearOnComplete: false,
        barsize: 24,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    const active = new Map<string, cliProgress.SingleBar>();
    return {
      onProgress(p) {
        const key = `${p.repoId}/${p.file}`;
        if (p.status === "cached" || p.status === "absent") return;
        const total = p.bytesTotal ?? Math.max(p.bytesDone, 1);
        // The repo id would push the bar off an 80-column terminal; the summary line names it.
        const payload = { file: p.file.padEnd(44), done: formatBytes(p.bytesDone), size: p.bytesTotal ? formatBytes(p.bytesTotal) : "?" };
        let bar = active.get(key);
        if (!bar) {
          bar = bars.create(total, p.bytesDone, payload);
          active.set(key, bar);
        }
        bar.setTotal(total);
        bar.update(p.bytesDone, payload);
        if (p.status === "done") bar.stop();
      },
      stop: () => bars.stop(),
    };
  }
  return plainProgressView((line) => stderr.write(`${line}\n`), plainIntervalMs);
}

/**
 * Downloads as lines for a log (no bars): one when a file starts, one now and then while it comes
 * (a big graph takes minutes), one when it is stored. `serve` and `worker` prefix them with their name.
 */
export function plainProgressView(writeLine: (line: string) => void, intervalMs = 10_000): ProgressView {
  const lastLine = new Map<string, number>();
  return {
    onProgress(p) {
      const key = `${p.repoId}/${p.file}`;
      const last = lastLine.get(key);
      if (p.status === "downloading" && last === undefined) {
        lastLine.set(key, Date.now());
        const size = p.bytesTotal === undefined ? "size unknown" : formatBytes(p.bytesTotal);
        const resumed = p.bytesDone > 0 ? `, resuming at ${formatBytes(p.bytesDone)}` : "";
        writeLine(`downloading ${key} (${size}${resumed})`);
      } else if (p.status === "downloading" && Date.now() - (last ?? 0) >= intervalMs) {
        lastLine.set(key, Date.now());
        const percent = p.bytesTotal ? ` ${Math.floor((100 * p.bytesDone) / p.bytesTotal)}%` : "";
        writeLine(`  ${key}:${percent} ${formatBytes(p.bytesDone)}${p.bytesTotal ? ` of ${formatBytes(p.bytesTotal)}` : ""}`);
      } else if (p.status === "done") {
        writeLine(`stored ${key} (${formatBytes(p.bytesDone)})`);
      }
    },
    stop: () => undefined,
  };
}

function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted && (error === signal.reason || (error as Error | undefined)?.name === "AbortError");
}

/** Aborts on SIGTERM or Ctrl-C while `fn` runs (a second signal exits at once); partial downloads stay on disk and resume next time. */
async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = listenForStop();
  try {
    return await fn(stop.signal);
  } finally {
    stop.close();
  }
}

function parseTimeout(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--timeout wants a positive number of seconds, not "${value}"`);
  }
  return Math.round(seconds * 1000);
}

export function registerModelsCommand(program: Command, io: ModelsCommandIO = {}): void {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const models = program
    .command("models")
    .description("download, list and locate the ONNX models of the neural experts (Hugging Face cache)");

  const cacheDirOption = () =>
    new Option(
      "--cache-dir <dir>",
      "hub cache to use instead of $HF_HUB_CACHE / $HF_HOME/hub; models there in the transformers.js layout ({dir}/{owner}/{name}) are read too",
    );
  const kindOption = () =>
    new Option("--kind <kind>", "model kind; auto reads config.json").choices(["auto", "seq2seq", "classifier"]).default("auto");

  models
    .command("pull")
    .description(`download models into the cache (default: ${DEFAULT_MODELS.map((m) => m.spec).join(" and ")})`)
    .argument("[spec...]", "hub ids, optionally @revision (branch, tag or commit)")
    // fp32 by default, like `analyze`: what `models pull` fetched is what an offline `analyze` looks for.
    .addOption(new Option("--dtype <dtype>", "precision of the ONNX graphs").choices(["q8", "fp32", "all"]).default("fp32"))
    .addOption(kindOption())
    .addOption(cacheDirOption())
    .option("--offline", "do not download; only check that the models are cached")
    .option("--timeout <seconds>", `give up on an unresponsive hub after this long (default: $HF_HUB_ETAG_TIMEOUT, else ${DEFAULT_TIMEOUT_MS / 1000})`)
    .action(async (specs: string[], _flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<CommonFlags & { dtype: DtypeChoice; kind: KindChoice; timeout?: string }>();
      const hub = flags.timeout === undefined ? {} : { timeoutMs: parseTimeout(flags.timeout) };
      const targets: Array<{ spec: string; kind: KindChoice }> =
        specs.length > 0 ? specs.map((spec) => ({ spec, kind: kindFor(spec, flags.kind) })) : [...DEFAULT_MODELS];
      const view = createProgressView(stderr);
      let failures = 0;
      await withInterrupt(async (signal) => {
        try {
          for (const target of targets) {
            for (const dtype of dtypesOf(flags.dtype)) {
              try {
                const model = await resolveModel(target.spec, {
                  kind: target.kind,
                  dtype,
                  ...(flags.offline ? { offline: true, offlineLabel: "--offline" } : {}),
                  ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
                  hub,
                  signal,
                  onProgress: (p) => view.onProgress(p),
                  warn: (message) => stderr.write(`warning: ${message}\n`),
                });
                stdout.write(`${target.spec} (${model.files.kind}, ${dtype}): ${describeSource(model)} ${model.dir}\n`);
                if (model.files.kind === "seq2seq") await reportCompilation(model.files, flags.cacheDir);
                else await reportClassifierCompilation(model.files.model, flags.cacheDir);
              } catch (error) {
                if (isAbort(error, signal)) throw error;
                if (!(error instanceof ModelNotAvailableError)) throw error;
                failures++;
                stderr.write(`${describeModelNotAvailable(error)}\n`);
              }
            }
          }
        } catch (error) {
          if (!isAbort(error, signal)) throw error;
          view.stop();
          stderr.write("interrupted: partial downloads are kept and resume on the next pull\n");
          process.exitCode = EXIT_INTERRUPTED;
          return;
        } finally {
          view.stop();
        }
        process.exitCode = failures > 0 ? EXIT_MODEL_UNAVAILABLE : 0;
      });
    });

  const COMPILING: Record<CompiledGraph, string> = {
    decoder: "compiling the decoder for beam search...\n",
    encoder: "compiling the encoder with fused attention...\n",
  };

  /** `pull` compiles the summariser's graphs right away, so the first `analyze` does not. */
  async function reportCompilation(files: Seq2SeqModelFiles, cacheDir: string | undefined): Promise<void> {
    try {
      // Imported on use: onnxruntime-node is optional (runtime/onnx/runtime-presence.ts).
      const { compileBart, compileEncoder } = await import("../runtime/onnx/open-bart.js");
      const options = { compiledCacheDir: compiledCacheDir(cacheDir), onCompile: (_: string, graph: CompiledGraph) => stderr.write(COMPILING[graph]) };
      const config = await readModelJson(files.config);
      const compiled = await compileBart({ ...files, config }, options);
      stdout.write(`  compiled decoder: ${compiled.step}\n`);
      // The encoder without its token table; when it does not compile, analyze runs the published one.
      const encoder = await compileEncoder({ ...files, config }, options);
      if (encoder) stdout.write(`  compiled encoder: ${encoder.graph}\n`);
    } catch (error) {
      stderr.write(`warning: the decoder was not compiled (analyze will run the published graph, slower): ${(error as Error).message.split("\n")[0]}\n`);
    }
  }

  /** Likewise the classifier without its token table; when it does not compile, analyze runs the published graph. */
  async function reportClassifierCompilation(graph: string, cacheDir: string | undefined): Promise<void> {
    const { compileClassifier } = await import("../runtime/onnx/sequence-classifier.js");
    // About a second, so no "compiling" line before it.
    const compiled = await compileClassifier(graph, { compiledCacheDir: compiledCacheDir(cacheDir) });
    if (compiled) stdout.write(`  compiled classifier: ${compiled.graph}\n`);
  }

  models
    .command("list")
    .description("list the models in the cache: revisions, commits, files, sizes, precisions")
    .addOption(cacheDirOption())
    .option("--json", "print JSON instead of text")
    .action(async (_flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<CommonFlags & { json?: boolean }>();
      const cacheDir = flags.cacheDir ?? defaultHubCacheDir();
      const cached = await listCachedModels(cacheDir, flags.cacheDir !== undefined);
      if (flags.json) {
        stdout.write(`${JSON.stringify({ cacheDir, models: cached }, null, 2)}\n`);
      } else {
        stdout.write(formatModelList(cacheDir, cached));
      }
      process.exitCode = 0;
    });

  models
    .command("path")
    .description("print the directory a model resolves to (never downloads); exit 1 if it is not there")
    .argument("<spec>", "hub id (optionally @revision) or directory")
    .addOption(new Option("--dtype <dtype>", "precision of the ONNX graphs").choices(["q8", "fp32"]).default("fp32"))
    .addOption(kindOption())
    .addOption(cacheDirOption())
    .action(async (spec: string, _flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<CommonFlags & { dtype: ModelDtype; kind: KindChoice }>();
      try {
        const model = await resolveModel(spec, {
          kind: kindFor(spec, flags.kind),
          dtype: flags.dtype,
          offline: true,
          offlineReason: "`news-moe models path` never downloads",
          ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
        });
        stdout.write(`${model.dir}\n`);
        process.exitCode = 0;
      } catch (error) {
        if (!(error instanceof ModelNotAvailableError)) throw error;
        stderr.write(`${describeModelNotAvailable(error)}\n`);
        process.exitCode = EXIT_MODEL_UNAVAILABLE;
      }
    });
}

function formatModelList(cacheDir: string, cached: readonly CachedModel[]): string {
  if (cached.length === 0) {
    return `No models in ${cacheDir}.\nGet the defaults with: news-moe models pull\n`;
  }
  const lines = [`Models in ${cacheDir}:`];
  for (const model of cached) {
    const layout = model.layout === "hub" ? "" : " [transformers.js layout]";
    lines.push("", `${model.repoId}  ${formatBytes(model.sizeOnDisk)} on disk${layout}`);
    for (const snapshot of model.snapshots) {
      const refs = snapshot.refs.length > 0 ? `${snapshot.refs.join(", ")} → ` : "";
      const id = model.layout === "hub" ? `commit ${snapshot.id.slice(0, 12)}` : `revision ${snapshot.id}`;
      const dtypes = snapshot.dtypeVariants.length > 0 ? snapshot.dtypeVariants.join(", ") : "no ONNX graphs";
      lines.push(`  ${refs}${id}  (${dtypes})  ${snapshot.dir}`);
      for (const file of snapshot.files) lines.push(`    ${file.path.padEnd(48)} ${formatBytes(file.size).padStart(9)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
