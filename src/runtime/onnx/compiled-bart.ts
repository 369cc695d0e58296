/**
 * BART on the compiled decoder graphs (`compiler/`), as a `Seq2SeqModel` that can also score beam
 * candidates inside the graph (`TopKSeq2SeqModel`).
 *
 *   encoder -> cross-kv graph (once per article, into the call's buffer) -> step graph (per token)
 *
 * What lives where, and why:
 *   - the self-attention cache is ours, in buffers the step graph reads in place (ORT wraps input buffers
 *     without copying), in two parts: the positions all beams of an article agree on, once per article
 *     (`prefix`, [articles, heads, capacity, head_dim] per layer and key/value), and each row's positions
 *     after that (`suffix`, [rows, heads, capacity, head_dim]). Each step returns only the new token's
 *     keys/values ([2L, rows, heads, 1, head_dim]), written into the suffix. When an article's beams have
 *     come to agree on `FLUSH_POSITIONS` more positions, those move from its suffix to its prefix. Beams
 *     share all but the last few positions, so the cache is about a beam's worth per article instead of
 *     one per beam, and a step reads it about that much less. Capacities grow in chunks; unfilled slots
 *     are masked (`self_mask`, per row).
 *   - cross-attention keys/values are per article, not per beam, in two source groups
 *     ([2L, articles, heads, source, head_dim] each): a call's articles are split where padding each part
 *     to its own longest source saves the most, so short articles do not read a long one's padding.
 *   - a beam reorder renames the rows' cache slots (`physical`/`logical`) and copies only for a beam that
 *     two rows continue, only the positions where their histories differ; dropping finished articles
 *     compacts the buffers in place. No step allocates a cache buffer.
 *   - the step graph ends in the beam-search head (log-softmax, processor bans, beam scores, top-K per
 *     article), so a normal step hands back 2K numbers per article instead of 50,264 logits per row.
 *     Steps that need the full scores (forced tokens, ties at the top-K boundary) fetch the logits.
 */

import { readFileSync } from "node:fs";
import ort from "onnxruntime-node";
import { generationOptionsFromHfJson, type GenerationOptions } from "../generation/generation-config.js";
import type { DecoderState, RunningBatchModel, TokenBatch, TopKStep } from "../generation/seq2seq-model.js";
import type { BartShape } from "./compiler/bart-decoder-graph.js";
import { TOKEN_EMBEDDINGS_INPUT, type TokenTableLocation } from "./compiler/token-table-location.js";
import { PhaseSessions, type SessionResidency } from "./phase-sessions.js";
import { OnnxSession, type OrtSessionOptions } from "./session.js";
import { TokenTable } from "./token-table.js";
import { BufferPool, KvBlocks } from "./kv-blocks.js";
import { releaseNow } from "../memory/release-now.js";
import { chooseGroup, growGroup, insertArticleRows, MASKED, paddedPositionsAfterJoin, writeArticleCross } from "./running-layout.js";
import { SOURCE_GROUPS } from "./compiler/bart-decoder-graph.js";

/** BART's learned positions start at 2 (`BartLearnedPositionalEmbedding.offset`). */
const POSITION_OFFSET = 2;
/** Prefix capacity grows by this many positions at a time. */
const PREFIX_CHUNK = 32;
/** Suffix capacity grows by this many positions at a time. */
const SUFFIX_CHUNK = 16;
/**
 * Positions an article's beams must newly agree on before they move from the suffix to the prefix.
 * Depends only on the article's own beams, so an article's numbers never depend on its batch-mates.
 */
const FLUSH_POSITIONS = 16;

export interface CompiledBartFiles {
  /** Encoder graph: the published one, or one compiled without its token table (then `encoderTable` is set). */
  readonly encoder: string;
  /** Where the compiled encoder's token-embedding rows are read from. */
  readonly encoderTable?: TokenTableLocation;
  readonly step: string;
  /** Where the step graph's input tokens' embedding rows are read from. */
  readonly stepTable: TokenTableLocation;
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

/**
 * The cross-attention keys/values and source mask of one source group: consecutive articles, each padded
 * to the group's longest source. `crossKv` is [2L, capacity, heads, sourceLength, headDim] (layer l: key
 * 2l, value 2l+1), `encoderBias` [capacity, sourceLength]; the first `articles` blocks are live.
 */
export class SourceGroup {
  constructor(
    public articles: number,
    readonly capacity: number,
    readonly sourceLength: number,
    readonly crossKv: Float32Array,
    readonly encoderBias: Float32Array,
  ) {}
}

/**
 * Where to cut articles of these source lengths (in order) into two groups: the cut that reads the fewest
 * padded positions (articles × longest source, summed over the groups); `lengths.length` when one group
 * reads least.
 */
export function sourceGroupCut(lengths: ArrayLike<number>): number {
  const count = lengths.length;
  const suffixLongest = new Int32Array(count + 1);
  for (let i = count - 1; i >= 0; i--) suffixLongest[i] = Math.max(suffixLongest[i + 1]!, lengths[i]!);
  let best = count;
  let bestCost = count * suffixLongest[0]!;
  let prefixLongest = 0;
  for (let cut = 1; cut < count; cut++) {
    prefixLongest = Math.max(prefixLongest, lengths[cut - 1]!);
    const cost = cut * prefixLongest + (count - cut) * suffixLongest[cut]!;
    if (cost < bestCost) {
      best = cut;
      bestCost = cost;
    }
  }
  return best;
}

export class CompiledBartState implements DecoderState {
  rows: number;
  /** Article (cross-attention and prefix slot) of each row; rows are article-major, equally many per article. */
  article: Int32Array;
  articles: number;
  /**
   * Decoder positions filled so far, per article: articles of a running batch joined at different steps,
   * so each has its own length (and its rows their own position ids).
   */
  length: Int32Array;
  /** The caller's name for each article, in article order (a running batch's articles move when one joins). */
  keys: number[];
  released = false;
  /** Self-attention positions shared by all beams of an article: blocks are articles. */
  readonly prefix: KvBlocks;
  /** Positions of each row after its article's prefix: blocks are rows. */
  readonly suffix: KvBlocks;
  /** Filled prefix positions per article slot. */
  prefixLength: Int32Array;
  /** Input token of every (physical) row at every position so far, [rows, maxPositions]: tells where beams agree. */
  history: Int32Array;
  /**
   * Where each row's cache lives: `physical[row]` is its slot in the suffix buffers and the history,
   * `logical[slot]` the row in it. Steps feed rows in slot order. A beam reorder that keeps the same
   * rows per article only renames slots, and copies a slot's content only for a beam taken twice.
   */
  physical: Int32Array;
  logical: Int32Array;
  /** [rows, 1, 1, prefixCapacity + suffixCapacity + 1] of the last step (kept for `replayLogits`). */
  selfMask = new Float32Array(0);
  /**
   * The articles' cross-attention inputs, SOURCE_GROUPS of them (either may hold no article): articles
   * 0 .. groups[0].articles - 1 are in the first, the rest in the second.
   */
  readonly groups: SourceGroup[];
  /** The one allocation the groups' keys/values are views of (returned to the pool on release). */
  crossStorage: Float32Array;
  /** Feeds of the last step, for `replayLogits`. */
  lastFeeds: Record<string, ort.Tensor> | null = null;

  constructor(
    groups: SourceGroup[],
    crossStorage: Float32Array,
    prefix: KvBlocks,
    suffix: KvBlocks,
    readonly maxPositions: number,
  ) {
    const articles = groups.reduce((sum, group) => sum + group.articles, 0);
    this.rows = articles;
    this.articles = articles;
    this.article = Int32Array.from({ length: articles }, (_, i) => i);
    this.groups = groups;
    this.crossStorage = crossStorage;
    this.prefix = prefix;
    this.suffix = suffix;
    this.prefixLength = new Int32Array(articles);
    this.length = new Int32Array(articles);
    this.keys = Array.from({ length: articles }, (_, i) => i);
    this.history = new Int32Array(articles * maxPositions);
    this.physical = Int32Array.from({ length: articles }, (_, i) => i);
    this.logical = Int32Array.from({ length: articles }, (_, i) => i);
  }
}

function readJson(source: string | Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  return typeof source === "string" ? (JSON.parse(readFileSync(source, "utf8")) as Record<string, unknown>) : source;
}

export class CompiledBartModel implements RunningBatchModel<CompiledBartState> {
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
  /**
   * Self-attention cache buffers of finished batches, for the next batch: one pool per role, so the next
   * batch's prefix lands in the pages an earlier prefix already touched (and likewise the suffix). From
   * one shared pool, a prefix could take an old suffix buffer, whose touched pages sit elsewhere in its
   * layout: the bench's second call touched ~80 MB of new pages that way while the old ones stayed.
   */
  private readonly prefixPool = new BufferPool();
  private readonly suffixPool = new BufferPool();
  /** A step's input tokens and beam scores in slot order. */
  private slotTokens = new Int32Array(0);
  private slotScores = new Float32Array(0);
  /** Token history of the rows being reordered; swapped with the state's. */
  private historyNext: Int32Array = new Int32Array(0);
  /** Cross-attention buffers of finished batches (one per batch). */
  private readonly crossPool = new BufferPool(2);

  private constructor(
    private readonly encoding: PhaseSessions,
    private readonly decoding: PhaseSessions,
    /** Keep both phases' sessions loaded (else each phase's are released before the other runs). */
    private readonly resident: boolean,
    shape: BartShape,
    readonly maxPositionEmbeddings: number,
    readonly generationDefaults: GenerationOptions,
    private readonly encoderTable: TokenTable | null,
    private readonly stepTable: TokenTable,
  ) {
    this.vocabSize = shape.vocab;
    this.hiddenSize = shape.dModel;
    this.layers = shape.layers;
    this.heads = shape.heads;
    this.headDim = shape.dModel / shape.heads;
  }

  /** Which phases' sessions are loaded now (for tests and tools). */
  get loadedSessions(): { encoder: boolean; step: boolean } {
    return { encoder: this.encoding.loaded, step: this.decoding.loaded };
  }

  get maxInputLength(): number {
    return this.maxPositionEmbeddings;
  }

  static async load(files: CompiledBartFiles, options: OrtSessionOptions = {}, residency: SessionResidency = {}): Promise<CompiledBartModel> {
    const config = readJson(files.config);
    const generationJson = files.generationConfig !== undefined ? readJson(files.generationConfig) : config;
    const maxPositions = config["max_position_embeddings"];
    if (typeof maxPositions !== "number") throw new CompiledBartError("config.json has no numeric max_position_embeddings");
    // The encoder's activations (attention over up to 1,024 tokens per article) are large and needed once
    // per batch: no arena to keep them. Steps repeat the same small shapes: the arena recycles those.
    const encoding = new PhaseSessions([files.encoder, files.crossKv], { ...options, enableCpuMemArena: false });
    const decoding = new PhaseSessions([files.step], options);
    try {
      // Both phases load now, so a model that does not load fails here (and openBart falls back).
      await encoding.open();
      await decoding.open();
      const table = files.encoderTable ? new TokenTable(files.encoderTable) : null;
      return new CompiledBartModel(
        encoding,
        decoding,
        residency.resident ?? false,
        files.shape,
        maxPositions,
        generationOptionsFromHfJson(generationJson),
        table,
        new TokenTable(files.stepTable),
      );
    } catch (error) {
      await Promise.all([encoding.close(), decoding.close()]);
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
    // The step's weights are not needed while encoding: the encoder's take their place.
    if (!this.resident) await this.decoding.close();
    const { rows, length: S } = batch;
    const { heads, headDim } = this;
    // Each row's length without its trailing padding: the compiled encoder has no mask, so that padding
    // is left out; a row padded elsewhere is encoded whole, with its mask, by a published encoder.
    const lengths = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      let length = S;
      while (length > 1 && batch.mask[r * S + length - 1] === 0) length--;
      lengths[r] = length;
    }
    // One cut: the step graph's SOURCE_GROUPS (two) groups, the second empty when no cut pays.
    const cut = sourceGroupCut(lengths);
    const spans = [[0, cut], [cut, rows]] as const;
    const widths = spans.map(([from, to]) => Math.max(1, ...lengths.subarray(from, to)));
    const sizes = spans.map(([from, to], g) => 2 * this.layers * (to - from) * heads * widths[g]! * headDim);
    const storage = this.crossPool.take(sizes.reduce((a, b) => a + b, 0));
    let offset = 0;
    const groups = spans.map(([from, to], g) => {
      const width = widths[g]!;
      const bias = new Float32Array((to - from) * width);
      for (let r = from; r < to; r++) {
        for (let i = 0; i < width; i++) bias[(r - from) * width + i] = batch.mask[r * S + i] ? 0 : MASKED;
      }
      const group = new SourceGroup(to - from, to - from, width, storage.subarray(offset, offset + sizes[g]!), bias);
      offset += sizes[g]!;
      return group;
    });
    for (let r = 0; r < rows; r++) {
      const group = groups[r < cut ? 0 : 1]!;
      const slot = r < cut ? r : r - cut;
      const width = group.sourceLength;
      const length = lengths[r]!;
      const rowCross = await this.encodeRow(batch.ids.subarray(r * S, r * S + length), batch.mask.subarray(r * S, r * S + length));
      const rowSize = heads * length * headDim;
      const articleSize = heads * width * headDim;
      for (let p = 0; p < 2 * this.layers; p++) {
        const to = (p * group.capacity + slot) * articleSize;
        if (length === width) group.crossKv.set(rowCross.subarray(p * rowSize, (p + 1) * rowSize), to);
        else {
          for (let h = 0; h < heads; h++) {
            const at = to + h * width * headDim;
            group.crossKv.set(rowCross.subarray(p * rowSize + h * length * headDim, p * rowSize + (h + 1) * length * headDim), at);
            // Masked positions: any finite value reads as zero weight; zeros keep pooled leftovers out.
            group.crossKv.fill(0, at + length * headDim, at + width * headDim);
          }
        }
      }
    }
    if (!this.resident) await this.encoding.close();
    return new CompiledBartState(groups, storage, this.cacheBlocks(PREFIX_CHUNK, this.prefixPool), this.cacheBlocks(SUFFIX_CHUNK, this.suffixPool), this.maxPositionEmbeddings);
  }

  /** One article through the encoder and the cross-kv graph: [2L, 1, heads, length, headDim]. */
  private async encodeRow(rowIds: Int32Array, rowMask: Int32Array): Promise<Float32Array> {
    const [encoder, crossKvGraph] = (await this.encoding.open()) as [OnnxSession, OnnxSession];
    const dims = [1, rowIds.length];
    const feeds: Record<string, ort.Tensor> = {};
    if (encoder.hasInput("attention_mask")) feeds["attention_mask"] = new ort.Tensor("int64", BigInt64Array.from(rowMask, BigInt), dims);
    else if (rowMask.includes(0)) throw new CompiledBartError("the compiled encoder takes right-padded rows only (a row has padding before its last token)");
    if (encoder.hasInput("input_ids")) feeds["input_ids"] = new ort.Tensor("int64", BigInt64Array.from(rowIds, BigInt), dims);
    if (this.encoderTable) feeds[TOKEN_EMBEDDINGS_INPUT] = this.encoderTable.lookup(rowIds, dims);
    const encoded = await encoder.run(feeds);
    const hidden = encoded["last_hidden_state"];
    if (!hidden) throw new CompiledBartError("encoder returned no last_hidden_state");
    const cross = await crossKvGraph.run({ encoder_hidden_states: hidden });
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
    return this.inRowOrder(state, logits!);
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

  async decodeTopK(state: CompiledBartState, tokens: Int32Array, step: TopKStep): Promise<{ scores: Float32Array; indices: Int32Array; logits?: Float32Array }> {
    this.checkLive(state);
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

  /** An empty running batch (`RunningBatchModel`): articles join it one at a time with `join`. */
  openRunning(): CompiledBartState {
    const groups = Array.from({ length: SOURCE_GROUPS }, () => new SourceGroup(0, 0, 0, new Float32Array(0), new Float32Array(0)));
    return new CompiledBartState(groups, new Float32Array(0), this.cacheBlocks(PREFIX_CHUNK, this.prefixPool), this.cacheBlocks(SUFFIX_CHUNK, this.suffixPool), this.maxPositionEmbeddings);
  }

  /**
   * Encodes one article and adds it to a running batch with `beams` rows (see running-layout.ts for where
   * it goes). Both phases' sessions stay loaded: encoding and decoding now alternate step by step.
   */
  async join(state: CompiledBartState, ids: Int32Array, beams: number, key: number): Promise<void> {
    this.checkLive(state);
    if (ids.length > this.maxPositionEmbeddings) {
      throw new CompiledBartError(`input of ${ids.length} tokens exceeds max_position_embeddings ${this.maxPositionEmbeddings}`);
    }
    if (state.articles > 0 && state.rows !== state.articles * beams) throw new CompiledBartError(`a running batch has ${state.rows / state.articles} rows per article, not ${beams}`);
    const cross = await this.encodeRow(ids, new Int32Array(ids.length).fill(1));
    const shape = { layers: this.layers, heads: this.heads, headDim: this.headDim, maxPositions: this.maxPositionEmbeddings };
    const g = chooseGroup(state.groups, ids.length, this.maxPositionEmbeddings);
    const make = (articles: number, capacity: number, width: number, crossKv: Float32Array, bias: Float32Array) => new SourceGroup(articles, capacity, width, crossKv, bias);
    growGroup(state, g, ids.length, shape, make);
    const group = state.groups[g]!;
    const at = g === 0 ? group.articles : state.articles;
    insertArticleRows(state, at, beams, key);
    writeArticleCross(group, group.articles, cross, ids.length, shape);
    // ~17 MB for a 350-token article, copied out of ONNX Runtime and now written into the group.
    releaseNow(cross);
    group.articles++;
  }

  articleKeys(state: CompiledBartState): readonly number[] {
    return state.keys;
  }

  paddingBytesAfterJoin(state: CompiledBartState, sourceLength: number): number {
    // Keys and values of every layer, float32, per source position.
    const perPosition = 2 * this.layers * this.heads * this.headDim * 4;
    return perPosition * paddedPositionsAfterJoin(state.groups, sourceLength, this.maxPositionEmbeddings);
  }

  /**
   * The logits of the last step, recomputed from its own inputs. Its mask still masks the suffix slot the
   * step filled afterwards, so the same inputs give the same logits.
   */
  async replayLogits(state: CompiledBartState): Promise<Float32Array> {
    this.checkLive(state);
    const feeds = state.lastFeeds;
    if (!feeds) throw new CompiledBartError("replayLogits: no step to replay");
    const outputs = await (await this.stepSession()).run(feeds, ["logits"]);
    return this.inRowOrder(state, outputs["logits"]!.data as Float32Array);
  }

  selectRows(state: CompiledBartState, sourceRows: Int32Array): void {
    this.checkLive(state);
    const rows = sourceRows.length;
    const newArticle = Int32Array.from(sourceRows, (s) => state.article[s]!);
    const started = state.length.some((length) => length > 0);
    if (started && this.renameSlots(state, sourceRows)) {
      state.lastFeeds = null;
      return;
    }
    if (started) this.moveRows(state, sourceRows);
    state.physical = Int32Array.from({ length: rows }, (_, i) => i);
    state.logical = Int32Array.from({ length: rows }, (_, i) => i);
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
    state.prefix.release();
    state.suffix.release();
    if (state.crossStorage.length > 0) this.crossPool.give(state.crossStorage);
    // A running batch's groups each own their buffer, sized to that batch: freed now, not pooled.
    else for (const group of state.groups) releaseNow(group.crossKv);
    state.crossStorage = new Float32Array(0);
    state.lastFeeds = null;
  }

  async dispose(): Promise<void> {
    this.encoderTable?.close();
    this.stepTable.close();
    await Promise.all([this.encoding.close(), this.decoding.close()]);
  }

  private async stepSession(): Promise<OnnxSession> {
    return (await this.decoding.open())[0]!;
  }

  private cacheBlocks(chunk: number, pool: BufferPool): KvBlocks {
    return new KvBlocks(2 * this.layers, this.heads, this.headDim, this.maxPositionEmbeddings, chunk, pool);
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
    if (state.length.some((t) => t + 1 > this.maxPositionEmbeddings)) {
      throw new CompiledBartError(`decoder length would exceed max_position_embeddings ${this.maxPositionEmbeddings}; lower max_length`);
    }
    if (rows % state.articles !== 0) throw new CompiledBartError(`${rows} rows are not an equal number per article (${state.articles})`);
    this.flushSharedPositions(state);
    const M = state.maxPositions;
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
      const t = state.length[state.article[slot]!]!;
      slotTokens[slot] = tokens[row]!;
      slotScores[slot] = beamScores[row] ?? 0;
      state.history[slot * M + t] = tokens[row]!;
      positions[slot] = BigInt(t + POSITION_OFFSET);
    }
    let longestPrefix = 1;
    let longestSuffix = 1;
    for (let a = 0; a < state.articles; a++) {
      longestPrefix = Math.max(longestPrefix, state.prefixLength[a]!);
      longestSuffix = Math.max(longestSuffix, state.length[a]! + 1 - state.prefixLength[a]!);
    }
    // Never an empty block: unfilled slots are masked, and ORT need not handle zero-length attention.
    state.prefix.ensure(state.articles, longestPrefix);
    state.suffix.ensure(rows, longestSuffix);
    this.ensureBias(rows);
    const perArticle = rows / state.articles;
    const { heads, headDim } = this;
    const P = state.prefix.capacity;
    const U = state.suffix.capacity;
    const width = P + U + 1;
    if (state.selfMask.length < rows * width) state.selfMask = new Float32Array(rows * width);
    const mask = state.selfMask.subarray(0, rows * width);
    mask.fill(-Infinity);
    for (let r = 0; r < rows; r++) {
      const prefixLength = state.prefixLength[state.article[r]!]!;
      const base = r * width;
      mask.fill(0, base, base + prefixLength);
      mask.fill(0, base + P, base + P + (state.length[state.article[r]!]! - prefixLength));
      mask[base + width - 1] = 0;
    }
    this.topK[0] = BigInt(k);
    const feeds: Record<string, ort.Tensor> = {
      [TOKEN_EMBEDDINGS_INPUT]: this.stepTable.lookup(slotTokens, [rows, 1]),
      position_ids: new ort.Tensor("int64", positions, [rows]),
      self_mask: new ort.Tensor("float32", mask, [rows, 1, 1, width]),
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
      for (let l = 0; l < this.layers; l++) {
        const keyStart = 2 * l * crossBlock;
        const valueStart = (2 * l + 1) * crossBlock;
        feeds[`cross_key.${g}.${l}`] = new ort.Tensor("float32", group.crossKv.subarray(keyStart, keyStart + crossSize), [B, heads, S, headDim]);
        feeds[`cross_value.${g}.${l}`] = new ort.Tensor("float32", group.crossKv.subarray(valueStart, valueStart + crossSize), [B, heads, S, headDim]);
      }
    });
    for (let l = 0; l < this.layers; l++) {
      feeds[`prefix_key.${l}`] = new ort.Tensor("float32", state.prefix.view(2 * l, state.articles), [state.articles, heads, P, headDim]);
      feeds[`prefix_value.${l}`] = new ort.Tensor("float32", state.prefix.view(2 * l + 1, state.articles), [state.articles, heads, P, headDim]);
      feeds[`suffix_key.${l}`] = new ort.Tensor("float32", state.suffix.view(2 * l, rows), [rows, heads, U, headDim]);
      feeds[`suffix_value.${l}`] = new ort.Tensor("float32", state.suffix.view(2 * l + 1, rows), [rows, heads, U, headDim]);
    }
    const outputs = await (await this.stepSession()).run(feeds, fetch);
    const newKv = outputs["new_kv"];
    if (!newKv) throw new CompiledBartError("step graph returned no new_kv");
    this.appendKv(state, newKv.data as Float32Array);
    // Copied into the suffix blocks: ~2 MB a step at 45 rows that would otherwise wait for the collector.
    releaseNow(newKv.data as Float32Array);
    state.lastFeeds = feeds;
    return outputs;
  }

  /** Writes [2L, rows, heads, 1, headDim] into each row's suffix at the current position and advances it. */
  private appendKv(state: CompiledBartState, newKv: Float32Array): void {
    const { heads, headDim } = this;
    const rows = state.rows;
    const suffix = state.suffix;
    for (let p = 0; p < 2 * this.layers; p++) {
      const cache = suffix.buffers[p]!;
      for (let r = 0; r < rows; r++) {
        const article = state.article[r]!;
        const slot = state.length[article]! - state.prefixLength[article]!;
        for (let h = 0; h < heads; h++) {
          const from = ((p * rows + r) * heads + h) * headDim;
          const to = suffix.offset(r, h, slot);
          // 3,840 runs of 64 floats a step at 20 rows: a plain loop costs less than `set` plus the
          // `subarray` it needs (0.78 s -> 0.35 s over the bench's int8 common phase, V8's profiler).
          for (let i = 0; i < headDim; i++) cache[to + i] = newKv[from + i]!;
        }
      }
    }
    for (let a = 0; a < state.articles; a++) state.length[a]!++;
  }

  /**
   * Moves the positions every beam of an article has come to agree on, once at least FLUSH_POSITIONS
   * of them, from the beams' suffixes to the article's prefix. Those positions have the same keys and
   * values in every beam (the same graph computed them from the same tokens), so one beam's are copied.
   */
  private flushSharedPositions(state: CompiledBartState): void {
    const beams = state.rows / state.articles;
    const M = state.maxPositions;
    const { heads, headDim } = this;
    const { prefix, suffix, history } = state;
    for (let a = 0; a < state.articles; a++) {
      const t = state.length[a]!;
      const start = state.prefixLength[a]!;
      const first = a * beams;
      let agreed = start;
      scan: for (; agreed < t; agreed++) {
        const token = history[first * M + agreed];
        for (let j = 1; j < beams; j++) if (history[(first + j) * M + agreed] !== token) break scan;
      }
      const moved = agreed - start;
      if (moved < FLUSH_POSITIONS) continue;
      prefix.ensure(state.articles, agreed);
      const filled = t - start;
      for (let p = 0; p < 2 * this.layers; p++) {
        const to = prefix.buffers[p]!;
        const from = suffix.buffers[p]!;
        for (let h = 0; h < heads; h++) {
          const at = suffix.offset(first, h, 0);
          to.set(from.subarray(at, at + moved * headDim), prefix.offset(a, h, start));
        }
        for (let j = 0; j < beams; j++) {
          for (let h = 0; h < heads; h++) {
            const at = suffix.offset(first + j, h, 0);
            from.copyWithin(at, at + moved * headDim, at + filled * headDim);
          }
        }
      }
      state.prefixLength[a] = agreed;
    }
  }

  /**
   * A reorder that keeps every article and its number of rows: each row takes its source's slot; a
   * source taken by several rows gives its slot to the first, and the others get a slot no row took,
   * with the positions where that slot's history differs copied in. Nothing is copied for a beam that
   * merely changed rank. False when the reorder changes the rows (then `moveRows` lays them out anew).
   */
  private renameSlots(state: CompiledBartState, sourceRows: Int32Array): boolean {
    const rows = sourceRows.length;
    if (rows !== state.rows) return false;
    const beams = rows / state.articles;
    for (let i = 0; i < rows; i++) if (Math.floor(sourceRows[i]! / beams) !== Math.floor(i / beams)) return false;
    const { heads, headDim } = this;
    const M = state.maxPositions;
    const suffix = state.suffix;
    const physical = new Int32Array(rows).fill(-1);
    const taken = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) {
      const slot = state.physical[sourceRows[i]!]!;
      if (!taken[slot]) {
        taken[slot] = 1;
        physical[i] = slot;
      }
    }
    for (let i = 0; i < rows; i++) {
      if (physical[i]! >= 0) continue;
      const first = Math.floor(i / beams) * beams;
      let free = first;
      while (taken[free]) free++;
      taken[free] = 1;
      physical[i] = free;
      const from = state.physical[sourceRows[i]!]!;
      const prefixLength = state.prefixLength[state.article[i]!]!;
      const t = state.length[state.article[i]!]!;
      const same = agreeingPositions(state, free, from, prefixLength, t);
      state.history.copyWithin(free * M + same, from * M + same, from * M + t);
      const start = same - prefixLength;
      const length = (t - same) * headDim;
      if (length === 0) continue;
      for (let p = 0; p < 2 * this.layers; p++) {
        const cache = suffix.buffers[p]!;
        for (let h = 0; h < heads; h++) {
          const at = suffix.offset(from, h, start);
          cache.copyWithin(suffix.offset(free, h, start), at, at + length);
        }
      }
    }
    const logical = new Int32Array(rows);
    for (let i = 0; i < rows; i++) logical[physical[i]!] = i;
    state.physical = physical;
    state.logical = logical;
    return true;
  }

  /**
   * New row i continues old row sourceRows[i] (its slot): its suffix and token history, laid out in
   * row order (slot i for row i). Slots that keep their own content are not touched; of the others
   * only positions where the histories differ are written (the keys and values of equal tokens of the
   * same article are equal: computed by the same graph from the same inputs); slots that are a source
   * *and* get overwritten are saved first, from the earliest position any of their readers needs.
   */
  private moveRows(state: CompiledBartState, rowSources: Int32Array): void {
    const rows = rowSources.length;
    const { heads, headDim } = this;
    const M = state.maxPositions;
    const suffix = state.suffix;
    const oldBeams = state.rows / state.articles;
    const sourceRows = Int32Array.from(rowSources, (row) => state.physical[row]!);
    // Suffix slots: position p of a row of article a is slot p - prefixLength[a] (rows keep their article).
    const articleOfSlot = (slot: number): number => state.article[state.logical[slot]!]!;
    const prefixOf = (slot: number): number => state.prefixLength[articleOfSlot(slot)]!;
    const lengthOf = (slot: number): number => state.length[articleOfSlot(slot)]!;
    // Positions slot i already holds: its own article's, with the same tokens as its new source.
    const unchangedPrefix = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      const source = sourceRows[i]!;
      if (source === i) unchangedPrefix[i] = lengthOf(source);
      else if (i < state.rows && Math.floor(i / oldBeams) === Math.floor(source / oldBeams)) {
        unchangedPrefix[i] = agreeingPositions(state, i, source, 0, lengthOf(source));
      }
    }
    suffix.ensure(Math.max(rows, state.rows), 1);
    // Token histories: whole rows into the spare buffer, then swapped.
    if (this.historyNext.length < Math.max(rows, state.rows) * M) this.historyNext = new Int32Array(Math.max(rows, state.rows) * M);
    const nextHistory = this.historyNext;
    for (let i = 0; i < rows; i++) nextHistory.set(state.history.subarray(sourceRows[i]! * M, sourceRows[i]! * M + lengthOf(sourceRows[i]!)), i * M);
    if (state.history.length < nextHistory.length) state.history = new Int32Array(nextHistory.length);
    this.historyNext = state.history;
    state.history = nextHistory;

    const from = (i: number): number => Math.max(0, Math.min(unchangedPrefix[i]!, lengthOf(sourceRows[i]!)) - prefixOf(sourceRows[i]!));
    const filledOf = (slot: number): number => lengthOf(slot) - prefixOf(slot);
    const overwritten = new Uint8Array(Math.max(rows, state.rows));
    for (let i = 0; i < rows; i++) if (sourceRows[i] !== i && from(i) < filledOf(sourceRows[i]!)) overwritten[i] = 1;
    const saved = new Map<number, { slot: number; start: number }>();
    let longest = 0;
    for (let i = 0; i < rows; i++) {
      const s = sourceRows[i]!;
      if (s === i || from(i) >= filledOf(s) || s >= overwritten.length || !overwritten[s]) continue;
      longest = Math.max(longest, filledOf(s));
      const entry = saved.get(s);
      if (entry) entry.start = Math.min(entry.start, from(i));
      else saved.set(s, { slot: saved.size, start: from(i) });
    }
    const slotSize = heads * longest * headDim;
    if (this.stash.length < saved.size * slotSize) this.stash = new Float32Array(saved.size * slotSize);
    const stash = this.stash;
    for (let p = 0; p < 2 * this.layers; p++) {
      const cache = suffix.buffers[p]!;
      for (const [row, { slot, start }] of saved) {
        const filled = filledOf(row);
        for (let h = 0; h < heads; h++) {
          const at = suffix.offset(row, h, 0);
          const to = slot * slotSize + h * longest * headDim;
          stash.set(cache.subarray(at + start * headDim, at + filled * headDim), to + start * headDim);
        }
      }
      for (let i = 0; i < rows; i++) {
        const s = sourceRows[i]!;
        const start = from(i);
        const filled = filledOf(s);
        if (s === i || start >= filled) continue;
        const entry = saved.get(s);
        for (let h = 0; h < heads; h++) {
          const to = suffix.offset(i, h, start);
          const length = (filled - start) * headDim;
          if (entry) {
            const at = entry.slot * slotSize + h * longest * headDim + start * headDim;
            cache.set(stash.subarray(at, at + length), to);
          } else {
            const at = suffix.offset(s, h, start);
            cache.copyWithin(to, at, at + length);
          }
        }
      }
    }
  }

  /** Keeps the cross-attention data and prefixes of `kept` articles (increasing old slots), compacted to the front. */
  private compactArticles(state: CompiledBartState, kept: readonly number[]): void {
    for (let i = 1; i < kept.length; i++) {
      if (kept[i]! <= kept[i - 1]!) throw new CompiledBartError("articles can only be dropped, not reordered");
    }
    let first = 0;
    for (const group of state.groups) {
      // This group's kept articles, as slots within the group.
      const groupKept = kept.filter((a) => a >= first && a < first + group.articles).map((a) => a - first);
      first += group.articles;
      const S = group.sourceLength;
      const articleSize = this.heads * S * this.headDim;
      const block = group.capacity * articleSize;
      for (let p = 0; p < 2 * this.layers; p++) {
        const base = p * block;
        groupKept.forEach((from, to) => {
          if (from !== to) group.crossKv.copyWithin(base + to * articleSize, base + from * articleSize, base + (from + 1) * articleSize);
        });
      }
      groupKept.forEach((from, to) => {
        if (from !== to) group.encoderBias.copyWithin(to * S, from * S, (from + 1) * S);
      });
      group.articles = groupKept.length;
    }
    const prefix = state.prefix;
    if (prefix.buffers.length > 0) {
      const prefixSize = prefix.offset(1, 0, 0);
      for (let p = 0; p < 2 * this.layers; p++) {
        kept.forEach((from, to) => {
          if (from !== to) prefix.buffers[p]!.copyWithin(to * prefixSize, from * prefixSize, (from + 1) * prefixSize);
        });
      }
    }
    state.prefixLength = Int32Array.from(kept, (from) => state.prefixLength[from]!);
    state.length = Int32Array.from(kept, (from) => state.length[from]!);
    state.keys = kept.map((from) => state.keys[from]!);
    state.articles = kept.length;
  }
}

/**
 * How many leading positions two slots' token histories share, counting from `from` (positions before
 * it are known to agree). Slots of one article with the same tokens hold the same keys and values.
 */
function agreeingPositions(state: CompiledBartState, slot: number, other: number, from: number, t: number): number {
  const { history, maxPositions: M } = state;
  let same = from;
  while (same < t && history[slot * M + same] === history[other * M + same]) same++;
  return same;
}

export async function loadCompiledBart(files: CompiledBartFiles, options: OrtSessionOptions = {}, residency: SessionResidency = {}): Promise<CompiledBartModel> {
  return CompiledBartModel.load(files, options, residency);
}
