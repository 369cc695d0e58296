/**
 * The compiled decoder's self-attention cache manager: which cache slot holds which beam, and what
 * happens to the cache when a step appends to it, beams agree, are reordered, or leave.
 *
 * The cache is ours, in buffers the step graph reads in place (ORT wraps input buffers without copying),
 * in two parts (`KvBlocks`, storage recycled through `BufferPool`s): the positions all beams of an article
 * agree on, once per article (`prefix`, [articles, heads, capacity, head_dim] per layer and key/value), and
 * each row's positions after that (`suffix`, [rows, heads, capacity, head_dim]). Each step returns only the
 * new token's keys/values ([2L, rows, heads, 1, head_dim]), written into the suffix. When an article's beams
 * have come to agree on `FLUSH_POSITIONS` more positions, those move from its suffix to its prefix. Beams
 * share all but the last few positions, so the cache is about a beam's worth per article instead of one
 * per beam, and a step reads it about that much less. Capacities grow in chunks; unfilled slots are masked
 * (`selfMask`, per row).
 *
 * A beam reorder renames the rows' cache slots (`physical`/`logical`) and copies only for a beam that two
 * rows continue, only the positions where their histories differ; dropping finished articles compacts the
 * buffers in place. No step allocates a cache buffer.
 */

import { CompiledBartError, CompiledBartState, type DecoderShape } from "./compiled-bart-state.js";
import { BufferPool, KvBlocks } from "./kv-blocks.js";
import { compactSourceGroups, type SourceGroup } from "./source-groups.js";

/** Prefix capacity grows by this many positions at a time. */
export const PREFIX_CHUNK = 32;
/** Suffix capacity grows by this many positions at a time. */
export const SUFFIX_CHUNK = 16;
/**
 * Positions an article's beams must newly agree on before they move from the suffix to the prefix.
 * Depends only on the article's own beams, so an article's numbers never depend on its batch-mates.
 */
export const FLUSH_POSITIONS = 16;

export class KvCacheManager {
  /**
   * Self-attention cache buffers of finished batches, for the next batch: one pool per role, so the next
   * batch's prefix lands in the pages an earlier prefix already touched (and likewise the suffix). From
   * one shared pool, a prefix could take an old suffix buffer, whose touched pages sit elsewhere in its
   * layout: the bench's second call touched ~80 MB of new pages that way while the old ones stayed.
   */
  private readonly prefixPool = new BufferPool();
  private readonly suffixPool = new BufferPool();
  /** Rows saved while the cache is reordered; grows to the largest need and is reused. */
  private stash = new Float32Array(0);
  /** Token history of the rows being reordered; swapped with the state's. */
  private historyNext: Int32Array = new Int32Array(0);

  constructor(private readonly shape: DecoderShape) {}

  /** A batch of these encoded articles (one row each, nothing decoded yet), its cache on pooled buffers. */
  openState(groups: SourceGroup[], crossStorage: Float32Array): CompiledBartState {
    return new CompiledBartState(groups, crossStorage, this.blocks(PREFIX_CHUNK, this.prefixPool), this.blocks(SUFFIX_CHUNK, this.suffixPool), this.shape.maxPositions);
  }

  /** Gives the state's cache buffers back to the pools for the next batch. */
  release(state: CompiledBartState): void {
    state.prefix.release();
    state.suffix.release();
  }

  /**
   * Readies the cache for a step whose input tokens are `slotTokens` (in slot order): moves agreed
   * positions to the prefixes, records the tokens in the history, and makes room for one more position.
   */
  prepareStep(state: CompiledBartState, slotTokens: Int32Array): void {
    this.flushSharedPositions(state);
    const M = state.maxPositions;
    for (let slot = 0; slot < state.rows; slot++) state.history[slot * M + state.length[state.article[slot]!]!] = slotTokens[slot]!;
    let longestPrefix = 1;
    let longestSuffix = 1;
    for (let a = 0; a < state.articles; a++) {
      longestPrefix = Math.max(longestPrefix, state.prefixLength[a]!);
      longestSuffix = Math.max(longestSuffix, state.length[a]! + 1 - state.prefixLength[a]!);
    }
    // Never an empty block: unfilled slots are masked, and ORT need not handle zero-length attention.
    state.prefix.ensure(state.articles, longestPrefix);
    state.suffix.ensure(state.rows, longestSuffix);
  }

  /**
   * The step's self-attention mask, [rows, prefixCapacity + suffixCapacity + 1] in slot order: each row
   * sees its article's filled prefix, its own filled suffix and the new position; the rest is -inf.
   */
  selfMask(state: CompiledBartState): Float32Array {
    const rows = state.rows;
    const P = state.prefix.capacity;
    const width = P + state.suffix.capacity + 1;
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
    return mask;
  }

  /** Writes [2L, rows, heads, 1, headDim] into each row's suffix at the current position and advances it. */
  append(state: CompiledBartState, newKv: Float32Array): void {
    const { heads, headDim } = this.shape;
    const rows = state.rows;
    const suffix = state.suffix;
    for (let p = 0; p < 2 * this.shape.layers; p++) {
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
   * New row i continues old row `sourceRows[i]` (`DecoderState` semantics): a reorder within articles
   * renames slots; any other selection lays the rows out anew, and articles no row continues leave the
   * batch (their prefixes, lengths, keys and cross-attention inputs compacted to the front).
   */
  selectRows(state: CompiledBartState, sourceRows: Int32Array): void {
    const rows = sourceRows.length;
    const newArticle = Int32Array.from(sourceRows, (s) => state.article[s]!);
    const started = state.length.some((length) => length > 0);
    if (started && this.renameSlots(state, sourceRows)) return;
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
  }

  private blocks(chunk: number, pool: BufferPool): KvBlocks {
    const { layers, heads, headDim, maxPositions } = this.shape;
    return new KvBlocks(2 * layers, heads, headDim, maxPositions, chunk, pool);
  }

  /**
   * Moves the positions every beam of an article has come to agree on, once at least FLUSH_POSITIONS
   * of them, from the beams' suffixes to the article's prefix. Those positions have the same keys and
   * values in every beam (the same graph computed them from the same tokens), so one beam's are copied.
   */
  private flushSharedPositions(state: CompiledBartState): void {
    const beams = state.rows / state.articles;
    const M = state.maxPositions;
    const { heads, headDim } = this.shape;
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
      for (let p = 0; p < 2 * this.shape.layers; p++) {
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
    const { heads, headDim } = this.shape;
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
      for (let p = 0; p < 2 * this.shape.layers; p++) {
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
    const { heads, headDim } = this.shape;
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
    for (let p = 0; p < 2 * this.shape.layers; p++) {
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
    compactSourceGroups(state.groups, kept, this.shape);
    const prefix = state.prefix;
    if (prefix.buffers.length > 0) {
      const prefixSize = prefix.offset(1, 0, 0);
      for (let p = 0; p < 2 * this.shape.layers; p++) {
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
