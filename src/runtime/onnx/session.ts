/**
 * onnxruntime-node session creation with the defaults this engine wants, and explicit release.
 *
 * Defaults, and why:
 *   - graph optimisation "all": fuses attention/LayerNorm/GELU on CPU; the published files are not
 *     pre-optimised;
 *   - inter-op threads 1, sequential execution: BART graphs are one chain of ops, parallel branches
 *     buy nothing and the extra pool competes with intra-op threads;
 *   - intra-op threads: ORT's own default (one per physical core) unless given; callers running
 *     several sessions concurrently should split the cores between them;
 *   - CPU memory arena on: decoder steps allocate same-sized KV buffers again and again, which the
 *     arena recycles; memory pattern on: it only applies to repeated identical shapes and is free
 *     otherwise;
 *   - intra-op threads sleep when idle instead of spinning (`allowSpinning`): two experts share the cores;
 *   - log severity "error": ORT's warnings about unused initializers in the published files are noise.
 */

import ort from "onnxruntime-node";

// ONNX Runtime's own environment logs warnings to stderr in colour, before any session's
// `logSeverityLevel` applies: in a container whose home folder cannot be written, every start printed
// "Failed to persist telemetry device ID". Errors only, like the sessions (set before the first one).
ort.env.logLevel = "error";

export type GraphOptimizationLevel = "disabled" | "basic" | "extended" | "all";

export interface OrtSessionOptions {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: GraphOptimizationLevel;
  enableCpuMemArena?: boolean;
  enableMemPattern?: boolean;
  /** 0 verbose .. 4 fatal. */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /**
   * Memory arena on, and its free regions given back to the system at the end of every run (ORT's
   * `memory.enable_memory_arena_shrinkage` run option): for graphs whose activations are large and
   * whose runs are far apart, so neither the arena nor malloc keeps them between runs.
   */
  shrinkArenaAfterRun?: boolean;
  /**
   * Let idle intra-op threads spin for work between operators (ORT's default), or sleep at once (this
   * engine's default). Spinning saves a wake-up per operator when a session has the cores to itself; the
   * summariser and the sentiment classifier run at once on the same cores, and there a spinning thread
   * burns the time slice the other session's threads wait for. Measured on 8 realistic articles, both
   * neural experts, fp32, 2 threads each (AMD EPYC, AVX2, 2 cores; three alternating pairs): 3% less
   * wall time and 7% less CPU time without spinning (15.5 s / 29.2 s CPU against 15.9 s / 31.3 s).
   */
  allowSpinning?: boolean;
}

let profiledSessions = 0;

export function sessionOptions(options: OrtSessionOptions = {}): ort.InferenceSession.SessionOptions {
  const result: ort.InferenceSession.SessionOptions = {
    executionProviders: ["cpu"],
    graphOptimizationLevel: options.graphOptimizationLevel ?? "all",
    interOpNumThreads: options.interOpNumThreads ?? 1,
    executionMode: "sequential",
    enableCpuMemArena: options.shrinkArenaAfterRun ? true : (options.enableCpuMemArena ?? true),
    enableMemPattern: options.enableMemPattern ?? true,
    logSeverityLevel: options.logSeverityLevel ?? 3,
  };
  if (options.intraOpNumThreads !== undefined) result.intraOpNumThreads = options.intraOpNumThreads;
  // A developer's tool, not a setting: NEWS_MOE_ORT_PROFILE=PREFIX makes every session write ONNX
  // Runtime's per-operator profile (PREFIX_<time>.json) when it is released. docs/performance.md
  // says how the int8 step was profiled with it.
  const profilePrefix = process.env["NEWS_MOE_ORT_PROFILE"];
  // Numbered: sessions created in the same second would otherwise write over each other's file.
  if (profilePrefix) Object.assign(result, { enableProfiling: true, profileFilePrefix: `${profilePrefix}-${process.pid}-${++profiledSessions}` });
  if (options.allowSpinning !== true) result.extra = { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } };
  return result;
}

/** An ORT session that can be released once; using it afterwards throws. */
export class OnnxSession {
  private session: ort.InferenceSession | null;

  /** Passed to every run: the arena shrinkage when asked for. */
  private readonly runOptions: ort.InferenceSession.RunOptions | undefined;

  private constructor(
    session: ort.InferenceSession,
    readonly path: string,
    shrinkArena: boolean,
  ) {
    this.runOptions = shrinkArena ? { extra: { memory: { enable_memory_arena_shrinkage: "cpu:0" } } } : undefined;
    this.session = session;
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
  }

  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  static async create(path: string, options: OrtSessionOptions = {}): Promise<OnnxSession> {
    const session = await ort.InferenceSession.create(path, sessionOptions(options));
    return new OnnxSession(session, path, options.shrinkArenaAfterRun ?? false);
  }

  hasInput(name: string): boolean {
    return this.inputNames.includes(name);
  }

  /** Runs the graph; `fetch` limits the outputs computed and returned (default: all). */
  async run(feeds: Record<string, ort.Tensor>, fetch?: readonly string[]): Promise<Record<string, ort.Tensor>> {
    if (!this.session) throw new Error(`ONNX session ${this.path} has been released`);
    const results = fetch ? await this.session.run(feeds, fetch, this.runOptions) : await this.session.run(feeds, this.runOptions);
    return results as Record<string, ort.Tensor>;
  }

  get released(): boolean {
    return this.session === null;
  }

  async release(): Promise<void> {
    const session = this.session;
    this.session = null;
    await session?.release();
  }
}
