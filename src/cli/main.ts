#!/usr/bin/env node
/**
 * The news-moe executable. Loading the commands (and the libraries they use) takes a second or
 * more on a busy machine; a SIGTERM or Ctrl-C in that time must still end the process with its
 * documented status and a word, not kill it silently. So the handlers go in first, then the rest
 * is imported. Once a command has its own handler (analyze, worker, collect...), these stand back.
 */
import { stopBeforeStart } from "./early-stop.js";

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (process.listenerCount(signal) > 1) return;
    stopBeforeStart(process.argv.slice(2));
  });
}

await import("./program.js");
