/**
 * Greedy search with the semantics of transformers 4.57 `GenerationMixin._sample` (do_sample=False):
 * processors run on the raw float32 logits (no log_softmax), the next token is torch.argmax (first
 * maximum), a row that produced eos (or reached max_length) is finished and from then on receives
 * `pad_token_id`, and the loop stops when every row is finished. All rows come back with the same
 * length.
 *
 * With `dropFinished` (default) finished rows leave the decoder batch; they would only be fed pad tokens
 * whose logits are thrown away, so the output is the same.
 */

import type { ResolvedGenerationConfig } from "./generation-config.js";
import { applyLogitsProcessors, type LogitsProcessor } from "./logits-processors.js";
import type { SearchOptions, SearchResult } from "./beam-search.js";
import { isIdentityRowSelection, type DecoderState, type Seq2SeqModel } from "./seq2seq-model.js";
import { SelectedTokenRows, TokenMatrix } from "./token-history.js";
import { argmax } from "./torch-topk.js";

export async function greedySearch<S extends DecoderState>(
  model: Seq2SeqModel<S>,
  state: S,
  config: ResolvedGenerationConfig,
  processors: readonly LogitsProcessor[],
  batchSize: number,
  options: SearchOptions = {},
): Promise<SearchResult> {
  const dropFinished = options.dropFinished ?? true;
  const maxLength = config.maxLength;
  const promptLength = config.decoderPromptLength;
  const vocab = model.vocabSize;
  const eos = config.eosTokenIds;
  // With eos, HF always has a pad token (it falls back to eos[0]); without eos no row finishes early.
  const pad = config.padTokenId ?? 0;

  const sequences = new TokenMatrix(batchSize, maxLength, pad);
  for (let b = 0; b < batchSize; b++) sequences.set(b, 0, config.decoderStartTokenId);
  const unfinished = new Uint8Array(batchSize).fill(1);
  /** Articles in the decoder batch; active[r] is decoder row r. */
  let active = Int32Array.from({ length: batchSize }, (_, b) => b);
  let curLen = promptLength;

  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error("generation aborted");
    const rows = active.length;
    const width = curLen === promptLength ? promptLength : 1;
    const tokens = new Int32Array(rows * width);
    for (let r = 0; r < rows; r++) {
      if (width === 1) tokens[r] = sequences.get(active[r]!, curLen - 1);
      else tokens.set(sequences.row(active[r]!, width), r * width);
    }
    const scores = await model.decode(state, tokens, width);
    applyLogitsProcessors(processors, new SelectedTokenRows(sequences, active, curLen), scores, vocab);

    for (let r = 0; r < rows; r++) {
      const b = active[r]!;
      const next = argmax(scores, r * vocab, (r + 1) * vocab) - r * vocab;
      sequences.set(b, curLen, eos.length > 0 && !unfinished[b] ? pad : next);
    }
    // Rows dropped from the batch already hold pad here: the matrix starts pad-filled.
    curLen += 1;
    let anyUnfinished = false;
    for (let b = 0; b < batchSize; b++) {
      if (unfinished[b] && (curLen >= maxLength || eos.includes(sequences.get(b, curLen - 1)))) unfinished[b] = 0;
      if (unfinished[b]) anyUnfinished = true;
    }
    if (!anyUnfinished) break;

    if (dropFinished) {
      const keep = active.filter((b) => unfinished[b] === 1);
      const source = new Int32Array(keep.length);
      for (let k = 0, r = 0; r < rows; r++) if (unfinished[active[r]!]) source[k++] = r;
      if (!isIdentityRowSelection(source, rows)) model.selectRows(state, source);
      active = keep;
    }
  }

  const result: number[][] = [];
  for (let b = 0; b < batchSize; b++) result.push(Array.from(sequences.row(b, curLen)));
  return { sequences: result };
}
