/**
 * The toy encoder-decoder of tools/python/gen_reference_extra.py, rebuilt in TypeScript (keep the two in
 * sync). Its logits are an integer hash of (article, decoder prefix) quantised to multiples of 0.25: exact
 * in float32 and full of ties, so comparing against HF's generate() on it tests the search algorithm
 * alone, free of neural-network rounding.
 */
import { logSoftmaxRow, type DecoderState, type GenerationOptions, type Seq2SeqModel, type TokenBatch, type TopKSeq2SeqModel, type TopKStep } from "../src/runtime/generation/index.js";

export interface ToyState extends DecoderState {
  rows: number;
  keys: number[];
  prefixes: number[][];
}

export function articleKey(ids: ArrayLike<number>, mask: ArrayLike<number>): number {
  let key = 0;
  for (let i = 0; i < ids.length; i++) if (mask[i]) key = (key * 31 + ids[i]! * (i + 1)) % 1009;
  return key;
}

export function toyLogitsRow(key: number, prefix: readonly number[], vocab: number, eosIds: readonly number[], q: number): Float32Array {
  const length = prefix.length;
  const last = prefix[length - 1]!;
  const prev = length >= 2 ? prefix[length - 2]! : 0;
  const out = new Float32Array(vocab);
  for (let v = 0; v < vocab; v++) {
    const h = (key * 131 + last * 31 + prev * 17 + length * 7 + v * 53 + ((v * v) % 13) * last) % 1021;
    out[v] = (h % q) * 0.25 - 2.0;
  }
  for (const e of eosIds) out[e] = out[e]! + ((key + length) % 5 === 0 ? 1.0 : -2.5);
  return out;
}

export class ToySeq2Seq implements Seq2SeqModel<ToyState> {
  /** Rows fed to each decode call, in order (to observe batching behaviour). */
  readonly decodedRows: number[] = [];
  readonly selections: Int32Array[] = [];
  released = 0;

  constructor(
    readonly vocabSize: number,
    readonly eosIds: readonly number[],
    readonly q: number,
    readonly maxPositionEmbeddings = 64,
    readonly generationDefaults: GenerationOptions = {},
  ) {}

  async encode(batch: TokenBatch): Promise<ToyState> {
    const keys: number[] = [];
    for (let r = 0; r < batch.rows; r++) {
      const start = r * batch.length;
      keys.push(articleKey(batch.ids.subarray(start, start + batch.length), batch.mask.subarray(start, start + batch.length)));
    }
    return { rows: batch.rows, keys, prefixes: keys.map(() => []) };
  }

  async decode(state: ToyState, tokens: Int32Array, width: number): Promise<Float32Array> {
    if (tokens.length !== state.rows * width) throw new Error(`decode: ${tokens.length} tokens for ${state.rows} rows`);
    this.decodedRows.push(state.rows);
    const logits = new Float32Array(state.rows * this.vocabSize);
    for (let r = 0; r < state.rows; r++) {
      const prefix = state.prefixes[r]!;
      for (let t = 0; t < width; t++) prefix.push(tokens[r * width + t]!);
      logits.set(toyLogitsRow(state.keys[r]!, prefix, this.vocabSize, this.eosIds, this.q), r * this.vocabSize);
    }
    return logits;
  }

  selectRows(state: ToyState, sourceRows: Int32Array): void {
    this.selections.push(sourceRows.slice());
    state.keys = Array.from(sourceRows, (s) => state.keys[s]!);
    state.prefixes = Array.from(sourceRows, (s) => [...state.prefixes[s]!]);
    state.rows = sourceRows.length;
  }

  release(): void {
    this.released++;
  }
}

/**
 * The toy model scoring beam candidates itself (`TopKSeq2SeqModel`), with ties broken the *opposite*
 * way of torch (higher index first). The toy's logits are full of exact ties, so beam search only
 * matches HF through this model if it notices every tie that matters and rescores those steps on the
 * host from `replayLogits`.
 */
export class ToyTopKSeq2Seq extends ToySeq2Seq implements TopKSeq2SeqModel<ToyState> {
  private lastLogits: Float32Array | null = null;
  /** Beams per article (the search's num_beams): rows are article-major. */
  beams = 1;
  /** Steps scored by `decodeTopK`, and how many of them were replayed. */
  topKSteps = 0;
  replays = 0;

  async decodeTopK(state: ToyState, tokens: Int32Array, step: TopKStep): Promise<{ scores: Float32Array; indices: Int32Array }> {
    const vocab = this.vocabSize;
    const logits = await this.decode(state, tokens, 1);
    this.lastLogits = logits;
    this.topKSteps++;
    const scores = new Float32Array(logits.length);
    for (let r = 0; r < state.rows; r++) logSoftmaxRow(logits, r * vocab, vocab, scores, r * vocab);
    for (let i = 0; i < step.bans.length; i += 2) scores[step.bans[i]! * vocab + step.bans[i + 1]!] = -Infinity;
    const beams = this.beams;
    const articles = state.rows / beams;
    const outScores = new Float32Array(articles * step.k);
    const outIndices = new Int32Array(articles * step.k);
    for (let a = 0; a < articles; a++) {
      const candidates: { score: number; index: number }[] = [];
      for (let j = 0; j < beams; j++) {
        const row = a * beams + j;
        for (let v = 0; v < vocab; v++) candidates.push({ score: Math.fround(scores[row * vocab + v]! + step.beamScores[row]!), index: j * vocab + v });
      }
      candidates.sort((x, y) => y.score - x.score || y.index - x.index);
      for (let c = 0; c < step.k; c++) {
        outScores[a * step.k + c] = candidates[c]!.score;
        outIndices[a * step.k + c] = candidates[c]!.index;
      }
    }
    return { scores: outScores, indices: outIndices };
  }

  async replayLogits(): Promise<Float32Array> {
    this.replays++;
    return this.lastLogits!;
  }
}
