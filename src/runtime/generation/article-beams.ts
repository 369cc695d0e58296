/**
 * One article's beam search, step by step, with the semantics of transformers 4.57
 * `GenerationMixin._beam_search` restricted to that article (see `beam-search.ts` for the rules and
 * their HF names). HF's batched search treats every article independently: its running beams, finished
 * set and stopping test depend on the article alone, and a batch only stops when all its articles would.
 * So an article can be searched on its own, in a decoder batch it joined at any step, and leave the batch
 * as soon as it alone would stop, with the tokens it gets in any static batch.
 *
 * The caller owns the decoder: each step it asks for this article's `numBeams` input tokens and how the
 * step is to be scored (inside the model with bans, or from full logits), feeds the rows, and hands back
 * either the model's top-K candidates of this article or the logits of its rows. `advance` returns, per
 * new beam, the beam it continues (the caller reorders its cache rows), and `done` says when to leave.
 *
 * In a running batch the first step runs every beam (all identical): HF does the same, and it keeps every
 * article at `numBeams` rows, which a batch that articles join at any step needs. A static batch
 * (`beam-search.ts`) runs that step as one row per article and scores it with `oneRow`.
 */

import type { ResolvedGenerationConfig } from "./generation-config.js";
import { applyLogitsProcessors, collectBans, type LogitsProcessor } from "./logits-processors.js";
import { logSoftmaxRow } from "./log-softmax.js";
import { SelectedTokenRows, TokenMatrix } from "./token-history.js";
import { topk, topkOfRowSums } from "./torch-topk.js";

const MASK = -1.0e9;

/** torch: `float32_tensor / python_float` divides by the float rounded to float32. */
function divideF32(value: number, divisor: number): number {
  return Math.fround(value / Math.fround(divisor));
}

function addMask(value: number): number {
  return Math.fround(value + MASK);
}

/** Candidates of one article, best first: scores and indices into [numBeams * vocab]. */
export interface Candidates {
  readonly values: ArrayLike<number>;
  readonly indices: ArrayLike<number>;
}

export interface ArticleResult {
  /** The best `num_return_sequences` hypotheses, decoder prompt first, each cut to its own article's longest. */
  sequences: number[][];
  /** HF `sequences_scores` of those rows. */
  scores: number[];
}

export class ArticleBeams {
  readonly numBeams: number;
  /** Candidates per step (HF `beams_to_keep`). */
  readonly candidates: number;
  private readonly vocab: number;
  private readonly config: ResolvedGenerationConfig;
  private readonly processors: readonly LogitsProcessor[];
  private running: TokenMatrix;
  private runningNext: TokenMatrix;
  private finished: TokenMatrix;
  private finishedNext: TokenMatrix;
  readonly runningScores: Float32Array;
  private readonly finishedScores: Float32Array;
  private readonly finishedDone: Uint8Array;
  private readonly finishedLength: Int32Array;
  private improvable = true;
  private curLen: number;
  private readonly identityRows: Int32Array;
  private readonly candBeam: Int32Array;
  private readonly candToken: Int32Array;
  private readonly candScore: Float32Array;
  private readonly candHit: Uint8Array;
  private readonly candRunning: Float32Array;
  private readonly candFinished: Float32Array;
  private readonly merged: Float32Array;
  private scoreBuffer = new Float32Array(0);
  /** Set once the article alone would stop (or nothing can change its finished set). */
  done = false;
  /** Decoder steps this article took. */
  steps = 0;

  constructor(config: ResolvedGenerationConfig, processors: readonly LogitsProcessor[], vocab: number) {
    const numBeams = config.numBeams;
    this.numBeams = numBeams;
    this.config = config;
    this.processors = processors;
    this.vocab = vocab;
    this.candidates = Math.max(2, 1 + config.eosTokenIds.length) * numBeams;
    if (this.candidates > numBeams * vocab) throw new RangeError("vocabulary too small for this many beams");
    const { maxLength, beamFillTokenId } = config;
    this.running = new TokenMatrix(numBeams, maxLength, beamFillTokenId);
    this.runningNext = new TokenMatrix(numBeams, maxLength, beamFillTokenId);
    this.finished = new TokenMatrix(numBeams, maxLength, beamFillTokenId);
    this.finishedNext = new TokenMatrix(numBeams, maxLength, beamFillTokenId);
    if (config.decoderPromptLength !== 1) throw new RangeError("a step-by-step article search takes a one-token decoder prompt");
    for (let r = 0; r < numBeams; r++) this.running.set(r, 0, config.decoderStartTokenId);
    this.finished.data.set(this.running.data);
    this.runningScores = new Float32Array(numBeams).fill(MASK);
    this.runningScores[0] = 0;
    this.finishedScores = new Float32Array(numBeams).fill(MASK);
    this.finishedDone = new Uint8Array(numBeams);
    this.finishedLength = new Int32Array(numBeams);
    this.curLen = config.decoderPromptLength;
    this.identityRows = Int32Array.from({ length: numBeams }, (_, i) => i);
    this.candBeam = new Int32Array(this.candidates);
    this.candToken = new Int32Array(this.candidates);
    this.candScore = new Float32Array(this.candidates);
    this.candHit = new Uint8Array(this.candidates);
    this.candRunning = new Float32Array(this.candidates);
    this.candFinished = new Float32Array(this.candidates);
    this.merged = new Float32Array(numBeams + this.candidates);
  }

  /** Writes this step's input token of each beam row into `out` from `offset`. */
  stepTokens(out: Int32Array, offset: number): void {
    for (let j = 0; j < this.numBeams; j++) out[offset + j] = this.running.get(j, this.curLen - 1);
  }

  /**
   * This step's processor bans as (beam, token) pairs into `out`, or false when the step must be scored
   * from the full logits (the first step, forced tokens, penalties).
   */
  modelBans(out: number[]): boolean {
    if (this.steps === 0) return false;
    return collectBans(this.processors, this.history(), this.vocab, out);
  }

  /** Are the model's first `candidates + 1` scores strictly decreasing (no tie to order by torch's rule)? */
  static orderedWithoutTies(scores: ArrayLike<number>, offset: number, candidates: number): boolean {
    for (let c = 0; c < candidates; c++) if (!(scores[offset + c]! > scores[offset + c + 1]!)) return false;
    return true;
  }

  /**
   * Scores the step on the host from the logits of this article's beam rows (`logits[rowOffset ..]`).
   * `oneRow`: the first step ran the article's beams, all identical then, as the single row at
   * `rowOffset` (static batches do); its log-probs stand for every beam.
   */
  candidatesFromLogits(logits: Float32Array, rowOffset: number, oneRow = false): Candidates {
    const { numBeams, vocab } = this;
    if (this.scoreBuffer.length < numBeams * vocab) this.scoreBuffer = new Float32Array(numBeams * vocab);
    const scores = this.scoreBuffer;
    for (let j = 0; j < numBeams; j++) logSoftmaxRow(logits, (rowOffset + (oneRow ? 0 : j)) * vocab, vocab, scores, j * vocab);
    applyLogitsProcessors(this.processors, this.history(), scores, vocab);
    return topkOfRowSums(scores, 0, vocab, this.runningScores, this.candidates);
  }

  /**
   * One step from this article's best candidates: the next running beams, the finished set, the stopping
   * test. Returns, for each new beam, the beam whose cache row it continues.
   */
  advance(top: Candidates): Int32Array {
    const { numBeams, vocab, config } = this;
    const { maxLength, lengthPenalty, earlyStopping, eosTokenIds: eos } = config;
    const promptLength = config.decoderPromptLength;
    const curLen = this.curLen;
    const denominator = (curLen + 1 - promptLength) ** lengthPenalty;
    let everyCandidateHit = true;
    for (let c = 0; c < this.candidates; c++) {
      const index = top.indices[c]!;
      const token = index % vocab;
      this.candBeam[c] = (index - token) / vocab;
      this.candToken[c] = token;
      this.candScore[c] = top.values[c]!;
      const hit = curLen + 1 >= maxLength || eos.includes(token);
      this.candHit[c] = hit ? 1 : 0;
      if (!hit) everyCandidateHit = false;
      this.candRunning[c] = hit ? addMask(this.candScore[c]!) : this.candScore[c]!;
    }

    // Next running beams: the best num_beams candidates that did not just finish.
    const sources = new Int32Array(numBeams);
    const nextRunning = topk(this.candRunning, numBeams);
    for (let j = 0; j < numBeams; j++) {
      const c = nextRunning.indices[j]!;
      this.runningNext.copyRowFrom(this.running, this.candBeam[c]!, j);
      this.runningNext.set(j, curLen, this.candToken[c]!);
      this.runningScores[j] = this.candRunning[c]!;
      sources[j] = this.candBeam[c]!;
    }

    // Finished hypotheses: the old set merged with candidates that just finished, the best kept.
    const closed = earlyStopping === true && this.allDone();
    for (let c = 0; c < this.candidates; c++) {
      let score = divideF32(this.candScore[c]!, denominator);
      if (closed) score = addMask(score);
      if (!this.improvable) score = addMask(score);
      if (!(this.candHit[c] === 1 && c < numBeams)) score = addMask(score);
      this.candFinished[c] = score;
    }
    this.merged.set(this.finishedScores, 0);
    this.merged.set(this.candFinished, numBeams);
    const best = topk(this.merged, numBeams);
    const keptScores = new Float32Array(numBeams);
    const keptDone = new Uint8Array(numBeams);
    const keptLength = new Int32Array(numBeams);
    for (let j = 0; j < numBeams; j++) {
      const m = best.indices[j]!;
      keptScores[j] = this.merged[m]!;
      if (m < numBeams) {
        this.finishedNext.copyRowFrom(this.finished, m, j);
        keptDone[j] = this.finishedDone[m]!;
        keptLength[j] = this.finishedLength[m]!;
      } else {
        const c = m - numBeams;
        this.finishedNext.copyRowFrom(this.running, this.candBeam[c]!, j);
        this.finishedNext.set(j, curLen, this.candToken[c]!);
        keptDone[j] = this.candHit[c] === 1 && c < numBeams ? 1 : 0;
        keptLength[j] = curLen + 1 - promptLength;
      }
    }
    this.finishedScores.set(keptScores);
    this.finishedDone.set(keptDone);
    this.finishedLength.set(keptLength);
    [this.running, this.runningNext] = [this.runningNext, this.running];
    [this.finished, this.finishedNext] = [this.finishedNext, this.finished];

    // Stopping, as HF decides it for a batch of this article alone.
    this.curLen = curLen + 1;
    this.steps++;
    const hypotheticalLength =
      earlyStopping === "never" && lengthPenalty > 0 ? maxLength - promptLength : this.curLen - promptLength;
    const bestPossible = divideF32(this.runningScores[0]!, hypotheticalLength ** lengthPenalty);
    let worst = Infinity;
    for (let j = 0; j < numBeams; j++) worst = Math.min(worst, this.finishedScores[j]!);
    let canImprove = false;
    for (let j = 0; j < numBeams; j++) if (bestPossible > (this.finishedDone[j] ? worst : MASK)) canImprove = true;
    if (!canImprove) this.improvable = false;
    const openBeamExists = !(this.allDone() && earlyStopping === true);
    this.done = !(this.improvable && openBeamExists && !everyCandidateHit);
    return sources;
  }

  /** The best `num_return_sequences` finished hypotheses, cut to the longest of them. */
  result(): ArticleResult {
    const numReturn = this.config.numReturnSequences;
    let longest = 0;
    for (let i = 0; i < numReturn; i++) longest = Math.max(longest, this.finishedLength[i]!);
    const length = this.config.decoderPromptLength + longest;
    const sequences: number[][] = [];
    const scores: number[] = [];
    for (let i = 0; i < numReturn; i++) {
      sequences.push(Array.from(this.finished.row(i, length)));
      scores.push(this.finishedScores[i]!);
    }
    return { sequences, scores };
  }

  private allDone(): boolean {
    for (let j = 0; j < this.numBeams; j++) if (!this.finishedDone[j]) return false;
    return true;
  }

  private history(): SelectedTokenRows {
    return new SelectedTokenRows(this.running, this.identityRows, this.curLen);
  }
}
