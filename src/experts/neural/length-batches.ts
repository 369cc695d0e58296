/**
 * Groups variable-length rows into sub-batches for one ONNX run each: rows sorted by length (so a
 * batch's rows are alike and padding is small), each batch holding as many rows as fit in a budget
 * of padded tokens (rows × longest row). A row longer than the budget gets a batch of its own.
 *
 * A row shorter than `minFill` × the batch's longest starts a new batch even when the budget has
 * room: padded, it would cost a long row's attention work (the decoder's cross-attention reads every
 * padded position on every step) for a short row's result. Measured on the full-size summariser, 5
 * articles of ~230 tokens padded to 680 cost more than running them as their own batch.
 *
 * `maxRows` caps a batch's rows; as a function it gets the batch's longest row, for a limit that
 * depends on it (the summariser's decoder state per article grows with the source length).
 */
export function lengthBatches(
  lengths: readonly number[],
  tokenBudget: number,
  maxRows: number | ((width: number) => number) = Infinity,
  minFill = 0.5,
): number[][] {
  const rowLimit = typeof maxRows === "number" ? () => maxRows : maxRows;
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  let width = 0;
  for (const index of order) {
    const length = lengths[index]!;
    const newWidth = Math.max(width, length);
    const tooShort = length < minFill * width;
    if (current.length > 0 && ((current.length + 1) * newWidth > tokenBudget || current.length >= Math.max(1, rowLimit(newWidth)) || tooShort)) {
      batches.push(current);
      current = [];
    }
    width = current.length === 0 ? length : Math.max(width, length);
    current.push(index);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Joins consecutive batches two at a time where `fits` accepts the pair, longest first. For a model that
 * pads each of two source groups to its own longest row (the compiled summariser), a call of a batch of
 * long rows and one of short rows costs no padding more than the two calls, and each decoder step serves
 * both batches' rows with one read of the weights.
 */
export function pairBatches(batches: readonly number[][], fits: (first: readonly number[], second: readonly number[]) => boolean): number[][] {
  const calls: number[][] = [];
  for (let i = 0; i < batches.length; i++) {
    const first = batches[i]!;
    const second = batches[i + 1];
    if (second && fits(first, second)) {
      calls.push([...first, ...second]);
      i++;
    } else calls.push([...first]);
  }
  return calls;
}
