/**
 * Continuous batching for beam search (iteration-level scheduling, as Orca and vLLM do for decoder-only
 * models): one decoder batch that articles join at a step boundary and leave as soon as their own
 * search is done, instead of calls that run until their longest summary ends.
 *
 *   submit(ids) ──► waiting ──(step boundary: encode, add its beams' rows)──► running ──► result
 *
 * Every article is searched by its own `ArticleBeams` (HF's per-article semantics), so its tokens do not
 * depend on when it joined or what else is in the batch: the model gives each row its own position and
 * cache, and each article's scoring decision (in the model, or on the host from full logits for the
 * first step, forced tokens and ties) depends on that article alone.
 *
 * A joining article's encoding stalls the running rows for that long. While others decode, a boundary
 * encodes articles only until `joinStallMs` has been spent (at least one), so a burst of arrivals is
 * spread over several steps instead of freezing the batch; an idle batch takes as many as fit at once.
 * Admission is bounded by `maxArticles` and by a decoder-state budget: each article counted from its source
 * length (`stateBytes`), plus the padding the model's layout would hold once it joined.
 */

import { ArticleBeams, type ArticleResult } from "./article-beams.js";
import type { ResolvedGenerationConfig } from "./generation-config.js";
import type { LogitsProcessor } from "./logits-processors.js";
import { isIdentityRowSelection, type DecoderState, type RunningBatchModel } from "./seq2seq-model.js";

export interface RunningBatchOptions {
  /** Articles in the decoder batch at once. */
  maxArticles: number;
  /** Bytes of decoder state the running articles may hold together (each counted by `stateBytes`). */
  stateBudget: number;
  /** Decoder state an article of this many source tokens holds while it is searched. */
  stateBytes: (sourceLength: number) => number;
  /** Encoding time one step boundary may spend on joining articles while others decode (ms). */
  joinStallMs: number;
}

/** Where the batch's time went, added up over its life. */
export interface RunningBatchTiming {
  /** Time the batch was at work (encoding, decoding, searching), added up. */
  wallMs: number;
  encodeMs: number;
  decodeMs: number;
  reorderMs: number;
  /** Decoder runs. */
  steps: number;
  /** Rows summed over the decoder runs (rows per step = rowSteps / steps). */
  rowSteps: number;
  /** Runs scored from the graph's top-K alone / that also fetched logits / replayed for a tie. */
  modelScoredSteps: number;
  hostScoredSteps: number;
  replayedSteps: number;
}

export function emptyRunningTiming(): RunningBatchTiming {
  return { wallMs: 0, encodeMs: 0, decodeMs: 0, reorderMs: 0, steps: 0, rowSteps: 0, modelScoredSteps: 0, hostScoredSteps: 0, replayedSteps: 0 };
}

interface Job {
  readonly key: number;
  readonly ids: Int32Array;
  readonly bytes: number;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (result: ArticleResult) => void;
  readonly reject: (error: unknown) => void;
  beams?: ArticleBeams;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error("generation aborted");
}

export class RunningBatch<S extends DecoderState> {
  readonly timing = emptyRunningTiming();
  private readonly waiting: Job[] = [];
  private readonly running = new Map<number, Job>();
  private usedBytes = 0;
  /** Articles taken from `waiting` and being encoded. */
  private joining = 0;
  private nextKey = 1;
  private loop: Promise<void> | null = null;
  private state: S | null = null;

  constructor(
    private readonly model: RunningBatchModel<S>,
    private readonly config: ResolvedGenerationConfig,
    private readonly processors: readonly LogitsProcessor[],
    private readonly options: RunningBatchOptions,
    /** Called after every decoder step (progress displays). */
    private readonly onStep: (rows: number) => void = () => undefined,
  ) {}

  /** Articles waiting to join plus those in the batch. */
  get size(): number {
    return this.waiting.length + this.joining + this.running.size;
  }

  /** Searches one article (encoder ids without padding); resolves when its own search is done. */
  submit(ids: ArrayLike<number>, signal?: AbortSignal): Promise<ArticleResult> {
    return new Promise<ArticleResult>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      if (ids.length === 0) return reject(new RangeError("generate: input row is empty"));
      const max = this.model.maxInputLength;
      if (max !== undefined && ids.length > max) {
        return reject(new RangeError(`generate: input has ${ids.length} tokens, the model accepts at most ${max}; truncate or chunk it first`));
      }
      const row = Int32Array.from(ids);
      this.waiting.push({ key: this.nextKey++, ids: row, bytes: this.options.stateBytes(row.length), signal, resolve, reject });
      this.loop ??= this.run().finally(() => {
        this.loop = null;
      });
    });
  }

  private async run(): Promise<void> {
    let mark = performance.now();
    try {
      while (this.waiting.length > 0 || this.running.size > 0) {
        this.state ??= this.model.openRunning();
        await this.admit(this.state);
        if (this.running.size > 0) {
          try {
            await this.step(this.state);
          } catch (error) {
            // A failed step leaves the cache unknown: every article in the batch fails, the waiting go on.
            for (const job of this.running.values()) job.reject(error);
            this.running.clear();
            this.usedBytes = 0;
            this.model.release(this.state);
            this.state = null;
          }
        }
        const now = performance.now();
        this.timing.wallMs += now - mark;
        // Let new submissions (and cancellations) in between steps.
        await nextTurn();
        mark = performance.now();
      }
    } finally {
      if (this.state) this.model.release(this.state);
      this.state = null;
    }
  }

  /** Adds waiting articles while they fit, spending at most `joinStallMs` of encoding while others decode. */
  private async admit(state: S): Promise<void> {
    let spent = 0;
    // Articles already decoding wait for what this boundary encodes; an idle batch takes all that fit.
    const decoding = this.running.size > 0;
    while (this.waiting.length > 0 && this.running.size < this.options.maxArticles) {
      const job = this.waiting[0]!;
      const padding = this.model.paddingBytesAfterJoin?.(state, job.ids.length) ?? 0;
      if (this.running.size > 0 && this.usedBytes + job.bytes + padding > this.options.stateBudget) break;
      if (decoding && spent >= this.options.joinStallMs) break;
      this.waiting.shift();
      if (job.signal?.aborted) {
        job.reject(abortReason(job.signal));
        continue;
      }
      const started = performance.now();
      this.joining++;
      try {
        await this.model.join(state, job.ids, this.config.numBeams, job.key);
      } catch (error) {
        job.reject(error);
        continue;
      } finally {
        this.joining--;
        const elapsed = performance.now() - started;
        spent += elapsed;
        this.timing.encodeMs += elapsed;
      }
      job.beams = new ArticleBeams(this.config, this.processors, this.model.vocabSize);
      this.running.set(job.key, job);
      this.usedBytes += job.bytes;
    }
  }

  private async step(state: S): Promise<void> {
    const keys = this.model.articleKeys(state);
    const jobs = keys.map((key) => this.running.get(key)!);
    const beams = this.config.numBeams;
    const rows = jobs.length * beams;
    const tokens = new Int32Array(rows);
    const beamScores = new Float32Array(rows);
    const bans: number[] = [];
    const articleBans: number[] = [];
    const onHost = new Uint8Array(jobs.length);
    jobs.forEach((job, a) => {
      const search = job.beams!;
      search.stepTokens(tokens, a * beams);
      beamScores.set(search.runningScores, a * beams);
      if (!search.modelBans(articleBans)) onHost[a] = 1;
      else for (let i = 0; i < articleBans.length; i += 2) bans.push(a * beams + articleBans[i]!, articleBans[i + 1]!);
    });
    const candidates = jobs[0]!.beams!.candidates;
    const k = candidates + 1;
    const wantLogits = onHost.includes(1);
    let started = performance.now();
    const out = await this.model.decodeTopK(state, tokens, { beamScores, bans, k, ...(wantLogits ? { logits: true } : {}) });
    // An article whose top-K has a tie at the boundary is scored in full, as torch orders ties.
    for (let a = 0; a < jobs.length; a++) if (!onHost[a] && !ArticleBeams.orderedWithoutTies(out.scores, a * k, candidates)) onHost[a] = 2;
    let logits = out.logits;
    if (!logits && onHost.includes(2)) {
      logits = await this.model.replayLogits(state);
      this.timing.replayedSteps++;
    }
    this.timing.decodeMs += performance.now() - started;
    this.timing.steps++;
    this.timing.rowSteps += rows;
    if (wantLogits) this.timing.hostScoredSteps++;
    else this.timing.modelScoredSteps++;

    const sourceRows: number[] = [];
    jobs.forEach((job, a) => {
      const search = job.beams!;
      const top = onHost[a]
        ? search.candidatesFromLogits(logits!, a * beams)
        : { values: out.scores.subarray(a * k, a * k + candidates), indices: out.indices.subarray(a * k, a * k + candidates) };
      const sources = search.advance(top);
      if (search.done || job.signal?.aborted) {
        this.running.delete(job.key);
        this.usedBytes -= job.bytes;
        if (job.signal?.aborted) job.reject(abortReason(job.signal));
        else job.resolve(search.result());
        return;
      }
      for (const source of sources) sourceRows.push(a * beams + source);
    });
    started = performance.now();
    const selection = Int32Array.from(sourceRows);
    if (!isIdentityRowSelection(selection, state.rows)) this.model.selectRows(state, selection);
    this.timing.reorderMs += performance.now() - started;
    this.onStep(rows);
  }
}
