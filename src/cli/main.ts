#!/usr/bin/env node
/**
 * The news-moe executable. Loading the commands (and the libraries they use) takes a second or
 * more on a busy machine; a SIGTERM or Ctrl-C in that time must still end the process with its
 * documented status and a word, not kill it silently. So the handlers go in first, then the rest
 * is imported. Once a command has its own handler (analyze, worker, collect...), these stand back.
 */
import { stopBeforeStart, stopDuringCommand, stopWhileFinishing } from "./early-stop.js";

// Whether a command has taken the signals over (added a handler of its own) at some point: once it
// has and has let go again, a signal is not "before it started" but during its last steps.
let commandTookOver = false;
process.on("newListener", (event) => {
  if (event === "SIGTERM" || event === "SIGINT") commandTookOver ||= process.listenerCount(event) > 0;
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (process.listenerCount(signal) > 1) return;
    if (commandTookOver) stopWhileFinishing();
    stopDuringCommand();
    stopBeforeStart(process.argv.slice(2));
  });
}

await import("./program.js");

// The command is done and its exit status set: exit now rather than let the process wind down on
// its own. While Node winds down it has already taken its signal handlers away, so a SIGTERM in
// those last milliseconds killed a run whose output was complete (5 of 100 SIGTERMs sent around
// the end of an analyze run, before this). What is still queued for stdout or stderr (a pipe's
// writes can be) goes out first: `collect -o - | ...` lost its last records without this.
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit();

/** Resolves once everything written to `stream` so far has been handed to the system (or the stream is gone). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || !stream.writable || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once("close", resolve);
    stream.write("", () => resolve());
  });
}
