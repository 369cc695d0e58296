import { ExitCode } from "./exit-codes.js";

/**
 * SIGTERM and Ctrl-C for a command that stops cleanly through an AbortSignal (analyze's run,
 * collect's wait and write): the first signal aborts, and the command says what it kept; a second
 * does not wait for that and exits at once (130). `release()` when the command is done.
 */
export function listenForStop(): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const interrupt = () => {
    if (controller.signal.aborted) process.exit(ExitCode.Interrupted);
    controller.abort(new Error("interrupted"));
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  return {
    signal: controller.signal,
    release: () => {
      process.off("SIGINT", interrupt);
      process.off("SIGTERM", interrupt);
    },
  };
}
