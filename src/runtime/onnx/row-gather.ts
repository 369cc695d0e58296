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
 * `gatherRows` into the array itself, for a selection that does not grow the row count: afterwards the
 * first `sourceRows.length` rows hold the result (take a prefix view). Only rows that change are
 * written and only their sources are saved first. A beam step usually keeps some beams in place, and
 * fresh memory is expensive (page faults cost more than the copy), so this beats a new array.
 */
export function gatherRowsInPlace(data: RowArray, rowSize: number, sourceRows: Int32Array): void {
  const rows = sourceRows.length;
  if (rows * rowSize > data.length) throw new RangeError("gatherRowsInPlace: selection larger than the data");
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

/**
 * Moves rows down in place for a selection that only drops rows (strictly increasing sources, so
 * source >= destination and nothing is overwritten before it is read): a memmove per moved row and no
 * new memory. Returns false (and changes nothing) for any other selection.
 */
export function compactRowsInPlace(data: RowArray, rowSize: number, sourceRows: Int32Array): boolean {
  for (let i = 0; i < sourceRows.length; i++) {
    if (sourceRows[i]! < i || (i > 0 && sourceRows[i]! <= sourceRows[i - 1]!)) return false;
    if ((sourceRows[i]! + 1) * rowSize > data.length) return false;
  }
  for (let i = 0; i < sourceRows.length; i++) {
    const source = sourceRows[i]!;
    if (source !== i) data.copyWithin(i * rowSize, source * rowSize, (source + 1) * rowSize);
  }
  return true;
}

/**
 * For data shared by all rows of a group (an article's cross-attention KV): a source row per new row
 * that has the right group and, where possible, keeps the sources increasing, so a pure drop of
 * groups becomes a compaction. The j-th new row of group g takes the j-th old row of g (or its last).
 */
export function groupSourceRows(groups: Int32Array, newGroups: Int32Array): Int32Array {
  const oldRowsOf = new Map<number, number[]>();
  groups.forEach((g, row) => {
    const list = oldRowsOf.get(g);
    if (list) list.push(row);
    else oldRowsOf.set(g, [row]);
  });
  const used = new Map<number, number>();
  return Int32Array.from(newGroups, (g) => {
    const list = oldRowsOf.get(g);
    if (!list) throw new RangeError(`row group ${g} has no source row`);
    const j = used.get(g) ?? 0;
    used.set(g, j + 1);
    return list[Math.min(j, list.length - 1)]!;
  });
}

/** Does every new row keep the group (article) its position had before? Then shared data can stay. */
export function keepsRowGroups(groups: Int32Array, sourceRows: Int32Array): boolean {
  if (sourceRows.length !== groups.length) return false;
  for (let i = 0; i < sourceRows.length; i++) if (groups[sourceRows[i]!] !== groups[i]) return false;
  return true;
}
