/**
 * Moving batch rows of tensors between decoder steps: beam reordering of the self-attention cache,
 * beam expansion and dropping finished articles.
 */

type RowArray = Float32Array | BigInt64Array;

/** A new array whose row i is row `sourceRows[i]` of `data` (rows of `rowSize` elements). */
export function gatherRows<T extends RowArray>(data: T, rowSize: number, sourceRows: Int32Array): T {
  const out = new (data.constructor as new (length: number) => T)(sourceRows.length * rowSize);
  for (let i = 0; i < sourceRows.length; i++) {
    const from = sourceRows[i]! * rowSize;
    (out as RowArray).set((data as RowArray).subarray(from, from + rowSize) as never, i * rowSize);
  }
  return out;
}

/**
 * Same as `gatherRows` for a selection of the same row count, in place: only rows that change are
 * written, and only their sources are saved first. A beam step usually keeps some beams in their
 * slot, so this moves less memory than a full gather and allocates no new tensor.
 */
export function gatherRowsInPlace(data: RowArray, rowSize: number, sourceRows: Int32Array): void {
  const rows = sourceRows.length;
  const saved = new Map<number, RowArray>();
  for (let i = 0; i < rows; i++) {
    const source = sourceRows[i]!;
    if (source !== i && !saved.has(source)) {
      saved.set(source, data.slice(source * rowSize, (source + 1) * rowSize));
    }
  }
  for (let i = 0; i < rows; i++) {
    const source = sourceRows[i]!;
    if (source !== i) data.set(saved.get(source)! as never, i * rowSize);
  }
}

/** Does every new row keep the group (article) its position had before? Then shared data can stay. */
export function keepsRowGroups(groups: Int32Array, sourceRows: Int32Array): boolean {
  if (sourceRows.length !== groups.length) return false;
  for (let i = 0; i < sourceRows.length; i++) if (groups[sourceRows[i]!] !== groups[i]) return false;
  return true;
}
