/**
 * The compiled decoder's self-attention cache manager (src/runtime/onnx/kv-cache-manager.ts) without ONNX:
 * a stand-in for the step graph hands it keys/values that are a function of the row's article and its
 * whole token history (as the real graph's are), and after every step, beam reorder, flush, growth and
 * compaction each row's cache, read back through the prefix/suffix layout, must hold exactly the values
 * its own history gives. The expected histories are kept here, apart from the manager's.
 */
import { describe, expect, it } from "vitest";
import type { CompiledBartState, DecoderShape } from "../src/runtime/onnx/compiled-bart-state.js";
import { FLUSH_POSITIONS, KvCacheManager, PREFIX_CHUNK, SUFFIX_CHUNK } from "../src/runtime/onnx/kv-cache-manager.js";
import { SourceGroup } from "../src/runtime/onnx/source-groups.js";

const SHAPE: DecoderShape = { layers: 1, heads: 2, headDim: 3, maxPositions: 64 };
const PARTS = 2 * SHAPE.layers;

/**
 * The stand-in graph's key/value element for a row of article `key` whose tokens so far are `tokens`
 * (the position's own included): an integer hash of the history plus a fraction naming part, head and
 * element. Below 2^16 with 1/32 steps, so float32 holds it exactly.
 */
function kvValue(key: number, tokens: readonly number[], part: number, head: number, i: number): number {
  let hash = 7919 * (key + 1);
  for (const token of tokens) hash = (hash * 31 + token + 1) % 65521;
  return hash + part * 0.5 + head * 0.25 + i / 32;
}

/** Cross-attention group holding `articles` articles, each element `100 * article + index` (to follow compaction). */
function crossGroup(articles: number, first: number): SourceGroup {
  const width = 2;
  const articleSize = SHAPE.heads * width * SHAPE.headDim;
  const crossKv = new Float32Array(PARTS * articles * articleSize);
  for (let p = 0; p < PARTS; p++) {
    for (let a = 0; a < articles; a++) {
      for (let i = 0; i < articleSize; i++) crossKv[(p * articles + a) * articleSize + i] = 100 * (first + a) + i;
    }
  }
  const bias = Float32Array.from({ length: articles * width }, (_, i) => first + Math.floor(i / width));
  return new SourceGroup(articles, articles, width, crossKv, bias);
}

/** A batch under the manager, with the expected token history of every row kept beside it. */
class Harness {
  readonly state: CompiledBartState;
  /** Expected: each row's article key and tokens, in row order. */
  rowKey: number[];
  rowTokens: number[][];

  constructor(
    readonly cache: KvCacheManager,
    groupSizes: readonly number[],
  ) {
    let first = 0;
    const groups = groupSizes.map((size) => {
      const group = crossGroup(size, first);
      first += size;
      return group;
    });
    this.state = cache.openState(groups, new Float32Array(0));
    this.rowKey = Array.from({ length: first }, (_, i) => i);
    this.rowTokens = this.rowKey.map(() => []);
  }

  /** One step with these input tokens (row order), as `CompiledBartStep.run` drives the manager. */
  step(tokens: readonly number[]): void {
    const { state, cache } = this;
    const rows = state.rows;
    expect(tokens.length).toBe(rows);
    const slotTokens = Int32Array.from({ length: rows }, (_, slot) => tokens[state.logical[slot]!]!);
    cache.prepareStep(state, slotTokens);
    this.expectMask(cache.selfMask(state));
    // new_kv: [2L, rows, heads, 1, headDim] in slot order.
    const newKv = new Float32Array(PARTS * rows * SHAPE.heads * SHAPE.headDim);
    for (let slot = 0; slot < rows; slot++) {
      const row = state.logical[slot]!;
      const history = [...this.rowTokens[row]!, tokens[row]!];
      for (let p = 0; p < PARTS; p++) {
        for (let h = 0; h < SHAPE.heads; h++) {
          for (let i = 0; i < SHAPE.headDim; i++) newKv[((p * rows + slot) * SHAPE.heads + h) * SHAPE.headDim + i] = kvValue(this.rowKey[row]!, history, p, h, i);
        }
      }
    }
    cache.append(state, newKv);
    tokens.forEach((token, row) => this.rowTokens[row]!.push(token));
    this.expectCache();
  }

  /** `selectRows`, and the same selection applied to the expected histories. */
  select(sourceRows: readonly number[]): void {
    this.cache.selectRows(this.state, Int32Array.from(sourceRows));
    this.rowKey = sourceRows.map((s) => this.rowKey[s]!);
    this.rowTokens = sourceRows.map((s) => [...this.rowTokens[s]!]);
    this.expectCache();
  }

  /** Every row's filled positions, read through its article's prefix and its own suffix slot. */
  expectCache(): void {
    const { state } = this;
    expect(state.rows).toBe(this.rowTokens.length);
    expect(Array.from(state.physical).sort((a, b) => a - b)).toEqual(this.rowTokens.map((_, i) => i));
    for (let row = 0; row < state.rows; row++) {
      const article = state.article[row]!;
      const tokens = this.rowTokens[row]!;
      expect(state.keys[article]).toBe(this.rowKey[row]);
      expect(state.logical[state.physical[row]!]).toBe(row);
      expect(state.length[article]).toBe(tokens.length);
      const prefixLength = state.prefixLength[article]!;
      const got: number[] = [];
      const want: number[] = [];
      for (let t = 0; t < tokens.length; t++) {
        for (let p = 0; p < PARTS; p++) {
          for (let h = 0; h < SHAPE.heads; h++) {
            const at = t < prefixLength ? state.prefix.offset(article, h, t) : state.suffix.offset(state.physical[row]!, h, t - prefixLength);
            const buffer = (t < prefixLength ? state.prefix : state.suffix).buffers[p]!;
            for (let i = 0; i < SHAPE.headDim; i++) {
              got.push(buffer[at + i]!);
              want.push(kvValue(this.rowKey[row]!, tokens.slice(0, t + 1), p, h, i));
            }
          }
        }
      }
      expect(got, `row ${row} (article key ${this.rowKey[row]})`).toEqual(want);
    }
  }

  /** Row (slot) r sees its article's filled prefix, its own filled suffix and the new position, nothing else. */
  private expectMask(mask: Float32Array): void {
    const { state } = this;
    const P = state.prefix.capacity;
    const width = P + state.suffix.capacity + 1;
    expect(mask.length).toBe(state.rows * width);
    for (let slot = 0; slot < state.rows; slot++) {
      const article = state.article[slot]!;
      const prefixLength = state.prefixLength[article]!;
      const filled = state.length[article]! - prefixLength;
      const open: number[] = [];
      for (let i = 0; i < width; i++) if (mask[slot * width + i] === 0) open.push(i);
      const expected = [
        ...Array.from({ length: prefixLength }, (_, i) => i),
        ...Array.from({ length: filled }, (_, i) => P + i),
        width - 1,
      ];
      expect(open).toEqual(expected);
    }
  }
}

describe("KvCacheManager", () => {
  it("appends each row's keys/values at its article's position, growing the suffix in chunks", () => {
    const batch = new Harness(new KvCacheManager(SHAPE), [2]);
    batch.step([2, 2]);
    expect(Array.from(batch.state.length)).toEqual([1, 1]);
    expect(batch.state.suffix.capacity).toBe(SUFFIX_CHUNK);
    batch.select([0, 0, 1, 1]);
    // Each article's beams differ from their second position on, so nothing moves to a prefix, and the
    // step that writes position 17 outgrows the first chunk.
    for (let t = 1; t <= SUFFIX_CHUNK; t++) batch.step([10 + t, 20 + t, 30 + t, 40 + t]);
    expect(Array.from(batch.state.prefixLength)).toEqual([0, 0]);
    expect(Array.from(batch.state.length)).toEqual([SUFFIX_CHUNK + 1, SUFFIX_CHUNK + 1]);
    expect(batch.state.suffix.capacity).toBe(2 * SUFFIX_CHUNK);
  });

  it("a reorder within articles renames slots and copies only the beam two rows continue", () => {
    const batch = new Harness(new KvCacheManager(SHAPE), [2]);
    const { state } = batch;
    batch.step([2, 2]);
    // Beam expansion: two rows per article continue its one row.
    batch.select([0, 0, 1, 1]);
    batch.step([5, 6, 7, 8]);
    batch.step([9, 9, 9, 4]);
    const before = state.suffix.buffers.map((buffer) => buffer.slice());
    const storage = state.suffix.buffers[0]!.buffer;
    // Article 0's beams swap ranks; article 1's second beam (row 3) is taken by both of its rows.
    batch.select([1, 0, 3, 3]);
    // Row 0 continues old row 1 in its slot and row 1 old row 0; row 2 takes old row 3's slot, row 3 the free one.
    expect(Array.from(state.physical)).toEqual([1, 0, 3, 2]);
    expect(Array.from(state.logical)).toEqual([1, 0, 3, 2]);
    expect(state.suffix.buffers[0]!.buffer).toBe(storage);
    const slotSize = state.suffix.offset(1, 0, 0);
    state.suffix.buffers.forEach((buffer, p) => {
      // Nothing written for article 0 (slots 0 and 1), nor for the slot that kept its content (3).
      expect(buffer.subarray(0, 2 * slotSize)).toEqual(before[p]!.subarray(0, 2 * slotSize));
      expect(buffer.subarray(3 * slotSize, 4 * slotSize)).toEqual(before[p]!.subarray(3 * slotSize, 4 * slotSize));
    });
    batch.step([1, 2, 3, 4]);
    batch.step([1, 1, 1, 1]);
  });

  it(`moves ${FLUSH_POSITIONS} positions an article's beams agree on to its prefix, whatever the other article's beams do`, () => {
    const batch = new Harness(new KvCacheManager(SHAPE), [2]);
    const { state } = batch;
    batch.step([2, 2]);
    batch.select([0, 0, 1, 1]);
    // Article 0's beams agree throughout; article 1's part at its third position.
    for (let t = 1; t < FLUSH_POSITIONS; t++) batch.step([30 + t, 30 + t, 40 + t, t === 2 ? 99 : 40 + t]);
    expect(Array.from(state.prefixLength)).toEqual([0, 0]);
    // The step that finds 16 agreed positions moves them before it appends.
    batch.step([7, 8, 7, 8]);
    expect(Array.from(state.prefixLength)).toEqual([FLUSH_POSITIONS, 0]);
    expect(state.prefix.capacity).toBe(PREFIX_CHUNK);
    // Reorders after a flush read the prefix for every beam of the article.
    batch.select([1, 1, 3, 2]);
    batch.step([3, 4, 5, 6]);
  });

  it("finished articles leave: their cache, lengths, keys and cross-attention inputs are compacted in place", () => {
    const batch = new Harness(new KvCacheManager(SHAPE), [2, 1]);
    const { state } = batch;
    batch.step([2, 2, 2]);
    batch.select([0, 0, 1, 1, 2, 2]);
    // Article 1's beams agree long enough to have a prefix, so compaction moves a prefix block too.
    for (let t = 1; t <= FLUSH_POSITIONS; t++) batch.step([t, t + 1, 50 + t, 50 + t, 60 + t, t === 3 ? 0 : 60 + t]);
    batch.step([1, 2, 3, 4, 5, 6]);
    expect(Array.from(state.prefixLength)).toEqual([0, FLUSH_POSITIONS, 0]);
    const suffixStorage = state.suffix.buffers[0]!.buffer;
    const prefixStorage = state.prefix.buffers[0]!.buffer;
    // Article 0 finishes: the rest move to the front; article 2's beams also swap.
    batch.select([2, 3, 5, 4]);
    expect(state.articles).toBe(2);
    expect(state.keys).toEqual([1, 2]);
    expect(Array.from(state.article)).toEqual([0, 0, 1, 1]);
    expect(Array.from(state.prefixLength)).toEqual([FLUSH_POSITIONS, 0]);
    expect(state.suffix.buffers[0]!.buffer).toBe(suffixStorage);
    expect(state.prefix.buffers[0]!.buffer).toBe(prefixStorage);
    // Group 0 kept article 1, now in its first slot; group 1 kept article 2 where it was.
    const [first, second] = state.groups as [SourceGroup, SourceGroup];
    expect(first.articles).toBe(1);
    expect(second.articles).toBe(1);
    const articleSize = SHAPE.heads * 2 * SHAPE.headDim;
    for (let p = 0; p < PARTS; p++) {
      expect(first.crossKv[p * 2 * articleSize]).toBe(100);
      expect(first.crossKv[p * 2 * articleSize + articleSize - 1]).toBe(100 + articleSize - 1);
      expect(second.crossKv[p * articleSize]).toBe(200);
    }
    expect(Array.from(first.encoderBias.subarray(0, 2))).toEqual([1, 1]);
    batch.step([9, 9, 9, 9]);
    // The second article finishes too; the one left collapses to one beam.
    batch.select([0]);
    expect(state.keys).toEqual([1]);
    batch.step([4]);
  });

  it("follows a long pseudo-random beam search: reorders, duplicates, flushes, growth and drops", () => {
    const batch = new Harness(new KvCacheManager(SHAPE), [2, 2]);
    const { state } = batch;
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const beams = 3;
    batch.step([2, 2, 2, 2]);
    batch.select([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    for (let t = 1; t < 45; t++) {
      // A small vocabulary, and beams mostly following the best one, so histories often agree.
      batch.step(Array.from({ length: state.rows }, () => (random(4) === 0 ? random(3) : 1)));
      const articles = state.articles;
      const sources: number[] = [];
      for (let a = 0; a < articles; a++) {
        // Article 0 finishes at step 20, the last article at step 30.
        if ((t === 20 && a === 0) || (t === 30 && a === articles - 1)) continue;
        for (let j = 0; j < beams; j++) sources.push(a * beams + (random(3) === 0 ? random(beams) : 0));
      }
      batch.select(sources);
    }
    expect(state.keys).toEqual([1, 2]);
    expect(state.length[0]).toBe(45);
    expect(state.prefixLength[0]).toBeGreaterThan(0);
    expect(state.suffix.capacity).toBeLessThan(45);
  });

  it("hands a released batch's buffers to the next batch, each role its own (prefix to prefix, suffix to suffix)", () => {
    const cache = new KvCacheManager(SHAPE);
    /** A batch of two articles, one row each for the first step and two beams each after it. */
    const run = (first: number): Harness => {
      const batch = new Harness(cache, [2]);
      batch.step([first, first]);
      batch.select([0, 0, 1, 1]);
      batch.step([5, 6, 7, 8]);
      return batch;
    };
    const one = run(2);
    const prefix = one.state.prefix.buffers[0]!.buffer;
    const suffix = one.state.suffix.buffers[0]!.buffer;
    // The one-row suffix the beams outgrew was the prefix's size: from a shared pool the next prefix
    // would take that buffer (its pages touched in another layout) instead of the old prefix.
    expect(suffix.byteLength).toBe(2 * prefix.byteLength);
    cache.release(one.state);
    expect(one.state.suffix.buffers).toEqual([]);
    const two = run(3);
    expect(two.state.prefix.buffers[0]!.buffer).toBe(prefix);
    expect(two.state.suffix.buffers[0]!.buffer).toBe(suffix);
    // Reused memory holds the first batch's numbers past the filled positions: only filled ones are read.
    two.step([1, 1, 1, 1]);
  });
});
