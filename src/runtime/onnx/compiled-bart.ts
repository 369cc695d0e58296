/**
 * BART on the compiled decoder graphs (`compiler/`), as a `Seq2SeqModel` that can also score beam
 * candidates inside the graph (`TopKSeq2SeqModel`).
 *
 *   encoder -> cross-kv graph (once per article, into the call's buffer) -> step graph (per token)
 *
 * What lives where, and why:
 *   - the self-attention cache is ours: per layer a key and a value buffer [rows, heads, capacity, head_dim]
 *     that the step graph reads in place (ORT wraps input buffers without copying). Each step returns only
 *     the new token's keys/values ([2L, rows, heads, 1, head_dim]), which we write at the current position.
 *     The capacity grows in chunks; slots past the current length are masked (`self_mask`).
 *   - cross-attention keys/values are per article ([2L, articles, heads, source, head_dim]), not per beam.
 *   - beam reordering copies only rows whose beam changed, and of those only the filled part; dropping
 *     finished articles compacts the buffers in place. No step allocates a cache buffer.
 *   - the step graph ends in the beam-search head (log-softmax, processor bans, beam scores, top-K per
 *     article), so a normal step hands back 2K numbers per article instead of 50,264 logits per row.
 *     Steps that need the full scores (forced tokens, ties at the top-K boundary) fetch the logits.
 */

import { readFileSync } from "node:fs";
import ort from "onnxruntime-node";
import { generationOptionsFromHfJson, type GenerationOptions } from "../generation/generation-config.js";
import type { DecoderState, TokenBatch, TopKSeq2SeqModel, TopKStep } from "../generation/seq2seq-model.js";
import type { BartShape } from "./compiler/bart-decoder-graph.js";
import { TOKEN_EMBEDDINGS_INPUT, type TokenTableLocation } from "./compiler/compile-bart-encoder.js";
import { OnnxSession, type OrtSessionOptions } from "./session.js";
import { TokenTable } from "./token-table.js";

/** BART's learned positions start at 2 (`BartLearnedPositionalEmbedding.offset`). */
const POSITION_OFFSET = 2;
/** Cache capacity grows by this many positions at a time. */
const CAPACITY_CHUNK = 32;
/** HF masks padded source positions with float32's lowest value, not -inf. */
const MASKED = -3.4028234663852886e38;

export interface CompiledBartFiles {
  /** Encoder graph: the published one, or one compiled without its token table (then `encoderTable` is set). */
  readonly encoder: string;
  /** Where the compiled encoder's token-embedding rows are read from. */
  readonly encoderTable?: TokenTableLocation;
  readonly step: string;
  readonly crossKv: string;
  readonly shape: BartShape;
  readonly config: string | Readonly<Record<string, unknown>>;
  readonly generationConfig?: string | Readonly<Record<string, unknown>>;
}

export class CompiledBartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CompiledBartError";
  }
}

export class CompiledBartState implements DecoderState {
  rows: number;
  /** Article (cross-attention slot) of each row; rows are article-major, equally many per article. */
  article: Int32Array;
  articles: number;
  pastLength = 0;
  released = false;
  /** [2L] buffers of [rowCapacity, heads, timeCapacity, headDim]. */
  selfKv: Float32Array[] = [];
  rowCapacity = 0;
  timeCapacity = 0;
  /** [timeCapacity + 1]: 0 for filled slots and the current token, -inf elsewhere. */
  selfMask = new Float32Array(1);
  /** [2L, articleCapacity, heads, source, headDim] */
  crossKv: Float32Array;
  readonly articleCapacity: number;
  /** [articles, source] additive. */
  encoderBias: Float32Array;
  /** Feeds of the last step, for `replayLogits`. */
  lastFeeds: Record<string, ort.Tensor> | null = null;

  constructor(
    readonly sourceLength: number,
    articles: number,
    crossKv: Float32Array,
    encoderBias: Float32Array,
  ) {
    this.rows = articles;
    this.articles = articles;
    this.articleCapacity = articles;
    this.article = Int32Array.from({ length: articles }, (_, i) => i);
    this.crossKv = crossKv;
    this.encoderBias = encoderBias;
  }
}

function readJson(source: string | Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  return typeof source === "string" ? (JSON.parse(readFileSync(source, "utf8")) as Record<string, unknown>) : source;
}

export class CompiledBartModel implements TopKSeq2SeqModel<CompiledBartState> {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly layers: number;
  private readonly heads: number;
  private readonly headDim: number;
  /** Zeros, [rows, vocab]: the processor-bias input, with bans written in and taken out around a step. */
  private bias = new Float32Array(0);
  private readonly topK = new BigInt64Array(1);
  /** Rows saved while the cache is reordered; grows to the largest need and is reused. */
  private stash = new Float32Array(0);
  /** Self-attention cache buffers of finished batches, for the next batch. */
  private readonly cachePool = new BufferPool();
  /** Cross-attention buffers of finished batches (one per batch). */
  private readonly crossPool = new BufferPool(1);

  private constructor(
    private readonly encoder: OnnxSession,
    private readonly crossKvGraph: OnnxSession,
    private readonly step: OnnxSession,
    shape: BartShape,
    readonly maxPositionEmbeddings: number,
    readonly generationDefaults: GenerationOptions,
    private readonly encoderTable: TokenTable | null,
  ) {
    this.vocabSize = shape.vocab;
    this.hiddenSize = shape.dModel;
    this.layers = shape.layers;
    this.heads = shape.heads;
    this.headDim = shape.dModel / shape.heads;
  }

  get maxInputLength(): number {
    return this.maxPositionEmbeddings;
  }

  static async load(files: CompiledBartFiles, options: OrtSessionOptions = {}): Promise<CompiledBartModel> {
    const config = readJson(files.config);
    const generationJson = files.generationConfig !== undefined ? readJson(files.generationConfig) : config;
    const maxPositions = config["max_position_embeddings"];
    if (typeof maxPositions !== "number") throw new CompiledBartError("config.json has no numeric max_position_embeddings");
    const opened: OnnxSession[] = [];
    try {
      // The encoder's activations (attention over up to 1,024 tokens per article) are large and needed once
      // per batch: no arena to keep them. Steps repeat the same small shapes: the arena recycles those.
      for (const path of [files.encoder, files.crossKv]) opened.push(await OnnxSession.create(path, { ...options, enableCpuMemArena: false }));
      opened.push(await OnnxSession.create(files.step, options));
      const table = files.encoderTable ? new TokenTable(files.encoderTable) : null;
      return new CompiledBartModel(opened[0]!, opened[1]!, opened[2]!, files.shape, maxPositions, generationOptionsFromHfJson(generationJson), table);
    } catch (error) {
      await Promise.all(opened.map((s) => s.release()));
      throw error;
    }
  }

  /**
   * Encodes the batch one article at a time, each at its own length, into the call's cross-attention
   * buffer. Batching the encoder buys little on a CPU (an article's matrices are already hundreds of
   * rows) but costs twice: padded positions are computed for nothing, and the attention activations
   * ([rows, heads, length, length] floats, 268 MB per tensor at 4 x 1,024 tokens) grow with the batch
   * and set the process's peak memory. One at a time is also how the tutorial's pipeline encodes.
   */
  async encode(batch: TokenBatch): Promise<CompiledBartState> {
    if (batch.length > this.maxPositionEmbeddings) {
      throw new CompiledBartError(`input of ${batch.length} tokens exceeds max_position_embeddings ${this.maxPositionEmbeddings}`);
    }
    const { rows, length: S } = batch;
    const { heads, headDim } = this;
    const bias = new Float32Array(rows * S);
    for (let i = 0; i < bias.length; i++) bias[i] = batch.mask[i] ? 0 : MASKED;
    const articleSize = heads * S * headDim;
    const crossKv = this.crossPool.take(2 * this.layers * rows * articleSize);
    for (let r = 0; r < rows; r++) {
      const mask = batch.mask.subarray(r * S, (r + 1) * S);
      // Trailing padding is left out; a row padded elsewhere is encoded whole, with its mask.
      let length = S;
      while (length > 1 && mask[length - 1] === 0) length--;
      const rowCross = await this.encodeRow(batch.ids.subarray(r * S, r * S + length), mask.subarray(0, length));
      const rowSize = heads * length * headDim;
      for (let p = 0; p < 2 * this.layers; p++) {
        const to = (p * rows + r) * articleSize;
        if (length === S) crossKv.set(rowCross.subarray(p * rowSize, (p + 1) * rowSize), to);
        else {
          for (let h = 0; h < heads; h++) {
            const at = to + h * S * headDim;
            crossKv.set(rowCross.subarray(p * rowSize + h * length * headDim, p * rowSize + (h + 1) * length * headDim), at);
            // Masked positions: any finite value reads as zero weight; zeros keep pooled leftovers out.
            crossKv.fill(0, at + length * headDim, at + S * headDim);
          }
        }
      }
    }
    return new CompiledBartState(S, rows, crossKv, bias);
  }

  /** One article through the encoder and the cross-kv graph: [2L, 1, heads, length, headDim]. */
  private async encodeRow(rowIds: Int32Array, rowMask: Int32Array): Promise<Float32Array> {
    const dims = [1, rowIds.length];
    const feeds: Record<string, ort.Tensor> = { attention_mask: new ort.Tensor("int64", BigInt64Array.from(rowMask, BigInt), dims) };
    if (this.encoder.hasInput("input_ids")) feeds["input_ids"] = new ort.Tensor("int64", BigInt64Array.from(rowIds, BigInt), dims);
    if (this.encoderTable) feeds[TOKEN_EMBEDDINGS_INPUT] = this.encoderTable.lookup(rowIds, dims);
    const encoded = await this.encoder.run(feeds);
    const hidden = encoded["last_hidden_state"];
    if (!hidden) throw new CompiledBartError("encoder returned no last_hidden_state");
    const cross = await this.crossKvGraph.run({ encoder_hidden_states: hidden });
    const crossKv = cross["cross_kv"];
    if (!crossKv) throw new CompiledBartError("cross-kv graph returned no cross_kv");
    return crossKv.data as Float32Array;
  }

  /** Logits path (`Seq2SeqModel`): every prompt position is fed in turn; the last one's logits come back. */
  async decode(state: CompiledBartState, tokens: Int32Array, width: number): Promise<Float32Array> {
    this.checkLive(state);
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
    return logits!;
  }

  async decodeTopK(state: CompiledBartState, tokens: Int32Array, step: TopKStep): Promise<{ scores: Float32Array; indices: Int32Array }> {
    this.checkLive(state);
    if (tokens.length !== state.rows) throw new CompiledBartError(`decodeTopK: ${tokens.length} tokens for ${state.rows} rows`);
    const bans = step.bans;
    const vocab = this.vocabSize;
    this.ensureBias(state.rows);
    for (let i = 0; i < bans.length; i += 2) this.bias[bans[i]! * vocab + bans[i + 1]!] = -Infinity;
    let outputs: Record<string, ort.Tensor>;
    try {
      outputs = await this.run(state, tokens, step.beamScores, step.k, ["top_scores", "top_indices", "new_kv"]);
    } finally {
      // Leave the bias zero for the next step; a replay of this step sets the same bans again.
      for (let i = 0; i < bans.length; i += 2) this.bias[bans[i]! * vocab + bans[i + 1]!] = 0;
    }
    const indices64 = outputs["top_indices"]!.data as BigInt64Array;
    const indices = new Int32Array(indices64.length);
    for (let i = 0; i < indices.length; i++) indices[i] = Number(indices64[i]!);
    return { scores: outputs["top_scores"]!.data as Float32Array, indices };
  }

  /** The logits of the last step, recomputed from its own inputs (the cache slot it filled is masked). */
  async replayLogits(state: CompiledBartState): Promise<Float32Array> {
    this.checkLive(state);
    const feeds = state.lastFeeds;
    if (!feeds) throw new CompiledBartError("replayLogits: no step to replay");
    const t = state.pastLength - 1;
    const mask = state.selfMask;
    const saved = mask[t]!;
    mask[t] = -Infinity;
    try {
      const outputs = await this.step.run(feeds, ["logits"]);
      return outputs["logits"]!.data as Float32Array;
    } finally {
      mask[t] = saved;
    }
  }

  selectRows(state: CompiledBartState, sourceRows: Int32Array, unchangedPrefix?: Int32Array): void {
    this.checkLive(state);
    const rows = sourceRows.length;
    const newArticle = Int32Array.from(sourceRows, (s) => state.article[s]!);
    if (state.selfKv.length > 0) this.moveCacheRows(state, sourceRows, unchangedPrefix);
    // Articles still present, in row order (rows are article-major).
    const kept: number[] = [];
    for (let i = 0; i < rows; i++) if (kept[kept.length - 1] !== newArticle[i]) kept.push(newArticle[i]!);
    if (kept.length !== state.articles || kept.some((a, i) => a !== i)) {
      this.compactArticles(state, kept);
      const slot = new Map(kept.map((a, i) => [a, i]));
      for (let i = 0; i < rows; i++) newArticle[i] = slot.get(newArticle[i]!)!;
    }
    state.article = newArticle;
    state.rows = rows;
    state.lastFeeds = null;
  }

  release(state: CompiledBartState): void {
    state.released = true;
    for (const buffer of state.selfKv) this.cachePool.give(buffer);
    state.selfKv = [];
    if (state.crossKv.length > 0) this.crossPool.give(state.crossKv);
    state.crossKv = new Float32Array(0);
    state.lastFeeds = null;
  }

  async dispose(): Promise<void> {
    this.encoderTable?.close();
    await Promise.all([this.encoder.release(), this.crossKvGraph.release(), this.step.release()]);
  }

  private checkLive(state: CompiledBartState): void {
    if (state.released) throw new CompiledBartError("decoder state used after release");
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
    const t = state.pastLength;
    if (t + 1 > this.maxPositionEmbeddings) {
      throw new CompiledBartError(`decoder length would exceed max_position_embeddings ${this.maxPositionEmbeddings}; lower max_length`);
    }
    if (rows % state.articles !== 0) throw new CompiledBartError(`${rows} rows are not an equal number per article (${state.articles})`);
    this.ensureCapacity(state, rows, t + 1);
    this.ensureBias(rows);
    const perArticle = rows / state.articles;
    const { heads, headDim } = this;
    const T = state.timeCapacity;
    const S = state.sourceLength;
    const ids = new BigInt64Array(rows);
    for (let r = 0; r < rows; r++) ids[r] = BigInt(tokens[r]!);
    this.topK[0] = BigInt(k);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids, [rows, 1]),
      position_ids: new ort.Tensor("int64", BigInt64Array.of(BigInt(t + POSITION_OFFSET)), [1]),
      self_mask: new ort.Tensor("float32", state.selfMask, [1, 1, 1, T + 1]),
      encoder_bias: new ort.Tensor("float32", state.encoderBias.subarray(0, state.articles * S), [state.articles, 1, 1, S]),
      beam_scores: new ort.Tensor("float32", beamScores.subarray(0, rows), [state.articles, perArticle]),
      processor_bias: new ort.Tensor("float32", this.bias.subarray(0, rows * this.vocabSize), [rows, this.vocabSize]),
      top_k: new ort.Tensor("int64", this.topK, [1]),
    };
    const selfSize = rows * heads * T * headDim;
    const crossBlock = state.articleCapacity * heads * S * headDim;
    const crossSize = state.articles * heads * S * headDim;
    for (let l = 0; l < this.layers; l++) {
      feeds[`cache_key.${l}`] = new ort.Tensor("float32", state.selfKv[2 * l]!.subarray(0, selfSize), [rows, heads, T, headDim]);
      feeds[`cache_value.${l}`] = new ort.Tensor("float32", state.selfKv[2 * l + 1]!.subarray(0, selfSize), [rows, heads, T, headDim]);
      const keyStart = 2 * l * crossBlock;
      const valueStart = (2 * l + 1) * crossBlock;
      feeds[`cross_key.${l}`] = new ort.Tensor("float32", state.crossKv.subarray(keyStart, keyStart + crossSize), [state.articles, heads, S, headDim]);
      feeds[`cross_value.${l}`] = new ort.Tensor("float32", state.crossKv.subarray(valueStart, valueStart + crossSize), [state.articles, heads, S, headDim]);
    }
    const outputs = await this.step.run(feeds, fetch);
    const newKv = outputs["new_kv"];
    if (!newKv) throw new CompiledBartError("step graph returned no new_kv");
    this.appendKv(state, newKv.data as Float32Array);
    state.lastFeeds = feeds;
    return outputs;
  }

  /** Writes [2L, rows, heads, 1, headDim] at the current position and advances it. */
  private appendKv(state: CompiledBartState, newKv: Float32Array): void {
    const { heads, headDim } = this;
    const rows = state.rows;
    const T = state.timeCapacity;
    const t = state.pastLength;
    for (let p = 0; p < 2 * this.layers; p++) {
      const cache = state.selfKv[p]!;
      for (let r = 0; r < rows; r++) {
        for (let h = 0; h < heads; h++) {
          const from = ((p * rows + r) * heads + h) * headDim;
          cache.set(newKv.subarray(from, from + headDim), ((r * heads + h) * T + t) * headDim);
        }
      }
    }
    state.selfMask[t] = 0;
    state.pastLength = t + 1;
  }

  /**
   * Room for `rows` rows and `length` positions. The time capacity grows in chunks (the step graph
   * attends over the whole capacity, so it stays close to the length), *in place*: each layer's buffer
   * is allocated once, large enough for every position the model has, and re-laid out from the back
   * when the capacity grows. Such a buffer costs only the pages written (the allocator hands out
   * untouched zero pages), and no step leaves a grown-out-of buffer for the garbage collector: with
   * copies on growth, several generations of a batch's cache (hundreds of MB) were alive at once.
   */
  private ensureCapacity(state: CompiledBartState, rows: number, length: number): void {
    if (rows <= state.rowCapacity && length <= state.timeCapacity) return;
    const rowCapacity = Math.max(rows, state.rowCapacity);
    const timeCapacity =
      length <= state.timeCapacity ? state.timeCapacity : Math.min(Math.ceil(length / CAPACITY_CHUNK) * CAPACITY_CHUNK, this.maxPositionEmbeddings);
    const { heads, headDim } = this;
    const needed = rowCapacity * heads * this.maxPositionEmbeddings * headDim;
    const blocks = state.rows * heads;
    const filled = state.pastLength * headDim;
    const oldT = state.timeCapacity;
    const buffers: Float32Array[] = [];
    for (let p = 0; p < 2 * this.layers; p++) {
      const old = state.selfKv[p];
      if (old && old.length >= needed) {
        // Backwards: block b moves to a later offset, over blocks already moved.
        for (let b = blocks - 1; b >= 0; b--) {
          const to = b * timeCapacity * headDim;
          if (filled > 0) old.copyWithin(to, b * oldT * headDim, b * oldT * headDim + filled);
          old.fill(0, to + filled, to + timeCapacity * headDim);
        }
        old.fill(0, blocks * timeCapacity * headDim, rowCapacity * heads * timeCapacity * headDim);
        buffers.push(old);
        continue;
      }
      const next = this.cachePool.take(needed);
      next.fill(0, 0, rowCapacity * heads * timeCapacity * headDim);
      if (old) {
        for (let b = 0; b < blocks; b++) next.set(old.subarray(b * oldT * headDim, b * oldT * headDim + filled), b * timeCapacity * headDim);
        this.cachePool.give(old);
      }
      buffers.push(next);
    }
    const mask = new Float32Array(timeCapacity + 1).fill(-Infinity);
    mask.fill(0, 0, state.pastLength);
    mask[timeCapacity] = 0;
    state.selfKv = buffers;
    state.selfMask = mask;
    state.rowCapacity = rowCapacity;
    state.timeCapacity = timeCapacity;
  }

  /**
   * New row i continues old row sourceRows[i]. Rows that keep their own content are not touched; of the
   * others only positions from `unchangedPrefix[i]` on are written (the keys and values of equal tokens
   * of the same article are equal: computed by the same graph from the same inputs); rows that are a
   * source *and* get overwritten are saved first, from the earliest position any of their readers needs.
   */
  private moveCacheRows(state: CompiledBartState, sourceRows: Int32Array, unchangedPrefix?: Int32Array): void {
    const rows = sourceRows.length;
    this.ensureCapacity(state, rows, state.pastLength);
    const { heads, headDim } = this;
    const T = state.timeCapacity;
    const filled = state.pastLength;
    const rowStride = heads * T * headDim;
    const from = (i: number): number => Math.min(unchangedPrefix?.[i] ?? 0, filled);
    const overwritten = new Uint8Array(Math.max(rows, state.rows));
    for (let i = 0; i < rows; i++) if (sourceRows[i] !== i && from(i) < filled) overwritten[i] = 1;
    // Saved rows: slot and the first position saved.
    const saved = new Map<number, { slot: number; start: number }>();
    for (let i = 0; i < rows; i++) {
      const s = sourceRows[i]!;
      if (s === i || from(i) >= filled || s >= overwritten.length || !overwritten[s]) continue;
      const entry = saved.get(s);
      if (entry) entry.start = Math.min(entry.start, from(i));
      else saved.set(s, { slot: saved.size, start: from(i) });
    }
    const slotSize = heads * filled * headDim;
    if (this.stash.length < saved.size * slotSize) this.stash = new Float32Array(saved.size * slotSize);
    const stash = this.stash;
    for (let p = 0; p < 2 * this.layers; p++) {
      const cache = state.selfKv[p]!;
      for (const [row, { slot, start }] of saved) {
        for (let h = 0; h < heads; h++) {
          const at = row * rowStride + h * T * headDim;
          const to = slot * slotSize + h * filled * headDim;
          stash.set(cache.subarray(at + start * headDim, at + filled * headDim), to + start * headDim);
        }
      }
      for (let i = 0; i < rows; i++) {
        const s = sourceRows[i]!;
        const start = from(i);
        if (s === i || start >= filled) continue;
        const entry = saved.get(s);
        for (let h = 0; h < heads; h++) {
          const to = i * rowStride + h * T * headDim + start * headDim;
          const length = (filled - start) * headDim;
          if (entry) {
            const at = entry.slot * slotSize + h * filled * headDim + start * headDim;
            cache.set(stash.subarray(at, at + length), to);
          } else {
            const at = s * rowStride + h * T * headDim + start * headDim;
            cache.copyWithin(to, at, at + length);
          }
        }
      }
    }
  }

  /** Keeps the cross-attention data of `kept` articles (increasing old slots), compacted to the front. */
  private compactArticles(state: CompiledBartState, kept: readonly number[]): void {
    for (let i = 1; i < kept.length; i++) {
      if (kept[i]! <= kept[i - 1]!) throw new CompiledBartError("articles can only be dropped, not reordered");
    }
    const S = state.sourceLength;
    const articleSize = this.heads * S * this.headDim;
    const block = state.articleCapacity * articleSize;
    for (let p = 0; p < 2 * this.layers; p++) {
      const base = p * block;
      kept.forEach((from, to) => {
        if (from !== to) state.crossKv.copyWithin(base + to * articleSize, base + from * articleSize, base + (from + 1) * articleSize);
      });
    }
    kept.forEach((from, to) => {
      if (from !== to) state.encoderBias.copyWithin(to * S, from * S, (from + 1) * S);
    });
    state.articles = kept.length;
  }
}

/**
 * Cache buffers kept from one batch to the next. A buffer's pages, once written, stay resident, so
 * reusing them costs nothing new, while a fresh buffer per batch would leave the old one's pages to
 * the garbage collector's timing. Only as many buffers as one batch uses (2 per layer) are kept.
 */
class BufferPool {
  private readonly free: Float32Array[] = [];

  constructor(private readonly keep = 64) {}

  /** A buffer of at least `length` elements (contents undefined). */
  take(length: number): Float32Array {
    const index = this.free.findIndex((b) => b.length >= length);
    if (index >= 0) return this.free.splice(index, 1)[0]!;
    // Too small for this batch: dropped, so the pool holds one generation of buffers.
    this.free.length = 0;
    return new Float32Array(length);
  }

  give(buffer: Float32Array): void {
    if (this.free.length < this.keep) this.free.push(buffer);
  }
}

export async function loadCompiledBart(files: CompiledBartFiles, options: OrtSessionOptions = {}): Promise<CompiledBartModel> {
  return CompiledBartModel.load(files, options);
}
