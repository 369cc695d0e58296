/**
 * The compiled decoder's encoding phase: each article through the encoder and the cross-kv graph, its
 * cross-attention keys/values written into its source group (`source-groups.ts`) of the batch's buffer,
 * or, for a running batch, into the group `running-layout.ts` picks.
 */

import ort from "onnxruntime-node";
import type { TokenBatch } from "../generation/seq2seq-model.js";
import { CompiledBartError, type CompiledBartState, type DecoderShape } from "./compiled-bart-state.js";
import { TOKEN_EMBEDDINGS_INPUT } from "./compiler/token-table-location.js";
import { SOURCE_GROUPS } from "./compiler/bart-decoder-graph.js";
import { releaseNow } from "../memory/release-now.js";
import { BufferPool } from "./kv-blocks.js";
import type { PhaseSessions } from "./phase-sessions.js";
import { chooseGroup, growGroup, insertArticleRows, writeArticleCross } from "./running-layout.js";
import type { OnnxSession } from "./session.js";
import { MASKED, SourceGroup, sourceGroupCut } from "./source-groups.js";
import type { TokenTable } from "./token-table.js";

export class CompiledBartEncoder {
  /** Cross-attention buffers of finished batches (one per batch). */
  private readonly crossPool = new BufferPool(2);

  constructor(
    /** The encoder and cross-kv graphs, in that order; opened again on use after the model closed them. */
    private readonly sessions: PhaseSessions,
    /** Token-embedding rows of an encoder compiled without its table; null for a published encoder. */
    private readonly table: TokenTable | null,
    private readonly shape: DecoderShape,
  ) {}

  /**
   * Encodes the batch one article at a time, each at its own length, into one cross-attention buffer
   * cut into SOURCE_GROUPS groups. Batching the encoder buys little on a CPU (an article's matrices are
   * already hundreds of rows) but costs twice: padded positions are computed for nothing, and the
   * attention activations ([rows, heads, length, length] floats, 268 MB per tensor at 4 x 1,024 tokens)
   * grow with the batch and set the process's peak memory. One at a time is also how the tutorial's
   * pipeline encodes.
   */
  async encodeBatch(batch: TokenBatch): Promise<{ groups: SourceGroup[]; storage: Float32Array }> {
    const { rows, length: S } = batch;
    const { heads, headDim, layers } = this.shape;
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
    const sizes = spans.map(([from, to], g) => 2 * layers * (to - from) * heads * widths[g]! * headDim);
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
      for (let p = 0; p < 2 * layers; p++) {
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
    return { groups, storage };
  }

  /** The groups of an empty running batch: no article, no buffer (the first join lays one out). */
  emptyGroups(): SourceGroup[] {
    return Array.from({ length: SOURCE_GROUPS }, () => new SourceGroup(0, 0, 0, new Float32Array(0), new Float32Array(0)));
  }

  /**
   * Encodes one article and adds it to a running batch with `beams` rows: its keys/values into the
   * group that reads the least padding, its rows and (empty) cache in place among that group's articles.
   */
  async join(state: CompiledBartState, ids: Int32Array, beams: number, key: number): Promise<void> {
    const cross = await this.encodeRow(ids, new Int32Array(ids.length).fill(1));
    const g = chooseGroup(state.groups, ids.length, this.shape.maxPositions);
    growGroup(state, g, ids.length, this.shape);
    const group = state.groups[g]!;
    const at = g === 0 ? group.articles : state.articles;
    insertArticleRows(state, at, beams, key);
    writeArticleCross(group, group.articles, cross, ids.length, this.shape);
    // ~17 MB for a 350-token article, copied out of ONNX Runtime and now written into the group.
    releaseNow(cross);
    group.articles++;
  }

  /** Gives a static call's cross-attention buffer back to the pool for the next call. */
  release(state: CompiledBartState): void {
    if (state.crossStorage.length > 0) this.crossPool.give(state.crossStorage);
    // A running batch's groups each own their buffer, sized to that batch: freed now, not pooled.
    else for (const group of state.groups) releaseNow(group.crossKv);
    state.crossStorage = new Float32Array(0);
  }

  close(): void {
    this.table?.close();
  }

  /** One article through the encoder and the cross-kv graph: [2L, 1, heads, length, headDim]. */
  private async encodeRow(rowIds: Int32Array, rowMask: Int32Array): Promise<Float32Array> {
    const [encoder, crossKvGraph] = (await this.sessions.open()) as [OnnxSession, OnnxSession];
    const dims = [1, rowIds.length];
    const feeds: Record<string, ort.Tensor> = {};
    if (encoder.hasInput("attention_mask")) feeds["attention_mask"] = new ort.Tensor("int64", BigInt64Array.from(rowMask, BigInt), dims);
    else if (rowMask.includes(0)) throw new CompiledBartError("the compiled encoder takes right-padded rows only (a row has padding before its last token)");
    if (encoder.hasInput("input_ids")) feeds["input_ids"] = new ort.Tensor("int64", BigInt64Array.from(rowIds, BigInt), dims);
    if (this.table) feeds[TOKEN_EMBEDDINGS_INPUT] = this.table.lookup(rowIds, dims);
    const encoded = await encoder.run(feeds);
    const hidden = encoded["last_hidden_state"];
    if (!hidden) throw new CompiledBartError("encoder returned no last_hidden_state");
    const cross = await crossKvGraph.run({ encoder_hidden_states: hidden });
    const crossKv = cross["cross_kv"];
    if (!crossKv) throw new CompiledBartError("cross-kv graph returned no cross_kv");
    return crossKv.data as Float32Array;
  }
}
