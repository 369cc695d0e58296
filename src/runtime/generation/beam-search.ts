/**
 * Beam search with the exact semantics of transformers 4.57 `GenerationMixin._beam_search` (the
 * vectorised rewrite), per article, in float32 like torch:
 *
 *   per step: log_softmax(logits) -> logits processors -> + running beam score
 *     -> top K = max(2, 1 + #eos) * num_beams over num_beams * vocab   (`_get_top_k_continuations`)
 *     -> candidates that hit eos or max_length get -1e9 for the running selection; top num_beams of
 *        the rest continue                                             (`_get_running_beams_for_next_iteration`)
 *     -> the first num_beams candidates that finished enter the finished set, scored
 *        logprob / (generated length ** length_penalty), unless the set is closed (early_stopping=True
 *        and full) or the heuristic says nothing can improve it     (`_update_finished_beams`)
 *     -> heuristic: can the best running beam still beat the worst finished one? The hypothetical
 *        length is max_length - prompt for early_stopping="never" with a positive length penalty,
 *        otherwise the current length                                   (`_check_early_stop_heuristic`)
 *   stop when no article can improve, or all finished with early_stopping=True, or every candidate hit
 *   a stopping criterion (max length)                                  (`_beam_search_has_unfinished_sequences`)
 *
 * "Generated length" counts tokens after the decoder prompt (the decoder start token is not counted).
 * torch.topk's tie order is reproduced (`torch-topk.ts`), and every float operation is rounded to float32
 * in torch's order, because masked candidates tie exactly (-1e9 absorbs small log-probs in float32).
 *
 * Efficiency, beyond HF:
 *   - the first step runs one decoder row per article: all beams of an article are identical then, and
 *     HF's extra beams only contribute -1e9-scored copies, which are reproduced from the one row;
 *   - an article whose finished set can no longer change is dropped from the decoder batch
 *     (`dropFinished`). That is exact: its hypotheses are frozen, and the loop's stopping rule only
 *     depends on frozen articles through values that stay frozen.
 */

import type { ResolvedGenerationConfig } from "./generation-config.js";
import { applyLogitsProcessors, collectBans, type LogitsProcessor } from "./logits-processors.js";
import { logSoftmaxRow } from "./log-softmax.js";
import { isIdentityRowSelection, supportsTopK, type DecoderState, type Seq2SeqModel } from "./seq2seq-model.js";
import { SelectedTokenRows, TokenMatrix } from "./token-history.js";
import { topk, topkOfRowSums } from "./torch-topk.js";

export interface SearchOptions {
  /** Drop finished articles from the decoder batch (exact; fewer rows per step). Default true. */
  dropFinished?: boolean;
  /** Checked between decoder steps. */
  signal?: AbortSignal;
  /** Let a `TopKSeq2SeqModel` score candidates (default true); false always scores on the host. */
  scoreInModel?: boolean;
  /** Counts of how steps were scored, filled in when given. */
  stats?: SearchStats;
}

export interface SearchStats {
  /** Steps whose candidates came from the model's top-K. */
  modelScoredSteps: number;
  /** Of those, steps with a tie at the top-K boundary, scored again in full on the host. */
  replayedSteps: number;
  /** Steps scored on the host from the start (first step, forced tokens, non-ban processors). */
  hostScoredSteps: number;
}

/**
 * Are the first `k + 1` candidate scores of every article strictly decreasing? Then the top `k` and
 * their order are the same under any tie rule; otherwise torch's tie order has to be applied on the
 * full scores.
 */
function ordersWithoutTies(scores: Float32Array, articles: number, k: number): boolean {
  for (let a = 0; a < articles; a++) {
    const base = a * (k + 1);
    for (let c = 0; c < k; c++) if (!(scores[base + c]! > scores[base + c + 1]!)) return false;
  }
  return true;
}

export interface SearchResult {
  /** [batch * num_return_sequences] rows, all the same length (HF pads them with the fill token). */
  sequences: number[][];
  /** HF `sequences_scores` (beam search only): length-penalised sum of log-probs per returned row. */
  sequencesScores?: number[];
}

const MASK = -1.0e9;

/** torch: `float32_tensor / python_float` divides by the float rounded to float32. */
function divideF32(value: number, divisor: number): number {
  return Math.fround(value / Math.fround(divisor));
}

function addMask(value: number): number {
  return Math.fround(value + MASK);
}

export async function beamSearch<S extends DecoderState>(
  model: Seq2SeqModel<S>,
  state: S,
  config: ResolvedGenerationConfig,
  processors: readonly LogitsProcessor[],
  batchSize: number,
  options: SearchOptions = {},
): Promise<SearchResult> {
  const dropFinished = options.dropFinished ?? true;
  const numBeams = config.numBeams;
  const maxLength = config.maxLength;
  const promptLength = config.decoderPromptLength;
  const vocab = model.vocabSize;
  const eos = config.eosTokenIds;
  const lengthPenalty = config.lengthPenalty;
  const earlyStopping = config.earlyStopping;
  const beamsToKeep = Math.max(2, 1 + eos.length) * numBeams;
  if (beamsToKeep > numBeams * vocab) throw new RangeError("vocabulary too small for this many beams");
  const totalBeams = batchSize * numBeams;

  // HF's static tensors: running and finished hypotheses, [batch * num_beams, max_length].
  let running = new TokenMatrix(totalBeams, maxLength, config.beamFillTokenId);
  let runningNext = new TokenMatrix(totalBeams, maxLength, config.beamFillTokenId);
  let finished = new TokenMatrix(totalBeams, maxLength, config.beamFillTokenId);
  let finishedNext = new TokenMatrix(totalBeams, maxLength, config.beamFillTokenId);
  for (let r = 0; r < totalBeams; r++) running.set(r, 0, config.decoderStartTokenId);
  finished.data.set(running.data);

  const runningScores = new Float32Array(totalBeams);
  for (let b = 0; b < batchSize; b++) runningScores.fill(MASK, b * numBeams + 1, (b + 1) * numBeams);
  const finishedScores = new Float32Array(totalBeams).fill(MASK);
  const finishedDone = new Uint8Array(totalBeams);
  /** Tokens after the prompt in each finished slot (HF: count of beam_indices != -1). */
  const finishedLength = new Int32Array(totalBeams);
  const improvable = new Uint8Array(batchSize).fill(1);

  // Articles still in the decoder batch; after the first step, article active[a]'s beam j is row a*numBeams+j.
  let active = Int32Array.from({ length: batchSize }, (_, b) => b);
  let firstStep = true;
  let curLen = promptLength;

  const topKModel = supportsTopK(model) && options.scoreInModel !== false ? model : null;
  // Host scores only when the model cannot score: 50,264 floats per beam is the biggest buffer here.
  let scoreBuffer = new Float32Array(topKModel ? 0 : totalBeams * vocab);
  const stepBeamScores = new Float32Array(totalBeams);
  const bans: number[] = [];
  const stats = options.stats ?? { modelScoredSteps: 0, replayedSteps: 0, hostScoredSteps: 0 };
  const candBeam = new Int32Array(beamsToKeep);
  const candToken = new Int32Array(beamsToKeep);
  const candScore = new Float32Array(beamsToKeep);
  const candHit = new Uint8Array(beamsToKeep);
  const candRunning = new Float32Array(beamsToKeep);
  const candFinished = new Float32Array(beamsToKeep);
  const merged = new Float32Array(numBeams + beamsToKeep);
  const isEos = (token: number): boolean => eos.includes(token);
  const allDone = (b: number): boolean => {
    for (let j = 0; j < numBeams; j++) if (!finishedDone[b * numBeams + j]) return false;
    return true;
  };
  /** Can nothing change this article's finished set any more? (see header: exactness of dropping) */
  const isFrozen = (b: number): boolean => {
    if (!allDone(b)) return false;
    for (let j = 0; j < numBeams; j++) if (!(finishedScores[b * numBeams + j]! > MASK)) return false;
    return improvable[b] === 0 || earlyStopping === true;
  };

  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error("generation aborted");
    const activeCount = active.length;

    // a. Decoder step: the prompt on the first step, each running beam's last token afterwards.
    let tokens: Int32Array;
    let width: number;
    if (firstStep) {
      width = promptLength;
      tokens = new Int32Array(activeCount * width);
      for (let a = 0; a < activeCount; a++) tokens.set(running.row(active[a]! * numBeams, width), a * width);
    } else {
      width = 1;
      tokens = new Int32Array(activeCount * numBeams);
      for (let a = 0; a < activeCount; a++) {
        for (let j = 0; j < numBeams; j++) {
          tokens[a * numBeams + j] = running.get(active[a]! * numBeams + j, curLen - 1);
        }
      }
    }
    // b. Scores. In the model when it can (top-K of log_softmax + bans + beam scores per article);
    // on the host otherwise: log_softmax, then processors over all live beams ([activeCount * numBeams, vocab]).
    const beamRows = new Int32Array(activeCount * numBeams);
    for (let a = 0; a < activeCount; a++) {
      for (let j = 0; j < numBeams; j++) beamRows[a * numBeams + j] = active[a]! * numBeams + j;
    }
    const history = new SelectedTokenRows(running, beamRows, curLen);
    let modelTop: { scores: Float32Array; indices: Int32Array } | null = null;
    let logits: Float32Array;
    if (topKModel && !firstStep && collectBans(processors, history, vocab, bans)) {
      for (let i = 0; i < beamRows.length; i++) stepBeamScores[i] = runningScores[beamRows[i]!]!;
      const top = await topKModel.decodeTopK(state, tokens, { beamScores: stepBeamScores, bans, k: beamsToKeep + 1 });
      if (ordersWithoutTies(top.scores, activeCount, beamsToKeep)) modelTop = top;
      else {
        logits = await topKModel.replayLogits(state);
        stats.replayedSteps++;
      }
      stats.modelScoredSteps++;
    } else {
      logits = await model.decode(state, tokens, width);
      stats.hostScoredSteps++;
    }
    // One [batch * num_beams, vocab] buffer for the whole search; later steps use a prefix of it.
    if (!modelTop && scoreBuffer.length < activeCount * numBeams * vocab) scoreBuffer = new Float32Array(totalBeams * vocab);
    const scores = scoreBuffer.subarray(0, modelTop ? 0 : activeCount * numBeams * vocab);
    if (!modelTop) {
      for (let a = 0; a < activeCount; a++) {
        for (let j = 0; j < numBeams; j++) {
          const flat = a * numBeams + j;
          const logitsRow = firstStep ? a : flat;
          logSoftmaxRow(logits!, logitsRow * vocab, vocab, scores, flat * vocab);
        }
      }
      applyLogitsProcessors(processors, history, scores, vocab);
    }

    // c-f. Per article: top-K continuations, next running beams, finished set update.
    const sourceRows = new Int32Array(activeCount * numBeams);
    let everyCandidateHit = true;
    const denominator = (curLen + 1 - promptLength) ** lengthPenalty;
    for (let a = 0; a < activeCount; a++) {
      const b = active[a]!;
      const beamBase = b * numBeams;
      const scoreBase = a * numBeams * vocab;
      // log-probs + running beam scores over beams x vocab, summed while selecting.
      const top = modelTop
        ? { values: modelTop.scores.subarray(a * (beamsToKeep + 1)), indices: modelTop.indices.subarray(a * (beamsToKeep + 1)) }
        : topkOfRowSums(scores, scoreBase, vocab, runningScores.subarray(beamBase, beamBase + numBeams), beamsToKeep);
      for (let c = 0; c < beamsToKeep; c++) {
        const index = top.indices[c]!;
        const token = index % vocab;
        candBeam[c] = (index - token) / vocab;
        candToken[c] = token;
        candScore[c] = top.values[c]!;
        const hit = curLen + 1 >= maxLength || isEos(token);
        candHit[c] = hit ? 1 : 0;
        if (!hit) everyCandidateHit = false;
        candRunning[c] = hit ? addMask(candScore[c]!) : candScore[c]!;
      }

      // e. Next running beams: the best num_beams candidates that did not just finish.
      const nextRunning = topk(candRunning, numBeams);
      for (let j = 0; j < numBeams; j++) {
        const c = nextRunning.indices[j]!;
        const from = beamBase + candBeam[c]!;
        runningNext.copyRowFrom(running, from, beamBase + j);
        runningNext.set(beamBase + j, curLen, candToken[c]!);
        runningScores[beamBase + j] = candRunning[c]!;
        sourceRows[a * numBeams + j] = firstStep ? a : a * numBeams + candBeam[c]!;
      }

      // f. Finished hypotheses: merge the old set with candidates that just finished, keep the best.
      const closed = earlyStopping === true && allDone(b);
      for (let c = 0; c < beamsToKeep; c++) {
        let score = divideF32(candScore[c]!, denominator);
        if (closed) score = addMask(score);
        if (!improvable[b]) score = addMask(score);
        const justFinished = candHit[c] === 1 && c < numBeams;
        if (!justFinished) score = addMask(score);
        candFinished[c] = score;
      }
      merged.set(finishedScores.subarray(beamBase, beamBase + numBeams), 0);
      merged.set(candFinished, numBeams);
      const best = topk(merged, numBeams);
      const keptScores = new Float32Array(numBeams);
      const keptDone = new Uint8Array(numBeams);
      const keptLength = new Int32Array(numBeams);
      for (let j = 0; j < numBeams; j++) {
        const m = best.indices[j]!;
        keptScores[j] = merged[m]!;
        if (m < numBeams) {
          finishedNext.copyRowFrom(finished, beamBase + m, beamBase + j);
          keptDone[j] = finishedDone[beamBase + m]!;
          keptLength[j] = finishedLength[beamBase + m]!;
        } else {
          const c = m - numBeams;
          finishedNext.copyRowFrom(running, beamBase + candBeam[c]!, beamBase + j);
          finishedNext.set(beamBase + j, curLen, candToken[c]!);
          keptDone[j] = candHit[c] === 1 && c < numBeams ? 1 : 0;
          keptLength[j] = curLen + 1 - promptLength;
        }
      }
      finishedScores.set(keptScores, beamBase);
      finishedDone.set(keptDone, beamBase);
      finishedLength.set(keptLength, beamBase);
    }
    // Rows of dropped articles were never touched this step: carry them over unchanged.
    for (let b = 0, a = 0; b < batchSize; b++) {
      if (a < activeCount && active[a] === b) {
        a++;
        continue;
      }
      const start = b * numBeams * maxLength;
      const end = start + numBeams * maxLength;
      runningNext.data.set(running.data.subarray(start, end), start);
      finishedNext.data.set(finished.data.subarray(start, end), start);
    }
    [running, runningNext] = [runningNext, running];
    [finished, finishedNext] = [finishedNext, finished];

    // g. Stopping.
    curLen += 1;
    const hypotheticalLength =
      earlyStopping === "never" && lengthPenalty > 0 ? maxLength - promptLength : curLen - promptLength;
    const hypotheticalDenominator = hypotheticalLength ** lengthPenalty;
    for (let a = 0; a < activeCount; a++) {
      const b = active[a]!;
      const beamBase = b * numBeams;
      const bestPossible = divideF32(runningScores[beamBase]!, hypotheticalDenominator);
      let worst = Infinity;
      for (let j = 0; j < numBeams; j++) worst = Math.min(worst, finishedScores[beamBase + j]!);
      let canImprove = false;
      for (let j = 0; j < numBeams; j++) {
        if (bestPossible > (finishedDone[beamBase + j] ? worst : MASK)) canImprove = true;
      }
      if (!canImprove) improvable[b] = 0;
    }
    let anyImprovable = false;
    let everyArticleDone = true;
    for (let b = 0; b < batchSize; b++) {
      if (improvable[b]) anyImprovable = true;
      if (!allDone(b)) everyArticleDone = false;
    }
    const openBeamExists = !(everyArticleDone && earlyStopping === true);
    if (!(anyImprovable && openBeamExists && !everyCandidateHit)) break;

    // Next decoder rows: surviving beams of articles that can still change.
    const keep = dropFinished ? active.filter((b) => !isFrozen(b)) : active;
    if (keep.length === 0) break;
    const nextSource = new Int32Array(keep.length * numBeams);
    for (let a = 0, k = 0; a < activeCount; a++) {
      if (keep[k] !== active[a]) continue;
      nextSource.set(sourceRows.subarray(a * numBeams, (a + 1) * numBeams), k * numBeams);
      k++;
    }
    if (!isIdentityRowSelection(nextSource, state.rows)) {
      model.selectRows(state, nextSource);
    }
    active = keep;
    firstStep = false;
  }

  // Output: the best num_return_sequences finished hypotheses per article, cut to the longest one.
  const numReturn = config.numReturnSequences;
  let longest = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let i = 0; i < numReturn; i++) longest = Math.max(longest, finishedLength[b * numBeams + i]!);
  }
  const outputLength = promptLength + longest;
  const sequences: number[][] = [];
  const sequencesScores: number[] = [];
  for (let b = 0; b < batchSize; b++) {
    for (let i = 0; i < numReturn; i++) {
      sequences.push(Array.from(finished.row(b * numBeams + i, outputLength)));
      sequencesScores.push(finishedScores[b * numBeams + i]!);
    }
  }
  return { sequences, sequencesScores };
}
