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
 * Each article is searched by its own `ArticleBeams` (article-beams.ts holds these rules, for the static
 * batches here and for the running batch alike): HF's batched search treats every article on its own,
 * and stops the batch once every article would stop.
 *
 * Efficiency, beyond HF:
 *   - the first step runs one decoder row per article: all beams of an article are identical then, and
 *     HF's extra beams only contribute -1e9-scored copies, which are reproduced from the one row;
 *   - an article whose search is done leaves the decoder batch (`dropFinished`). That is exact: the
 *     steps HF would still run for it cannot change its finished hypotheses.
 */

import { ArticleBeams } from "./article-beams.js";
import type { ResolvedGenerationConfig } from "./generation-config.js";
import type { LogitsProcessor } from "./logits-processors.js";
import { isIdentityRowSelection, supportsTopK, type DecoderState, type Seq2SeqModel } from "./seq2seq-model.js";

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

export interface SearchResult {
  /** [batch * num_return_sequences] rows, all the same length (HF pads them with the fill token). */
  sequences: number[][];
  /** HF `sequences_scores` (beam search only): length-penalised sum of log-probs per returned row. */
  sequencesScores?: number[];
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
  const searches = Array.from({ length: batchSize }, () => new ArticleBeams(config, processors, model.vocabSize));
  const candidates = searches[0]?.candidates ?? 0;
  const k = candidates + 1;
  const topKModel = supportsTopK(model) && options.scoreInModel !== false ? model : null;
  const stats = options.stats ?? { modelScoredSteps: 0, replayedSteps: 0, hostScoredSteps: 0 };
  const articleBans: number[] = [];

  // Articles in the decoder batch: article active[a] has row a on the first step, rows a*numBeams+j after.
  let active = Array.from({ length: batchSize }, (_, b) => b);
  let firstStep = true;
  while (active.length > 0) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error("generation aborted");
    const rowsPerArticle = firstStep ? 1 : numBeams;
    const tokens = new Int32Array(active.length * rowsPerArticle);
    if (firstStep) tokens.fill(config.decoderStartTokenId);
    else active.forEach((b, a) => searches[b]!.stepTokens(tokens, a * numBeams));

    // Scores: in the model when every article's step can be (top-K of log_softmax + bans + beam
    // scores), on the host from the full logits otherwise (the first step, forced tokens, a tie).
    let bans: number[] | null = topKModel && !firstStep ? [] : null;
    for (let a = 0; bans && a < active.length; a++) {
      if (!searches[active[a]!]!.modelBans(articleBans)) bans = null;
      else for (let i = 0; i < articleBans.length; i += 2) bans.push(a * numBeams + articleBans[i]!, articleBans[i + 1]!);
    }
    let top: { scores: Float32Array; indices: Int32Array } | null = null;
    let logits: Float32Array | null = null;
    if (topKModel && bans) {
      const beamScores = new Float32Array(active.length * numBeams);
      active.forEach((b, a) => beamScores.set(searches[b]!.runningScores, a * numBeams));
      const out = await topKModel.decodeTopK(state, tokens, { beamScores, bans, k });
      stats.modelScoredSteps++;
      if (active.every((_, a) => ArticleBeams.orderedWithoutTies(out.scores, a * k, candidates))) top = out;
      else {
        logits = await topKModel.replayLogits(state);
        stats.replayedSteps++;
      }
    } else {
      logits = await model.decode(state, tokens, 1);
      stats.hostScoredSteps++;
    }

    // Each article's step; one that is done leaves the decoder batch (exact: see article-beams.ts).
    const kept: number[] = [];
    const sourceRows: number[] = [];
    active.forEach((b, a) => {
      const search = searches[b]!;
      const sources = search.advance(
        top
          ? { values: top.scores.subarray(a * k, a * k + candidates), indices: top.indices.subarray(a * k, a * k + candidates) }
          : search.candidatesFromLogits(logits!, a * rowsPerArticle, firstStep),
      );
      if (search.done && dropFinished) return;
      kept.push(b);
      for (const source of sources) sourceRows.push(firstStep ? a : a * numBeams + source);
    });
    // HF stops a batch once every article would stop on its own.
    if (active.every((b) => searches[b]!.done)) break;
    const selection = Int32Array.from(sourceRows);
    if (!isIdentityRowSelection(selection, state.rows)) model.selectRows(state, selection);
    active = kept;
    firstStep = false;
  }

  // Output: every article's best hypotheses, padded to the batch's longest as HF returns them.
  const results = searches.map((search) => search.result());
  let length = 0;
  for (const result of results) for (const sequence of result.sequences) length = Math.max(length, sequence.length);
  const sequences: number[][] = [];
  const sequencesScores: number[] = [];
  for (const result of results) {
    for (const sequence of result.sequences) sequences.push([...sequence, ...new Array<number>(length - sequence.length).fill(config.beamFillTokenId)]);
    sequencesScores.push(...result.scores);
  }
  return { sequences, sequencesScores };
}
