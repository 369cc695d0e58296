/**
 * The CLI's words for the engine's typed errors: the lower layers say what went wrong and carry
 * the data; only here does it become advice naming the command's flags. Anything not recognised is
 * a bug in news-moe or an expert, so its stack goes along for the report.
 */
import { UnknownRouterError, RulesRequiredError } from "../engine/create-router.js";
import { PluginError } from "../engine/plugins.js";
import { RunAbortedError, RunFailedError } from "../engine/run.js";
import { NothingToResumeError, OutputIsInputError } from "../engine/preflight.js";
import { JournalExistsError, JournalInputChangedError, JournalInputMismatchError } from "../io/journal.js";
import { ModelNotAvailableError } from "../models/model-errors.js";
import { OutputWriteError } from "../io/output-writer.js";
import { RedisUnavailableError } from "../queue/connection.js";
import { ExitCode } from "./exit-codes.js";
import { describeModelNotAvailable } from "./model-messages.js";

const USER_FACING = new Set([
  "UsageError",
  "InputFormatError",
  "RulesConfigError",
  "JournalCorruptError",
  "ExpertSelectionError",
  "OutputWriteError",
  "GateFileError",
  "GateDataError",
  "RedisUrlError",
  "RedisUnavailableError",
]);

/** The exit status of a command that failed with `error` (documented in exit-codes.ts and the README). */
export function exitCodeFor(error: unknown): number {
  if (error instanceof RedisUnavailableError) return ExitCode.Unavailable;
  return ExitCode.Fatal;
}

/**
 * The message for a fatal error; with NEWS_MOE_DEBUG=1 in the environment, followed by the stack of the
 * error and of each of its causes (a user-facing message alone says what to fix, not where it came from).
 */
export function describeFatalError(error: unknown): string {
  const message = describe(error);
  if (!process.env["NEWS_MOE_DEBUG"] || message.startsWith("internal error:")) return message;
  const stacks: string[] = [];
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 8; at = at.cause, depth++) {
    stacks.push(`${depth === 0 ? "" : "caused by: "}${at.stack ?? `${at.name}: ${at.message}`}`);
  }
  return stacks.length > 0 ? `${message}\n${stacks.join("\n")}` : message;
}

function describe(error: unknown): string {
  if (error instanceof RunFailedError) {
    const fix = error.cause instanceof OutputWriteError ? "once the output can be written, rerun with --resume" : "fix the input and rerun with --resume";
    const kept = error.journal && error.journal.records > 0
      ? `\nnews-moe: ${error.journal.records} finished items are kept in ${error.journal.path}; ${fix}`
      : "";
    return describe(error.cause) + kept;
  }
  if (error instanceof RunAbortedError) {
    if (!error.journal) return "interrupted; partial output above";
    // Nothing to resume: a rerun starts afresh, with or without --resume.
    if (error.journal.records === 0) return "interrupted before any item was finished; run it again to start";
    return `interrupted; ${error.journal.records} finished items are kept in ${error.journal.path}; rerun with --resume`;
  }
  if (error instanceof RulesRequiredError) return "--router rules needs a rules file: --rules FILE";
  if (error instanceof UnknownRouterError) {
    return `--router ${error.router}: no such router; choose from: ${error.choices.join(", ")} (a --plugin can add routers)`;
  }
  if (error instanceof PluginError) return `--plugin ${error.message}`;
  if (error instanceof JournalExistsError) {
    return (
      `${error.file} holds ${error.finishedItems} finished item${error.finishedItems === 1 ? "" : "s"} from an interrupted run; ` +
      "pass --resume to continue that run or --overwrite to start over"
    );
  }
  if (error instanceof JournalInputMismatchError) {
    return `${error.file} belongs to a run on ${error.journalInput}, not ${error.requestedInput}; resume with the same input, or pass --overwrite to start over`;
  }
  if (error instanceof JournalInputChangedError) {
    return `${error.message}.\nnews-moe: pass --overwrite to discard ${error.file} and analyse the input as it is now`;
  }
  if (error instanceof OutputIsInputError) {
    return `-o ${error.output} is the input file; choose another output path (the default is analyzed_news_data.json)`;
  }
  if (error instanceof NothingToResumeError) {
    return `${error.message} (its run finished).\nnews-moe: run without --resume to analyse the input again and replace it`;
  }
  if (error instanceof ModelNotAvailableError) return describeModelNotAvailable(error);
  if (error instanceof Error) {
    if (USER_FACING.has(error.name) || USER_FACING.has(error.constructor.name)) return error.message;
    return `internal error: ${error.stack ?? error.message}`;
  }
  return `internal error: ${String(error)}`;
}
