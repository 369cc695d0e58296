/**
 * Logits processors with the semantics of transformers 4.57 `generation/logits_process.py`, and the list
 * `generate()` builds from a generation config (`_get_logits_processor`), in HF's order.
 *
 * Processors edit a [rows, vocab] float32 score matrix in place. In beam search they see log-probabilities
 * (HF applies log_softmax first), in greedy search raw logits; the processors do not care. "Length"
 * everywhere is HF's `input_ids.shape[-1]`: tokens in the decoder so far, the decoder start token
 * included.
 *
 * Extra processors (the "hook for more") implement `LogitsProcessor` and are appended after the built-in
 * ones, as HF appends custom processors.
 */

import type { ResolvedGenerationConfig } from "./generation-config.js";

/** The token history of the rows being scored (HF's `input_ids`). */
export interface TokenRows {
  readonly count: number;
  /** Tokens in every row so far, decoder prompt included. */
  readonly length: number;
  /** Row `i`'s tokens (`length` of them). The view is only valid during the call. */
  row(i: number): Int32Array;
}

export interface LogitsProcessor {
  readonly name: string;
  /** Edits `scores` ([tokens.count, vocabSize], row-major) in place. */
  process(tokens: TokenRows, scores: Float32Array, vocabSize: number): void;
  /**
   * The same edit as a list of bans, for scoring inside the model: pushes (row, token) pairs whose score
   * `process` would set to -inf, and returns true; returns false when this step's edit is not only bans
   * (forced tokens, penalties), so the step needs the full scores. Absent: never expressible as bans.
   */
  bans?(tokens: TokenRows, vocabSize: number, out: number[]): boolean;
}

function banTokens(rows: number, vocabSize: number, ids: readonly number[], out: number[]): void {
  for (let r = 0; r < rows; r++) for (const id of ids) if (id >= 0 && id < vocabSize) out.push(r, id);
}

function maskTokens(scores: Float32Array, rows: number, vocabSize: number, ids: readonly number[]): void {
  for (let r = 0; r < rows; r++) {
    const base = r * vocabSize;
    for (const id of ids) if (id >= 0 && id < vocabSize) scores[base + id] = -Infinity;
  }
}

/** Every score -inf except `ids`, which become 0 (HF's forced-token processors). */
function forceTokens(scores: Float32Array, rows: number, vocabSize: number, ids: readonly number[]): void {
  scores.fill(-Infinity, 0, rows * vocabSize);
  for (let r = 0; r < rows; r++) for (const id of ids) scores[r * vocabSize + id] = 0;
}

/** `RepetitionPenaltyLogitsProcessor`: every token already in the row is made less likely. */
export class RepetitionPenaltyProcessor implements LogitsProcessor {
  readonly name = "repetition_penalty";
  private readonly penalty: number;

  constructor(penalty: number) {
    if (!(penalty > 0)) throw new RangeError(`repetition penalty must be > 0, got ${penalty}`);
    // torch casts the Python float to the float32 of the scores tensor before multiplying.
    this.penalty = Math.fround(penalty);
  }

  process(tokens: TokenRows, scores: Float32Array, vocabSize: number): void {
    const seen = new Set<number>();
    for (let r = 0; r < tokens.count; r++) {
      const base = r * vocabSize;
      seen.clear();
      // torch gathers all scores, penalises, then scatters: a token seen twice is penalised once.
      for (const id of tokens.row(r)) {
        if (seen.has(id)) continue;
        seen.add(id);
        const score = scores[base + id]!;
        scores[base + id] = score < 0 ? score * this.penalty : score / this.penalty;
      }
    }
  }
}

/**
 * `NoRepeatNGramLogitsProcessor`: a token that would complete an n-gram already present in the row gets
 * -inf. HF builds a dict of (n-1)-gram prefix -> next tokens over all n-grams of the row, then looks up
 * the row's last n-1 tokens; scanning the row for the prefix bans exactly the same set.
 */
export class NoRepeatNGramProcessor implements LogitsProcessor {
  readonly name = "no_repeat_ngram";

  constructor(readonly ngramSize: number) {
    if (!Number.isInteger(ngramSize) || ngramSize <= 0) {
      throw new RangeError(`no_repeat_ngram_size must be a positive integer, got ${ngramSize}`);
    }
  }

  process(tokens: TokenRows, scores: Float32Array, vocabSize: number): void {
    this.scan(tokens, (r, token) => {
      scores[r * vocabSize + token] = -Infinity;
    });
  }

  bans(tokens: TokenRows, _vocabSize: number, out: number[]): boolean {
    this.scan(tokens, (r, token) => out.push(r, token));
    return true;
  }

  private scan(tokens: TokenRows, ban: (row: number, token: number) => void): void {
    const n = this.ngramSize;
    const length = tokens.length;
    if (length + 1 < n) return;
    const prefixLength = n - 1;
    for (let r = 0; r < tokens.count; r++) {
      const row = tokens.row(r);
      const tail = length - prefixLength;
      for (let start = 0; start + n <= length; start++) {
        let matches = true;
        for (let j = 0; j < prefixLength; j++) {
          if (row[start + j] !== row[tail + j]) {
            matches = false;
            break;
          }
        }
        if (matches) ban(r, row[start + prefixLength]!);
      }
    }
  }
}

/**
 * Bans eos on every row while the rows are too short: HF's two minimum-length processors differ only in
 * what they count (all tokens, or those after the prompt), so each says only that.
 */
abstract class EosBanWhileShort implements LogitsProcessor {
  abstract readonly name: string;

  constructor(readonly eosTokenIds: readonly number[]) {}

  protected abstract tooShort(tokens: TokenRows): boolean;

  process(tokens: TokenRows, scores: Float32Array, vocabSize: number): void {
    if (this.tooShort(tokens)) maskTokens(scores, tokens.count, vocabSize, this.eosTokenIds);
  }

  bans(tokens: TokenRows, vocabSize: number, out: number[]): boolean {
    if (this.tooShort(tokens)) banTokens(tokens.count, vocabSize, this.eosTokenIds, out);
    return true;
  }
}

/** `MinLengthLogitsProcessor`: no eos while the row is shorter than `minLength` (prompt included). */
export class MinLengthProcessor extends EosBanWhileShort {
  readonly name = "min_length";

  constructor(
    readonly minLength: number,
    eosTokenIds: readonly number[],
  ) {
    super(eosTokenIds);
  }

  protected tooShort(tokens: TokenRows): boolean {
    return tokens.length < this.minLength;
  }
}

/** `MinNewTokensLengthLogitsProcessor`: no eos before `minNewTokens` tokens follow the prompt. */
export class MinNewTokensProcessor extends EosBanWhileShort {
  readonly name = "min_new_tokens";

  constructor(
    readonly promptLength: number,
    readonly minNewTokens: number,
    eosTokenIds: readonly number[],
  ) {
    super(eosTokenIds);
  }

  protected tooShort(tokens: TokenRows): boolean {
    return tokens.length - this.promptLength < this.minNewTokens;
  }
}

/**
 * Forces `ids` (every other score -inf, theirs 0) at the one step where the rows hold `forcedLength`
 * tokens: HF's forced-BOS and forced-EOS processors differ only in that step and those tokens. Such a
 * step is not a list of bans; every other step has none.
 */
abstract class ForcedAtLength implements LogitsProcessor {
  abstract readonly name: string;

  constructor(
    private readonly forcedLength: number,
    private readonly forcedIds: readonly number[],
  ) {}

  process(tokens: TokenRows, scores: Float32Array, vocabSize: number): void {
    if (tokens.length === this.forcedLength) forceTokens(scores, tokens.count, vocabSize, this.forcedIds);
  }

  bans(tokens: TokenRows): boolean {
    return tokens.length !== this.forcedLength;
  }
}

/** `ForcedBOSTokenLogitsProcessor`: the first generated token (length 1) is forced. */
export class ForcedBosProcessor extends ForcedAtLength {
  readonly name = "forced_bos";

  constructor(readonly bosTokenId: number) {
    super(1, [bosTokenId]);
  }
}

/** `ForcedEOSTokenLogitsProcessor`: the token that reaches `maxLength` is forced to eos. */
export class ForcedEosProcessor extends ForcedAtLength {
  readonly name = "forced_eos";

  constructor(
    readonly maxLength: number,
    readonly eosTokenIds: readonly number[],
  ) {
    super(maxLength - 1, eosTokenIds);
  }
}

/** `SuppressTokensLogitsProcessor`: these tokens are never generated. */
export class SuppressTokensProcessor implements LogitsProcessor {
  readonly name = "suppress_tokens";

  constructor(readonly tokenIds: readonly number[]) {}

  process(tokens: TokenRows, scores: Float32Array, vocabSize: number): void {
    maskTokens(scores, tokens.count, vocabSize, this.tokenIds);
  }

  bans(tokens: TokenRows, vocabSize: number, out: number[]): boolean {
    banTokens(tokens.count, vocabSize, this.tokenIds, out);
    return true;
  }
}

/** `SuppressTokensAtBeginLogitsProcessor`: these tokens are not generated at length `beginIndex`. */
export class SuppressTokensAtBeginProcessor implements LogitsProcessor {
  readonly name = "begin_suppress_tokens";

  constructor(
    readonly tokenIds: readonly number[],
    readonly beginIndex: number,
  ) {}

  process(tokens: TokenRows, scores: Float32Array, vocabSize: number): void {
    if (tokens.length === this.beginIndex) maskTokens(scores, tokens.count, vocabSize, this.tokenIds);
  }

  bans(tokens: TokenRows, vocabSize: number, out: number[]): boolean {
    if (tokens.length === this.beginIndex) banTokens(tokens.count, vocabSize, this.tokenIds, out);
    return true;
  }
}

/** The processors HF's `generate()` would build for `config`, in its order, then `extra`. */
export function buildLogitsProcessors(
  config: ResolvedGenerationConfig,
  extra: readonly LogitsProcessor[] = [],
): LogitsProcessor[] {
  const list: LogitsProcessor[] = [];
  const eos = config.eosTokenIds;
  if (config.repetitionPenalty !== 1.0) list.push(new RepetitionPenaltyProcessor(config.repetitionPenalty));
  if (config.noRepeatNgramSize > 0) list.push(new NoRepeatNGramProcessor(config.noRepeatNgramSize));
  if (config.minLength > 0 && eos.length > 0) list.push(new MinLengthProcessor(config.minLength, eos));
  if (config.minNewTokens !== null && config.minNewTokens > 0 && eos.length > 0) {
    list.push(new MinNewTokensProcessor(config.decoderPromptLength, config.minNewTokens, eos));
  }
  if (config.forcedBosTokenId !== null) list.push(new ForcedBosProcessor(config.forcedBosTokenId));
  if (config.forcedEosTokenIds !== null) {
    list.push(new ForcedEosProcessor(config.maxLength, config.forcedEosTokenIds));
  }
  if (config.suppressTokens !== null) list.push(new SuppressTokensProcessor(config.suppressTokens));
  if (config.beginSuppressTokens !== null) {
    const prompt = config.decoderPromptLength;
    const beginIndex = prompt > 1 || config.forcedBosTokenId === null ? prompt : prompt + 1;
    list.push(new SuppressTokensAtBeginProcessor(config.beginSuppressTokens, beginIndex));
  }
  list.push(...extra);
  return list;
}

/**
 * All processors' bans for this step into `out`; false when some processor's edit this step is more
 * than bans (the step must then be scored in full).
 */
export function collectBans(processors: readonly LogitsProcessor[], tokens: TokenRows, vocabSize: number, out: number[]): boolean {
  out.length = 0;
  for (const processor of processors) {
    if (!processor.bans || !processor.bans(tokens, vocabSize, out)) return false;
  }
  return true;
}

export function applyLogitsProcessors(
  processors: readonly LogitsProcessor[],
  tokens: TokenRows,
  scores: Float32Array,
  vocabSize: number,
): void {
  for (const processor of processors) processor.process(tokens, scores, vocabSize);
}
