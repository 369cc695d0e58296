/**
 * Groups variable-length rows into sub-batches for one ONNX run each: rows sorted by length (so a
 * batch's rows are alike and padding is small), each batch holding as many rows as fit in a budget
 * of padded tokens (rows × longest row). A row longer than the budget gets a batch of its own.
 */
export function lengthBatches(lengths: readonly number[], tokenBudget: number, maxRows = Infinity): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  let width = 0;
  for (const index of order) {
    const length = lengths[index]!;
    const newWidth = Math.max(width, length);
    if (current.length > 0 && ((current.length + 1) * newWidth > tokenBudget || current.length >= maxRows)) {
      batches.push(current);
      current = [];
    }
    width = current.length === 0 ? length : Math.max(width, length);
    current.push(index);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
