import { ExitCode } from "./exit-codes.js";

/** Commands that run until stopped: a stop is how they end, so it is a success (exit 0). */
const SERVICES = new Set(["worker", "serve"]);

/**
 * Ends a process stopped (SIGTERM, Ctrl-C) before its command took over the signal: nothing was
 * started, so nothing is lost. A service exits 0, as it would once running; any other command
 * exits 130, interrupted, as analyze documents.
 */
export function stopBeforeStart(args: readonly string[]): never {
  const command = args.find((arg) => !arg.startsWith("-"));
  if (command !== undefined && SERVICES.has(command)) {
    process.stderr.write(`news-moe ${command}: stopped before it started\n`);
    process.exit(ExitCode.Ok);
  }
  process.stderr.write("news-moe: interrupted before it started; nothing was done\n");
  process.exit(ExitCode.Interrupted);
}

/** Commands that take SIGTERM and Ctrl-C themselves once they run; until they do, a stop comes "before it started". */
const HANDLE_THEIR_STOPS = new Set(["analyze", "serve", "worker", "submit", "collect", "models pull"]);

/** The command whose action runs ("models pull"), once its arguments are parsed. */
let runningCommand: string | undefined;

/** Called as a command's action starts (commander's preAction hook). */
export function commandStarted(path: string): void {
  runningCommand = path;
}

/**
 * Ends a process stopped in the middle of a command that leaves stops to this handler (status,
 * experts, report, gate...): those write their output whole at the end or not at all, so nothing is
 * half-written and nothing is there to resume. Exits 130. Returns, doing nothing, for any other case.
 */
export function stopDuringCommand(): void {
  if (runningCommand === undefined || HANDLE_THEIR_STOPS.has(runningCommand)) return;
  process.stderr.write(`news-moe ${runningCommand}: interrupted before it finished; nothing was written\n`);
  process.exit(ExitCode.Interrupted);
}

/**
 * Ends a process stopped after its command let the signal go again: its work is done and its
 * result written; what is left is releasing models and saying goodbye. The status is the one the
 * command has set where it has, else success: nothing was interrupted.
 */
export function stopWhileFinishing(): never {
  process.exit(process.exitCode ?? ExitCode.Ok);
}
