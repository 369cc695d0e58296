/**
 * What a compiled-decoder batch carries from step to step (`CompiledBartState`): its articles and rows,
 * the self-attention cache and the map from rows to cache slots (kept up to date by `kv-cache-manager.ts`),
 * and the articles' cross-attention inputs (`source-groups.ts`). Its own module so that the encoder, the
 * step and the cache manager can all read it without importing the model that ties them together.
 */

import type ort from "onnxruntime-node";
import type { DecoderState } from "../generation/seq2seq-model.js";
import type { KvBlocks } from "./kv-blocks.js";
import type { SourceGroup } from "./source-groups.js";

/** The sizes every part of the compiled decoder lays its buffers out by. */
export interface DecoderShape {
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
  /** `max_position_embeddings`: the longest source and the longest decoder sequence. */
  readonly maxPositions: number;
}

export class CompiledBartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CompiledBartError";
  }
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
