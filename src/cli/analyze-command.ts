import { Command, InvalidArgumentError, Option } from "commander";
import { resolve } from "node:path";
import type { AnalysisRecord } from "../core/analysis-record.js";
import { isExpertError } from "../core/analysis-record.js";
import { Orchestrator, type RunStats } from "../core/orchestrator.js";
import type { NewsItem } from "../core/news-item.js";
import { createRouter, ROUTER_NAMES, type RouterName } from "../engine/create-router.js";
import { selectExperts } from "../engine/expert-selection.js";
import { toPipelineInput } from "../engine/pipeline-input.js";
import { createDefaultRegistry, EXPERT_GROUPS, type DefaultRegistryOptions } from "../experts/default-registry.js";
import { openInput } from "../io/input-reader.js";
import { finalizeFromJournal, Journal } from "../io/journal.js";
import { writeJsonlLine } from "../io/output-writer.js";
import { computeFeatures } from "../routing/features.js";
import { cleanItem } from "../text/clean.js";
import { ExitCode, UsageError } from "./exit-codes.js";
import { loadPlugins } from "./plugins.js";
import { createProgressReporter } from "./progress.js";

export const DEFAULT_OUTPUT = "analyzed_news_data.json";

interface AnalyzeFlags {
  output: string;
  format?: "json" | "jsonl";
  inputFormat: "auto" | "json" | "jsonl";
  router?: RouterName;
  rules?: string;
  experts?: string[];
  plugin: string[];
  resume: boolean;
  overwrite: boolean;
  concurrency: number;
  clean: boolean;
  quiet: boolean;
  offline: boolean;
  summarizerModel?: string;
  sentimentModel?: string;
  dtype: "fp32" | "q8";
  threads?: number;
  long: "chunk" | "truncate";
  neutralThreshold?: number;
  maxLength?: number;
  minLength?: number;
  numBeams?: number;
  cacheDir?: string;
}

function positiveInteger(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1`);
    return n;
  };
}

function probability(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError("must be a number between 0 and 1");
  return n;
}

function commaList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(",").map((s) => s.trim()).filter(Boolean)];
}

function recordFailed(record: AnalysisRecord): boolean {
  return record.error !== undefined || Object.values(record.analyses).some(isExpertError);
}

export function registerAnalyzeCommand(program: Command): void {
  program
    .command("analyze")
    .description("route each news item to experts and write their analyses")
    .argument("<input>", "news items: a JSON array file, a JSON Lines file, or - for stdin")
    .option("-o, --output <path>", "where to write results; - streams JSON Lines to stdout", DEFAULT_OUTPUT)
    .addOption(new Option("--format <format>", "output format (default: json, or jsonl for -o -)").choices(["json", "jsonl"]))
    .addOption(
      new Option("--input-format <format>", "input format; auto looks at the first byte and the file name")
        .choices(["auto", "json", "jsonl"])
        .default("auto"),
    )
    .addOption(new Option("--router <router>", "gating network: auto (built-in rules), rules (--rules FILE) or all").choices([...ROUTER_NAMES]))
    .option("--rules <file>", "routing rules (JSON); implies --router rules")
    .option("--experts <list>", "experts to use: names, tasks, 'embedded', 'neural' or 'all' (comma-separated)", commaList)
    .option("--plugin <file>", "load extra experts from a JavaScript module (repeatable)", (v: string, p: string[]) => [...p, v], [])
    .option("--resume", "continue an interrupted run: skip items already in the journal", false)
    .option("--overwrite", "discard an interrupted run's journal and start over", false)
    .option("--concurrency <n>", "batches each expert may run at once", positiveInteger("--concurrency"), 1)
    .option("--no-clean", "hand experts the content as scraped (default: strip HTML and scraper boilerplate first)")
    .option("-q, --quiet", "no progress output", false)
    .option("--offline", "never touch the network (also HF_HUB_OFFLINE=1)", false)
    .option("--summarizer-model <id|dir>", "summarisation model: hub id or local directory in the ONNX layout")
    .option("--sentiment-model <id|dir>", "sentiment model: hub id or local directory in the ONNX layout")
    .addOption(new Option("--dtype <dtype>", "model weights: fp32 or q8 (int8)").choices(["fp32", "q8"]).default("fp32"))
    .option("--threads <n>", "CPU threads per model (default: all cores)", positiveInteger("--threads"))
    .addOption(
      new Option("--long <mode>", "articles longer than the summariser's window: chunk (map-reduce) or truncate")
        .choices(["chunk", "truncate"])
        .default("chunk"),
    )
    .option("--neutral-threshold <p>", "neural sentiment is NEUTRAL when its top probability is below this", probability)
    .option("--max-length <n>", "summary length limit in tokens (default 300, as the tutorial)", positiveInteger("--max-length"))
    .option("--min-length <n>", "summary minimum in tokens (default 30, as the tutorial)", positiveInteger("--min-length"))
    .option("--num-beams <n>", "beam width (default: the model's generation config)", positiveInteger("--num-beams"))
    .option("--cache-dir <dir>", "model cache (default: the Hugging Face cache, $HF_HOME/hub)")
    .addHelpText(
      "after",
      `
Exit status: 0 all items done, 1 done but some items or experts failed, 2 bad usage or input,
130 interrupted (finished items stay in <output>.journal; rerun with --resume).`,
    )
    .action(async (input: string, flags: AnalyzeFlags) => {
      process.exitCode = await runAnalyze(input, flags);
    });
}

function registryOptions(flags: AnalyzeFlags): DefaultRegistryOptions {
  // HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are read by the model store itself, so its messages name the switch the user set.
  const offline = flags.offline;
  return {
    neural: {
      offline,
      dtype: flags.dtype,
      long: flags.long,
      ...(flags.summarizerModel !== undefined ? { summarizerModel: flags.summarizerModel } : {}),
      ...(flags.sentimentModel !== undefined ? { sentimentModel: flags.sentimentModel } : {}),
      ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
      ...(flags.cacheDir !== undefined ? { cacheDir: flags.cacheDir } : {}),
      ...(flags.neutralThreshold !== undefined ? { neutralThreshold: flags.neutralThreshold } : {}),
      generation: {
        ...(flags.maxLength !== undefined ? { maxLength: flags.maxLength } : {}),
        ...(flags.minLength !== undefined ? { minLength: flags.minLength } : {}),
        ...(flags.numBeams !== undefined ? { numBeams: flags.numBeams } : {}),
      },
    },
  };
}

async function runAnalyze(input: string, flags: AnalyzeFlags): Promise<number> {
  const toStdout = flags.output === "-";
  const format = flags.format ?? (toStdout ? "jsonl" : "json");
  if (toStdout && format !== "jsonl") throw new UsageError("-o - streams JSON Lines; --format json needs a file");
  if (toStdout && flags.resume) throw new UsageError("--resume needs an output file (the journal lives next to it)");
  if (flags.resume && flags.overwrite) throw new UsageError("--resume and --overwrite contradict each other");
  const routerName: RouterName = flags.router ?? (flags.rules ? "rules" : "auto");

  const registry = createDefaultRegistry(registryOptions(flags));
  await loadPlugins(flags.plugin, registry);
  const experts = selectExperts(registry, flags.experts, EXPERT_GROUPS);
  const router = await createRouter(routerName, registry, flags.rules);

  const outputPath = toStdout ? null : resolve(flags.output);
  const journal = outputPath
    ? await Journal.open(`${outputPath}.journal`, { resume: flags.resume, overwrite: flags.overwrite, input })
    : null;
  const resumed = journal?.count ?? 0;

  const reader = openInput(input, { format: flags.inputFormat });
  const progress = createProgressReporter(
    { bytesRead: () => reader.bytesRead, totalBytes: () => reader.totalBytes },
    { quiet: flags.quiet },
  );
  const notice = (message: string) => progress.log(`news-moe: ${message}`);
  if (resumed > 0) notice(`resuming: ${resumed} items already done in ${journal?.path}`);

  const orchestrator = new Orchestrator({
    registry,
    experts,
    router,
    features: computeFeatures,
    ...(flags.clean ? { clean: (item: NewsItem) => cleanItem(item) } : {}),
    concurrency: flags.concurrency,
    onNotice: notice,
  });

  const interrupt = () => {
    progress.stop();
    journal?.close();
    process.stderr.write(
      `\nnews-moe: interrupted; ${journal ? `${journal.count} finished items are kept in ${journal.path}; rerun with --resume` : "partial output above"}\n`,
    );
    process.exit(ExitCode.Interrupted);
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);

  const started = performance.now();
  let failedNow = 0;
  let stoppedByReader = false;
  const skip = journal ? journal.resumeFilter() : undefined;
  try {
    for await (const { index, record } of orchestrator.run(toPipelineInput(reader, skip ? { skip } : {}))) {
      journal?.append(record, index);
      if (toStdout && !(await writeJsonlLine(process.stdout, record))) {
        // The reader went away (`| head`): nothing more can be delivered, so stop quietly.
        stoppedByReader = true;
        break;
      }
      const failed = recordFailed(record);
      if (failed) failedNow++;
      progress.itemDone(failed);
    }
  } catch (error) {
    progress.stop();
    journal?.close();
    if (journal && journal.count > 0) {
      process.stderr.write(
        `news-moe: ${journal.count} finished items are kept in ${journal.path}; fix the input and rerun with --resume\n`,
      );
    }
    throw error;
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
  }
  progress.stop();
  if (stoppedByReader) {
    await disposeExperts(registry.list());
    return ExitCode.Ok;
  }

  let failedBefore = 0;
  if (journal && outputPath) {
    journal.close();
    const summary = await finalizeFromJournal(journal.path, outputPath, format);
    failedBefore = Math.max(0, summary.failed - failedNow);
  }
  await disposeExperts(registry.list());
  if (!flags.quiet) reportSummary(orchestrator.stats, { resumed, failedBefore, outputPath, seconds: (performance.now() - started) / 1000 });
  return failedNow + failedBefore > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}

async function disposeExperts(experts: ReadonlyArray<{ dispose?: () => Promise<void> }>): Promise<void> {
  await Promise.all(experts.map((expert) => expert.dispose?.().catch(() => undefined)));
}

function reportSummary(
  stats: RunStats,
  context: { resumed: number; failedBefore: number; outputPath: string | null; seconds: number },
): void {
  const lines = [
    `news-moe: ${stats.items} items analysed in ${context.seconds.toFixed(1)}s` +
      (context.resumed ? ` (+${context.resumed} from the journal)` : "") +
      `: ${stats.succeeded} ok, ${stats.withExpertErrors} with expert errors, ${stats.invalid} invalid` +
      (context.failedBefore ? `; ${context.failedBefore} earlier items had errors` : ""),
  ];
  for (const [name, s] of Object.entries(stats.experts)) {
    if (s.items === 0 && s.errors === 0) continue;
    lines.push(`  ${name}: ${s.items} items in ${s.batches} batches, ${s.errors} errors, ${(s.busyMs / 1000).toFixed(1)}s busy`);
  }
  if (context.outputPath) lines.push(`  written to ${context.outputPath}`);
  process.stderr.write(`${lines.join("\n")}\n`);
}
