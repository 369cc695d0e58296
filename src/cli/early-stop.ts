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

/**
 * Ends a process stopped after its command let the signal go again: its work is done and its
 * result written; what is left is releasing models and saying goodbye. The status is the one the
 * command has set where it has, else success: nothing was interrupted.
 */
export function stopWhileFinishing(): never {
  process.exit(process.exitCode ?? ExitCode.Ok);
}
