/**
 * One decoder step on the compiled step graph: the feeds built from the batch's state (tokens and beam
 * scores in cache-slot order, position ids, masks, the cross-attention groups and the self-attention
 * cache read in place), the graph run, its new keys/values handed to the cache manager.
 *
 * The step graph ends in the beam-search head (log-softmax, processor bans, beam scores, top-K per
 * article), so a normal step hands back 2K numbers per article instead of 50,264 logits per row. Steps
 * that need the full scores (forced tokens, ties at the top-K boundary) fetch the logits.
 */

import ort from "onnxruntime-node";
import { releaseNow } from "../memory/release-now.js";
import type { TopKStep } from "../generation/seq2seq-model.js";
import { CompiledBartError, type CompiledBartState, type DecoderShape } from "./compiled-bart-state.js";
import { TOKEN_EMBEDDINGS_INPUT } from "./compiler/token-table-location.js";
import type { KvCacheManager } from "./kv-cache-manager.js";
import type { PhaseSessions } from "./phase-sessions.js";
import type { OnnxSession } from "./session.js";
import type { TokenTable } from "./token-table.js";

/** BART's learned positions start at 2 (`BartLearnedPositionalEmbedding.offset`). */
const POSITION_OFFSET = 2;

export class CompiledBartStep {
  /** Zeros, [rows, vocab]: the processor-bias input, with bans written in and taken out around a step. */
  private bias = new Float32Array(0);
  private readonly topK = new BigInt64Array(1);
  /** A step's input tokens and beam scores in slot order. */
  private slotTokens = new Int32Array(0);
  private slotScores = new Float32Array(0);

  constructor(
    /** The step graph; opened again on use after the model closed it. */
    private readonly sessions: PhaseSessions,
    /** Where the input tokens' embedding rows are read from (the graph has no token table). */
    private readonly table: TokenTable,
    private readonly shape: DecoderShape,
    private readonly vocabSize: number,
    private readonly cache: KvCacheManager,
  ) {}

  /** Logits path (`Seq2SeqModel`): every prompt position is fed in turn; the last one's logits come back. */
  async decode(state: CompiledBartState, tokens: Int32Array, width: number): Promise<Float32Array> {
    const rows = state.rows;
    if (tokens.length !== rows * width) throw new CompiledBartError(`decode: ${tokens.length} tokens for ${rows} rows of ${width}`);
    let logits: Float32Array | null = null;
    const column = new Int32Array(rows);
    for (let c = 0; c < width; c++) {
      for (let r = 0; r < rows; r++) column[r] = tokens[r * width + c]!;
      const scores = new Float32Array(rows);
      const outputs = await this.run(state, column, scores, 1, ["logits", "new_kv"]);
      logits = outputs["logits"]!.data as Float32Array;
    }
    return this.inRowOrder(state, logits!);
  }

  async decodeTopK(state: CompiledBartState, tokens: Int32Array, step: TopKStep): Promise<{ scores: Float32Array; indices: Int32Array; logits?: Float32Array }> {
    if (tokens.length !== state.rows) throw new CompiledBartError(`decodeTopK: ${tokens.length} tokens for ${state.rows} rows`);
    const bans = step.bans;
    const vocab = this.vocabSize;
    this.ensureBias(state.rows);
    const slotOf = state.physical;
    for (let i = 0; i < bans.length; i += 2) this.bias[slotOf[bans[i]!]! * vocab + bans[i + 1]!] = -Infinity;
    let outputs: Record<string, ort.Tensor>;
    try {
      outputs = await this.run(state, tokens, step.beamScores, step.k, step.logits ? ["top_scores", "top_indices", "logits", "new_kv"] : ["top_scores", "top_indices", "new_kv"]);
    } finally {
      // Leave the bias zero for the next step; a replay of this step sets the same bans again.
      for (let i = 0; i < bans.length; i += 2) this.bias[slotOf[bans[i]!]! * vocab + bans[i + 1]!] = 0;
    }
    const indices64 = outputs["top_indices"]!.data as BigInt64Array;
    const indices = new Int32Array(indices64.length);
    // Candidates name a beam by its slot within the article: renamed to its row. (Equal scores can
    // come out in another order than in row order; the search checks for ties and replays those.)
    const beams = state.rows / state.articles;
    for (let i = 0; i < indices.length; i++) {
      const index = Number(indices64[i]!);
      const token = index % vocab;
      const article = Math.floor(i / step.k);
      const row = state.logical[article * beams + (index - token) / vocab]!;
      indices[i] = (row - article * beams) * vocab + token;
    }
    const scores = outputs["top_scores"]!.data as Float32Array;
    return step.logits ? { scores, indices, logits: this.inRowOrder(state, outputs["logits"]!.data as Float32Array) } : { scores, indices };
  }

  /**
   * The logits of the last step, recomputed from its own inputs. Its mask still masks the suffix slot the
   * step filled afterwards, so the same inputs give the same logits.
   */
  async replayLogits(state: CompiledBartState): Promise<Float32Array> {
    const feeds = state.lastFeeds;
    if (!feeds) throw new CompiledBartError("replayLogits: no step to replay");
    const outputs = await (await this.session()).run(feeds, ["logits"]);
    return this.inRowOrder(state, outputs["logits"]!.data as Float32Array);
  }

  close(): void {
    this.table.close();
  }

  /** [slots, vocab] logits of a step as [rows, vocab]. */
  private inRowOrder(state: CompiledBartState, logits: Float32Array): Float32Array {
    const { physical } = state;
    if (physical.every((slot, row) => slot === row)) return logits;
    const vocab = this.vocabSize;
    const ordered = new Float32Array(state.rows * vocab);
    for (let r = 0; r < state.rows; r++) ordered.set(logits.subarray(physical[r]! * vocab, (physical[r]! + 1) * vocab), r * vocab);
    return ordered;
  }

  private async session(): Promise<OnnxSession> {
    return (await this.sessions.open())[0]!;
  }

  private ensureBias(rows: number): void {
    if (this.bias.length < rows * this.vocabSize) this.bias = new Float32Array(rows * this.vocabSize);
  }

  /** One step: feeds from the state, new keys/values written into the cache, outputs returned. */
  private async run(
    state: CompiledBartState,
    tokens: Int32Array,
    beamScores: Float32Array,
    k: number,
    fetch: readonly string[],
  ): Promise<Record<string, ort.Tensor>> {
    const rows = state.rows;
    const { layers, heads, headDim, maxPositions } = this.shape;
    if (state.length.some((t) => t + 1 > maxPositions)) {
      throw new CompiledBartError(`decoder length would exceed max_position_embeddings ${maxPositions}; lower max_length`);
    }
    if (rows % state.articles !== 0) throw new CompiledBartError(`${rows} rows are not an equal number per article (${state.articles})`);
    // Feeds go in slot order.
    if (this.slotTokens.length < rows) {
      this.slotTokens = new Int32Array(rows);
      this.slotScores = new Float32Array(rows);
    }
    const slotTokens = this.slotTokens.subarray(0, rows);
    const slotScores = this.slotScores.subarray(0, rows);
    const positions = new BigInt64Array(rows);
    for (let slot = 0; slot < rows; slot++) {
      const row = state.logical[slot]!;
      slotTokens[slot] = tokens[row]!;
      slotScores[slot] = beamScores[row] ?? 0;
      positions[slot] = BigInt(state.length[state.article[slot]!]! + POSITION_OFFSET);
    }
    this.cache.prepareStep(state, slotTokens);
    this.ensureBias(rows);
    const perArticle = rows / state.articles;
    const P = state.prefix.capacity;
    const U = state.suffix.capacity;
    const width = P + U + 1;
    this.topK[0] = BigInt(k);
    const feeds: Record<string, ort.Tensor> = {
      [TOKEN_EMBEDDINGS_INPUT]: this.table.lookup(slotTokens, [rows, 1]),
      position_ids: new ort.Tensor("int64", positions, [rows]),
      self_mask: new ort.Tensor("float32", this.cache.selfMask(state), [rows, 1, 1, width]),
      beam_scores: new ort.Tensor("float32", slotScores, [state.articles, perArticle]),
      processor_bias: new ort.Tensor("float32", this.bias.subarray(0, rows * this.vocabSize), [rows, this.vocabSize]),
      top_k: new ort.Tensor("int64", this.topK, [1]),
    };
    state.groups.forEach((group, g) => {
      const S = group.sourceLength;
      const B = group.articles;
      feeds[`encoder_bias.${g}`] = new ort.Tensor("float32", group.encoderBias.subarray(0, B * S), [B, 1, 1, S]);
      const crossBlock = group.capacity * heads * S * headDim;
      const crossSize = B * heads * S * headDim;
      for (let l = 0; l < layers; l++) {
        const keyStart = 2 * l * crossBlock;
        const valueStart = (2 * l + 1) * crossBlock;
        feeds[`cross_key.${g}.${l}`] = new ort.Tensor("float32", group.crossKv.subarray(keyStart, keyStart + crossSize), [B, heads, S, headDim]);
        feeds[`cross_value.${g}.${l}`] = new ort.Tensor("float32", group.crossKv.subarray(valueStart, valueStart + crossSize), [B, heads, S, headDim]);
      }
    });
    for (let l = 0; l < layers; l++) {
      feeds[`prefix_key.${l}`] = new ort.Tensor("float32", state.prefix.view(2 * l, state.articles), [state.articles, heads, P, headDim]);
      feeds[`prefix_value.${l}`] = new ort.Tensor("float32", state.prefix.view(2 * l + 1, state.articles), [state.articles, heads, P, headDim]);
      feeds[`suffix_key.${l}`] = new ort.Tensor("float32", state.suffix.view(2 * l, rows), [rows, heads, U, headDim]);
      feeds[`suffix_value.${l}`] = new ort.Tensor("float32", state.suffix.view(2 * l + 1, rows), [rows, heads, U, headDim]);
    }
    const outputs = await (await this.session()).run(feeds, fetch);
    const newKv = outputs["new_kv"];
    if (!newKv) throw new CompiledBartError("step graph returned no new_kv");
    this.cache.append(state, newKv.data as Float32Array);
    // Copied into the suffix blocks: ~2 MB a step at 45 rows that would otherwise wait for the collector.
    releaseNow(newKv.data as Float32Array);
    state.lastFeeds = feeds;
    return outputs;
  }
}
