import { Command, Option } from "commander";
import { resolve } from "node:path";
import { journalPathFor, run, RunAbortedError, type EngineEvent, type RunSummary } from "../engine/run.js";
import type { InputReader } from "../io/input-reader.js";
import { writeTextFileAtomically } from "../io/output-writer.js";
import { ExitCode, UsageError } from "./exit-codes.js";
import { addBatchConcurrencyOption, addEngineOptions, prepareEngine, type EngineCatalogue, type EngineFlags } from "./engine-options.js";
import { describeFatalError } from "./fatal-error.js";
import { describeUnavailableCause } from "./model-messages.js";
import { checkOutputPath, recordFormatOption, recordOutputFormat } from "./output-options.js";
import { listenForStop } from "./stop-signal.js";
import { createProgressView, formatBytes } from "./models-command.js";
import { createProgressReporter } from "./progress.js";

export const DEFAULT_OUTPUT = "analyzed_news_data.json";

interface AnalyzeFlags extends EngineFlags {
  output: string;
  format?: "json" | "jsonl";
  inputFormat: "auto" | "json" | "jsonl";
  stats?: string;
  /** analyze always has --dry-run (serve does not). */
  dryRun: boolean;
  resume: boolean;
  overwrite: boolean;
  concurrency: number;
  quiet: boolean;
}

export function registerAnalyzeCommand(program: Command, engine: EngineCatalogue): void {
  const command = program
    .command("analyze")
    .description("route each news item to experts and write their analyses")
    .argument("<input>", "news items: a JSON array file, a JSON Lines file, or - for stdin")
    .option("-o, --output <path>", "where to write results; - streams JSON Lines to stdout", DEFAULT_OUTPUT)
    .addOption(recordFormatOption())
    .addOption(
      new Option("--input-format <format>", "input format; auto looks at the first byte and the file name")
        .choices(["auto", "json", "jsonl"])
        .default("auto"),
    );
  addEngineOptions(command, engine)
    .option("--stats <file>", "write the routing statistics (activations, mean gate weight, fallbacks, skipped tasks) as JSON")
    .option("--resume", "continue an interrupted run: skip items already in the journal", false)
    .option("--overwrite", "discard an interrupted run's journal and start over", false);
  addBatchConcurrencyOption(command)
    .option("-q, --quiet", "no progress output", false)
    .addHelpText(
      "after",
      `
Exit status: 0 all items done, 1 done but some items or experts failed, 2 bad usage or input,
130 interrupted (finished items stay in <output>.journal; rerun with --resume).`,
    )
    .action(async (input: string, flags: AnalyzeFlags) => {
      process.exitCode = await runAnalyze(input, flags, engine);
    });
}

/** NEWS_MOE_PROGRESS_EVERY=SECONDS: how often a plain progress line is printed without a terminal (default 5). */
function progressInterval(): { intervalMs?: number } {
  const seconds = Number(process.env.NEWS_MOE_PROGRESS_EVERY);
  return Number.isFinite(seconds) && seconds > 0 ? { intervalMs: seconds * 1000 } : {};
}

/** Parses flags into one `run()` and words what it reports; the engine does the rest. */
async function runAnalyze(input: string, flags: AnalyzeFlags, engine: EngineCatalogue): Promise<number> {
  const toStdout = flags.output === "-";
  const format = recordOutputFormat(flags.output, flags.format);
  if (toStdout && flags.resume) throw new UsageError("--resume needs an output file (the journal lives next to it)");
  if (flags.resume && flags.overwrite) throw new UsageError("--resume and --overwrite contradict each other");
  // Known before any work: a run of hours must not end in "cannot write the statistics".
  if (flags.stats) await checkOutputPath(flags.stats, "the routing statistics");
  await checkOutputPath(flags.output);
  const { registry, runOptions, notices } = prepareEngine(flags, engine);
  const outputPath = toStdout ? null : resolve(flags.output);

  let reader: InputReader | undefined;
  const progress = createProgressReporter(
    {
      bytesRead: () => reader?.bytesRead ?? 0,
      totalBytes: () => reader?.totalBytes,
      itemsRead: () => reader?.itemsRead ?? 0,
      inputFinished: () => reader?.finished ?? false,
    },
    { quiet: flags.quiet, ...progressInterval() },
  );
  const notice = (message: string) => progress.log(`news-moe: ${message}`);
  for (const message of notices) notice(message);
  // Created on the first download only: a run with every model at hand draws no download bars.
  let downloadView: ReturnType<typeof createProgressView> | undefined;
  // Files being downloaded, for the word on an interrupted run: their partial bytes are kept and resumed.
  const downloading = new Map<string, { done: number; total: number | undefined }>();
  const downloads = {
    onProgress: (p: Parameters<ReturnType<typeof createProgressView>["onProgress"]>[0]) => {
      const key = `${p.repoId}/${p.file}`;
      if (p.status === "done") downloading.delete(key);
      else downloading.set(key, { done: p.bytesDone, total: p.bytesTotal });
      (downloadView ??= createProgressView(process.stderr)).onProgress(p);
    },
    stop: () => downloadView?.stop(),
  };
  const onEvent = (event: EngineEvent) => {
    switch (event.type) {
      case "record":
        progress.itemDone(event.failed);
        break;
      case "expert-progress": {
        const { done, total, unit } = event.progress;
        progress.activity(`${event.expert}: batch of ${event.items} item${event.items === 1 ? "" : "s"}, ${done}${total !== undefined ? `/${total}` : ""} ${unit}`);
        break;
      }
      case "resumed":
        progress.alreadyDone(event.records);
        notice(`resuming: ${event.records} items already done in ${event.journal}`);
        break;
      case "warning":
        notice(`${event.source}: ${event.message}`);
        break;
      case "load-progress":
        // Files already cached, or optional and absent, are not news during an analysis.
        if (event.progress.status === "downloading" || event.progress.status === "done") {
          downloads.onProgress({ repoId: event.progress.source, ...event.progress });
        }
        break;
      case "expert-unavailable":
        // What happens comes first; the reason (often several lines: where we looked, how to fix it) after.
        notice(
          `${event.expert} is unavailable, ` +
            (event.standIn ? `so its ${event.task} work goes to ${event.standIn}` : `and no other ${event.task} expert is active`) +
            `.\n  Why: ${describeUnavailableCause(event.reason, event.error).replace(/\n/g, "\n  ")}`,
        );
        break;
    }
  };

  // Ctrl-C stops the run through its signal: nothing more is admitted or journaled, the journal is
  // kept. A second Ctrl-C does not wait for the experts to notice.
  const stop = listenForStop();

  let summary: RunSummary;
  try {
    summary = await run({
      input,
      inputFormat: flags.inputFormat,
      registry,
      ...runOptions,
      concurrency: flags.concurrency,
      output: { path: outputPath ?? "-", format },
      ...(outputPath ? { journal: journalPathFor(outputPath), resume: flags.resume, overwrite: flags.overwrite } : {}),
      signal: stop.signal,
      onEvent,
      onInput: (opened) => {
        reader = opened;
      },
    });
  } catch (error) {
    progress.stop({ complete: false });
    downloads.stop();
    if (error instanceof RunAbortedError) {
      process.stderr.write(`\nnews-moe: ${describeFatalError(error)}\n`);
      for (const [file, { done, total }] of downloading) {
        const where = `${formatBytes(done)}${total !== undefined ? ` of ${formatBytes(total)}` : ""}`;
        process.stderr.write(`news-moe: the download of ${file} stopped at ${where}; the next run resumes it\n`);
      }
      return ExitCode.Interrupted;
    }
    throw error;
  } finally {
    stop.release();
    // The CLI made the registry, so it releases the models (and their worker threads).
    await registry.dispose();
  }
  progress.stop();
  downloads.stop();
  if (flags.stats) await writeTextFileAtomically(flags.stats, `${JSON.stringify(summary.routing.toJSON(), null, 2)}\n`);
  if (summary.stoppedBySink) return ExitCode.Ok;
  if (!flags.quiet) reportSummary(summary, outputPath, flags.dryRun);
  return summary.failed + summary.failedBefore > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
}

function reportSummary(summary: RunSummary, outputPath: string | null, dryRun: boolean): void {
  const { stats } = summary;
  const lines = [
    `news-moe: ${stats.items} items ${dryRun ? "routed (dry run, no expert ran)" : "analysed"} in ${summary.seconds.toFixed(1)}s` +
      (summary.resumed ? ` (+${summary.resumed} from the journal)` : "") +
      `: ${stats.succeeded} ok, ${stats.withExpertErrors} with expert errors, ${stats.invalid} invalid` +
      (summary.failedBefore ? `; ${summary.failedBefore} earlier items had errors` : ""),
  ];
  for (const [name, s] of Object.entries(stats.experts)) {
    if (s.items === 0 && s.errors === 0) continue;
    lines.push(`  ${name}: ${s.items} items in ${s.batches} batches, ${s.errors} errors, ${(s.busyMs / 1000).toFixed(1)}s busy`);
  }
  lines.push(`  ${summary.routing.describe()}`);
  if (outputPath) lines.push(`  written to ${outputPath}`);
  process.stderr.write(`${lines.join("\n")}\n`);
}
