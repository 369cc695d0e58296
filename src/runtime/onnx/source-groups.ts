/**
 * The articles' cross-attention inputs on the compiled decoder: keys/values per article (not per beam),
 * in SOURCE_GROUPS source groups, each padded to its own longest source, so that short articles do not
 * read a long one's padding. Where a batch is cut into groups, and how a group closes ranks when
 * articles leave. (How an article joins a running batch's group is `running-layout.ts`.)
 */

import type { DecoderShape } from "./compiled-bart-state.js";

/** HF masks padded source positions with float32's lowest value, not -inf. */
export const MASKED = -3.4028234663852886e38;

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

/**
 * Keeps the `kept` articles (increasing article numbers over all groups, the first group's first) and
 * moves them to the front of their groups, in place: finished articles leave a batch without a new buffer.
 */
export function compactSourceGroups(groups: readonly SourceGroup[], kept: readonly number[], shape: DecoderShape): void {
  let first = 0;
  for (const group of groups) {
    // This group's kept articles, as slots within the group.
    const groupKept = kept.filter((a) => a >= first && a < first + group.articles).map((a) => a - first);
    first += group.articles;
    const S = group.sourceLength;
    const articleSize = shape.heads * S * shape.headDim;
    const block = group.capacity * articleSize;
    for (let p = 0; p < 2 * shape.layers; p++) {
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
}
