/**
 * How an article joins a running compiled-decoder batch (`CompiledBartEncoder.join`): which source group
 * takes its cross-attention keys/values, how a group grows, and where its rows go.
 *
 * The step graph wants rows article-major, and articles ordered group by group (the first B_0 articles
 * attend over group 0's keys/values, the rest over group 1's), with each group's articles in the order of
 * its slots. So an article joining group 0 is inserted after group 0's last article: the row-level data of
 * group 1's articles (their cache blocks, token histories, lengths) moves back by one article, while
 * group 1's cross-attention storage stays where it is (its slots keep their order). An article joining
 * group 1 is appended.
 *
 * Groups are padded to their longest member, rounded up to GROUP_WIDTH_STEP so that most joins fit the
 * width already there; a group that must grow (more articles than its capacity, or a longer source) is
 * laid out anew in a larger buffer, capacity doubling. The old buffer is freed at once (`releaseNow`), not
 * pooled: a running batch's groups only grow, so a pooled buffer would never fit again and its pages
 * (hundreds of MB for a wide group) would stay resident beside the new one.
 */

import { releaseNow } from "../memory/release-now.js";
import type { CompiledBartState, DecoderShape } from "./compiled-bart-state.js";
import { MASKED, SourceGroup } from "./source-groups.js";

/** Group widths are multiples of this many source positions. */
export const GROUP_WIDTH_STEP = 64;

function roundWidth(length: number, maxPositions: number): number {
  return Math.min(Math.ceil(length / GROUP_WIDTH_STEP) * GROUP_WIDTH_STEP, Math.max(maxPositions, length));
}

/**
 * The group that reads the fewest extra padded positions per step once it holds an article of `length`
 * source tokens: (articles + 1) x its new width, less what it reads now. An empty group costs the article's
 * own (rounded) width. Ties go to group 0.
 */
export function chooseGroup(groups: readonly SourceGroup[], length: number, maxPositions: number): number {
  const width = roundWidth(length, maxPositions);
  let best = 0;
  let bestCost = Infinity;
  groups.forEach((group, g) => {
    const current = group.articles > 0 ? group.sourceLength : 0;
    const cost = (group.articles + 1) * Math.max(current, width) - group.articles * current;
    if (cost < bestCost) {
      best = g;
      bestCost = cost;
    }
  });
  return best;
}

/** Source positions group `group` holds for its live articles (its bias reads 0 there, MASKED in padding). */
function realPositions(group: SourceGroup): number {
  let real = 0;
  const bias = group.encoderBias;
  for (let i = 0; i < group.articles * group.sourceLength; i++) if (bias[i] === 0) real++;
  return real;
}

/**
 * Padded source positions (stored, attended with zero weight) the batch's cross-attention storage would
 * hold once an article of `length` tokens joined where `chooseGroup` puts it. Admission counts them
 * against the state budget: a group is as wide as its longest article, so a short article beside a long
 * one holds the long one's width, and the cache actually used is what the budget must bound.
 */
export function paddedPositionsAfterJoin(groups: readonly SourceGroup[], length: number, maxPositions: number): number {
  const g = chooseGroup(groups, length, maxPositions);
  let padded = 0;
  groups.forEach((group, i) => {
    const joins = i === g;
    const articles = group.articles + (joins ? 1 : 0);
    if (articles === 0) return;
    const width = joins ? Math.max(group.articles > 0 ? group.sourceLength : 0, roundWidth(length, maxPositions)) : group.sourceLength;
    padded += articles * width - realPositions(group) - (joins ? length : 0);
  });
  return padded;
}

/**
 * Makes group `g` able to take one more article of `length` source tokens: a larger buffer when its
 * capacity or width is short, the live articles' keys/values and masks copied over at the new width.
 */
export function growGroup(state: CompiledBartState, g: number, length: number, shape: DecoderShape): void {
  const group = state.groups[g]!;
  const live = group.articles;
  const width = live > 0 ? Math.max(group.sourceLength, roundWidth(length, shape.maxPositions)) : roundWidth(length, shape.maxPositions);
  if (live + 1 <= group.capacity && width === group.sourceLength) return;
  const capacity = live + 1 <= group.capacity ? group.capacity : Math.max(4, 2 * group.capacity, live + 1);
  const parts = 2 * shape.layers;
  const { heads, headDim } = shape;
  const articleSize = heads * width * headDim;
  const crossKv = new Float32Array(parts * capacity * articleSize);
  const bias = new Float32Array(capacity * width);
  const oldWidth = group.sourceLength;
  const oldArticleSize = heads * oldWidth * headDim;
  for (let p = 0; p < parts; p++) {
    for (let a = 0; a < live; a++) {
      for (let h = 0; h < heads; h++) {
        const from = (p * group.capacity + a) * oldArticleSize + h * oldWidth * headDim;
        const to = (p * capacity + a) * articleSize + h * width * headDim;
        crossKv.set(group.crossKv.subarray(from, from + oldWidth * headDim), to);
        // Padding reads as zero weight whatever it holds; zeros keep a pooled buffer's leftovers out.
        crossKv.fill(0, to + oldWidth * headDim, to + width * headDim);
      }
    }
  }
  for (let a = 0; a < live; a++) {
    bias.set(group.encoderBias.subarray(a * oldWidth, (a + 1) * oldWidth), a * width);
    bias.fill(MASKED, a * width + oldWidth, (a + 1) * width);
  }
  releaseNow(group.crossKv);
  state.groups[g] = new SourceGroup(live, capacity, width, crossKv, bias);
}

/** Writes one article's keys/values ([2L, 1, heads, length, headDim]) into slot `slot` of group `g`. */
export function writeArticleCross(group: SourceGroup, slot: number, cross: Float32Array, length: number, shape: DecoderShape): void {
  const { heads, headDim } = shape;
  const width = group.sourceLength;
  const articleSize = heads * width * headDim;
  const rowSize = heads * length * headDim;
  for (let p = 0; p < 2 * shape.layers; p++) {
    for (let h = 0; h < heads; h++) {
      const to = (p * group.capacity + slot) * articleSize + h * width * headDim;
      const from = p * rowSize + h * length * headDim;
      group.crossKv.set(cross.subarray(from, from + length * headDim), to);
      group.crossKv.fill(0, to + length * headDim, to + width * headDim);
    }
  }
  group.encoderBias.fill(0, slot * width, slot * width + length);
  group.encoderBias.fill(MASKED, slot * width + length, (slot + 1) * width);
}

/**
 * Opens a place for a new article at article index `at` with `beams` rows and no history: the row-level
 * data of the articles from `at` on (prefix blocks, suffix slots, histories, lengths, row maps) moves
 * back by one article. Cross-attention storage is the caller's.
 */
export function insertArticleRows(state: CompiledBartState, at: number, beams: number, key: number): void {
  const articles = state.articles;
  const rows = state.rows;
  const firstRow = at * beams;
  const M = state.maxPositions;
  // Prefix: blocks are articles.
  if (state.prefix.capacity > 0) {
    state.prefix.ensure(articles + 1, state.prefix.capacity);
    const block = state.prefix.offset(1, 0, 0);
    for (const buffer of state.prefix.buffers) buffer.copyWithin((at + 1) * block, at * block, articles * block);
  }
  // Suffix and histories: slots of the articles from `at` on are [firstRow, rows) (an article's slots stay in its range).
  if (state.suffix.capacity > 0) {
    state.suffix.ensure(rows + beams, state.suffix.capacity);
    const slot = state.suffix.offset(1, 0, 0);
    for (const buffer of state.suffix.buffers) buffer.copyWithin((firstRow + beams) * slot, firstRow * slot, rows * slot);
  }
  if (state.history.length < (rows + beams) * M) {
    const grown = new Int32Array(Math.max((rows + beams) * M, 2 * state.history.length));
    grown.set(state.history.subarray(0, rows * M));
    state.history = grown;
  }
  state.history.copyWithin((firstRow + beams) * M, firstRow * M, rows * M);
  const insert = <T extends Int32Array>(array: T, index: number, count: number, value: (i: number) => number): Int32Array => {
    const out = new Int32Array(array.length + count);
    out.set(array.subarray(0, index));
    for (let i = 0; i < count; i++) out[index + i] = value(i);
    out.set(array.subarray(index), index + count);
    return out;
  };
  state.prefixLength = insert(state.prefixLength, at, 1, () => 0);
  state.length = insert(state.length, at, 1, () => 0);
  state.keys.splice(at, 0, key);
  const physical = new Int32Array(rows + beams);
  const article = new Int32Array(rows + beams);
  for (let r = 0; r < rows + beams; r++) {
    if (r < firstRow) {
      physical[r] = state.physical[r]!;
      article[r] = state.article[r]!;
    } else if (r < firstRow + beams) {
      physical[r] = r;
      article[r] = at;
    } else {
      physical[r] = state.physical[r - beams]! + beams;
      article[r] = state.article[r - beams]! + 1;
    }
  }
  const logical = new Int32Array(rows + beams);
  for (let r = 0; r < rows + beams; r++) logical[physical[r]!] = r;
  state.physical = physical;
  state.logical = logical;
  state.article = article;
  state.articles = articles + 1;
  state.rows = rows + beams;
  state.lastFeeds = null;
}
