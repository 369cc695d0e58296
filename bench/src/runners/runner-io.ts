/**
 * What every Node runner child shares: reading its spec, the articles, its own peak RSS, and writing
 * its result. Each system runs in its own process so that VmHWM (peak resident set) is that system's
 * alone, models, runtime and all.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { RunnerResult, RunnerSpec } from "../types.js";

export const PEAK_RSS_SOURCE = "/proc/self/status VmHWM: per phase (reset at its start through /proc/self/clear_refs) and over the whole run";

/**
 * Tracks the process's peak resident set per phase and over the whole run. The kernel keeps one
 * high-water mark (VmHWM); writing 5 to /proc/self/clear_refs sets it back to the current RSS, so a
 * phase's own peak is read at its end and the run's peak is the largest mark seen.
 */
export class PeakTracker {
  private runPeakKb = 0;

  /** Starts a phase: remembers the mark so far and resets it. False where the reset is refused. */
  startPhase(): boolean {
    this.runPeakKb = Math.max(this.runPeakKb, procStatusKb("VmHWM") ?? 0);
    try {
      writeFileSync("/proc/self/clear_refs", "5");
      return true;
    } catch {
      return false;
    }
  }

  /** The phase's peak in kB (null where the reset was refused: the mark then covers the run so far). */
  endPhase(resetWorked: boolean): number | null {
    const mark = procStatusKb("VmHWM");
    this.runPeakKb = Math.max(this.runPeakKb, mark ?? 0);
    return resetWorked ? mark : null;
  }

  runPeak(): number | null {
    this.runPeakKb = Math.max(this.runPeakKb, procStatusKb("VmHWM") ?? 0);
    return this.runPeakKb || null;
  }
}

export function readSpec(argv: readonly string[] = process.argv): RunnerSpec {
  const path = argv[2];
  if (!path) throw new Error("usage: node <runner>.js SPEC.json");
  return JSON.parse(readFileSync(path, "utf8")) as RunnerSpec;
}

export interface BenchArticle {
  id: string;
  content: string;
  headline?: string;
  [key: string]: unknown;
}

export function readArticles(path: string): BenchArticle[] {
  return JSON.parse(readFileSync(path, "utf8")) as BenchArticle[];
}

export function articlesById(articles: readonly BenchArticle[], ids: readonly string[]): BenchArticle[] {
  const byId = new Map(articles.map((a) => [a.id, a]));
  return ids.map((id) => {
    const article = byId.get(id);
    if (!article) throw new Error(`unknown article id ${id}`);
    return article;
  });
}

/** A `/proc/self/status` field in kB (VmHWM, VmRSS), or null where there is no /proc. */
export function procStatusKb(field: "VmHWM" | "VmRSS"): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export function seconds(fromMs: number, toMs = performance.now()): number {
  return (toMs - fromMs) / 1000;
}

export function log(system: string, message: string): void {
  process.stderr.write(`[${system}] ${message}\n`);
}

export function writeResult(spec: RunnerSpec, result: RunnerResult): void {
  writeFileSync(spec.out, JSON.stringify(result));
}

/** Runs a runner's main, reporting failure on stderr with a non-zero exit code. */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

/**
 * An installed package's version. Read from its package.json found above its resolved entry point,
 * because packages with an `exports` map do not export "./package.json".
 */
export function packageVersion(name: string): string {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve(name));
    for (;;) {
      const file = join(dir, "package.json");
      if (existsSync(file)) {
        const json = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
        if (json.name === name && json.version) return json.version;
      }
      const parent = dirname(dir);
      if (parent === dir) return "unknown";
      dir = parent;
    }
  } catch {
    return "unknown";
  }
}
