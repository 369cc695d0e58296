import { ExitCode } from "./exit-codes.js";

/**
 * SIGTERM and Ctrl-C for a command that stops cleanly through an AbortSignal (analyze's run,
 * collect's wait and write): the first signal aborts, and the command says what it kept; a second
 * does not wait for that and exits at once (130). `release()` once the work is done: the handlers
 * stay, but a signal then no longer aborts anything, since the command is only releasing models
 * and reporting before it exits with the status its result earned (a second one still exits at once).
 */
export function listenForStop(): { signal: AbortSignal; release(): void; close(): void } {
  const controller = new AbortController();
  let released = false;
  let signalledAfterRelease = false;
  const interrupt = () => {
    if (released) {
      if (signalledAfterRelease) process.exit(ExitCode.Interrupted);
      signalledAfterRelease = true;
      return;
    }
    if (controller.signal.aborted) process.exit(ExitCode.Interrupted);
    controller.abort(new Error("interrupted"));
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  return {
    signal: controller.signal,
    release: () => {
      released = true;
    },
    /** Takes the handlers away: for a command that goes on after its stoppable part (`models pull`'s loop). */
    close: () => {
      process.off("SIGINT", interrupt);
      process.off("SIGTERM", interrupt);
    },
  };
}
