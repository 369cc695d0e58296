import * as fs from "node:fs";
import * as path from "node:path";
import type { Sink } from "../core/sink.js";
import { FileSink } from "../sinks/file-sink.js";

/** An output (or its journal) would be written over the run's own input. */
export class OutputIsInputError extends Error {
  constructor(
    readonly input: string,
    readonly output: string,
  ) {
    super(`the output ${output} is the input ${input}; writing it would destroy the input`);
    this.name = "OutputIsInputError";
  }
}

/**
 * Resuming was asked for, but there is no journal, and the output is already there: the run it
 * belonged to finished. Recomputing everything silently is not what "resume" promises.
 */
export class NothingToResumeError extends Error {
  constructor(
    readonly journal: string,
    readonly output: string,
  ) {
    super(`nothing to resume: ${journal} does not exist and ${output} is already complete`);
    this.name = "NothingToResumeError";
  }
}

function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    const x = fs.statSync(a);
    const y = fs.statSync(b);
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}

/**
 * What the engine can tell is wrong before any item is analysed, about the run as a whole (each
 * sink checks its own destination when it opens, also before any item): an output that is the
 * input, and a resume with nothing to resume.
 */
export function checkBeforeWork(options: { input: unknown; sinks: readonly Sink[]; journal?: string; resume?: boolean }): void {
  const files = options.sinks.filter((sink): sink is FileSink => sink instanceof FileSink).map((sink) => sink.path);
  if (typeof options.input === "string" && options.input !== "-") {
    for (const output of [...files, ...(options.journal ? [options.journal] : [])]) {
      if (sameFile(output, options.input)) throw new OutputIsInputError(options.input, output);
    }
  }
  if (options.resume && options.journal && !fs.existsSync(options.journal)) {
    const finished = files.find((file) => fs.existsSync(file));
    if (finished !== undefined) throw new NothingToResumeError(options.journal, finished);
  }
}
