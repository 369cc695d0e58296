/**
 * `torch.topk(x, k, largest=True, sorted=True)` and `torch.argmax` on one CPU row, with torch's order for
 * equal values.
 *
 * Why this exists: beam search hands torch.topk rows full of exact ties (candidates masked with the same
 * -1e9, forced tokens at 0 next to -inf). Which of several equal values comes first decides which
 * hypothesis lands in which slot, and at the k-th boundary which one survives. torch does not promise an
 * order for ties; what it actually does on CPU is copy the row into (value, index) pairs and run
 * libstdc++'s `std::partial_sort` when `k * 64 <= n`, otherwise `std::nth_element` on the k-th element
 * followed by `std::sort` of the first k - 1 (aten/src/ATen/native/cpu/SortingKernel.cpp). The functions
 * below follow those libstdc++ algorithms step by step (heap select, introselect with median-of-three
 * pivots, insertion sort below 16 elements), so ties come out in the same order. The comparator is
 * torch's: NaN counts as larger than any number.
 *
 * The big case (k = 2 * num_beams out of num_beams * vocab ~ 200k values) uses the partial-sort path,
 * which only ever writes into the k-element heap, so it runs in one read pass over the row without
 * copying it.
 */

export interface TopK {
  /** The k largest values, largest first. */
  values: Float64Array;
  /** Their positions in the input row. */
  indices: Int32Array;
}

/** torch's `largest` comparator: is `x` ordered before `y`? NaN sorts first. */
function before(x: number, y: number): boolean {
  // eslint-disable-next-line no-self-compare
  return (x !== x && y === y) || x > y;
}

/** C++ signed division by two (truncates toward zero), as the heap index arithmetic expects. */
function half(x: number): number {
  return (x / 2) | 0;
}

/**
 * A working array of (value, index) pairs, like torch's `std::vector<std::pair<double, int64_t>>`.
 * Algorithms take `first`/`last` offsets into it, mirroring iterator ranges.
 */
class PairArray {
  constructor(
    readonly v: Float64Array,
    readonly i: Int32Array,
  ) {}

  swap(a: number, b: number): void {
    const tv = this.v[a]!;
    const ti = this.i[a]!;
    this.v[a] = this.v[b]!;
    this.i[a] = this.i[b]!;
    this.v[b] = tv;
    this.i[b] = ti;
  }

  move(to: number, from: number): void {
    this.v[to] = this.v[from]!;
    this.i[to] = this.i[from]!;
  }
}

// ---- stl_heap.h ------------------------------------------------------------------------------------

function pushHeap(p: PairArray, first: number, hole: number, top: number, value: number, index: number): void {
  let parent = half(hole - 1);
  while (hole > top && before(p.v[first + parent]!, value)) {
    p.move(first + hole, first + parent);
    hole = parent;
    parent = half(hole - 1);
  }
  p.v[first + hole] = value;
  p.i[first + hole] = index;
}

function adjustHeap(p: PairArray, first: number, hole: number, len: number, value: number, index: number): void {
  const top = hole;
  let second = hole;
  while (second < half(len - 1)) {
    second = 2 * (second + 1);
    if (before(p.v[first + second]!, p.v[first + second - 1]!)) second--;
    p.move(first + hole, first + second);
    hole = second;
  }
  if ((len & 1) === 0 && second === half(len - 2)) {
    second = 2 * (second + 1);
    p.move(first + hole, first + second - 1);
    hole = second - 1;
  }
  pushHeap(p, first, hole, top, value, index);
}

function makeHeap(p: PairArray, first: number, last: number): void {
  const len = last - first;
  if (len < 2) return;
  let parent = half(len - 2);
  for (;;) {
    adjustHeap(p, first, parent, len, p.v[first + parent]!, p.i[first + parent]!);
    if (parent === 0) return;
    parent--;
  }
}

/** `__pop_heap(first, last, result)`: the heap top goes to `result`, result's old value re-enters the heap. */
function popHeap(p: PairArray, first: number, last: number, result: number): void {
  const value = p.v[result]!;
  const index = p.i[result]!;
  p.move(result, first);
  adjustHeap(p, first, 0, last - first, value, index);
}

function sortHeap(p: PairArray, first: number, last: number): void {
  while (last - first > 1) {
    --last;
    popHeap(p, first, last, last);
  }
}

// ---- stl_algo.h ------------------------------------------------------------------------------------

function heapSelect(p: PairArray, first: number, middle: number, last: number): void {
  makeHeap(p, first, middle);
  for (let i = middle; i < last; ++i) {
    if (before(p.v[i]!, p.v[first]!)) popHeap(p, first, middle, i);
  }
}

function moveMedianToFirst(p: PairArray, result: number, a: number, b: number, c: number): void {
  const va = p.v[a]!;
  const vb = p.v[b]!;
  const vc = p.v[c]!;
  if (before(va, vb)) {
    if (before(vb, vc)) p.swap(result, b);
    else if (before(va, vc)) p.swap(result, c);
    else p.swap(result, a);
  } else if (before(va, vc)) p.swap(result, a);
  else if (before(vb, vc)) p.swap(result, c);
  else p.swap(result, b);
}

function unguardedPartition(p: PairArray, first: number, last: number, pivot: number): number {
  for (;;) {
    while (before(p.v[first]!, p.v[pivot]!)) ++first;
    --last;
    while (before(p.v[pivot]!, p.v[last]!)) --last;
    if (!(first < last)) return first;
    p.swap(first, last);
    ++first;
  }
}

function unguardedPartitionPivot(p: PairArray, first: number, last: number): number {
  const mid = first + half(last - first);
  moveMedianToFirst(p, first, first + 1, mid, last - 1);
  return unguardedPartition(p, first + 1, last, first);
}

function unguardedLinearInsert(p: PairArray, last: number): void {
  const value = p.v[last]!;
  const index = p.i[last]!;
  let next = last - 1;
  while (before(value, p.v[next]!)) {
    p.move(last, next);
    last = next;
    --next;
  }
  p.v[last] = value;
  p.i[last] = index;
}

function insertionSort(p: PairArray, first: number, last: number): void {
  if (first === last) return;
  for (let i = first + 1; i !== last; ++i) {
    if (before(p.v[i]!, p.v[first]!)) {
      const value = p.v[i]!;
      const index = p.i[i]!;
      p.v.copyWithin(first + 1, first, i);
      p.i.copyWithin(first + 1, first, i);
      p.v[first] = value;
      p.i[first] = index;
    } else {
      unguardedLinearInsert(p, i);
    }
  }
}

const SORT_THRESHOLD = 16;

function floorLog2(n: number): number {
  return 31 - Math.clz32(n);
}

function introsortLoop(p: PairArray, first: number, last: number, depth: number): void {
  while (last - first > SORT_THRESHOLD) {
    if (depth === 0) {
      heapSelect(p, first, last, last);
      sortHeap(p, first, last);
      return;
    }
    --depth;
    const cut = unguardedPartitionPivot(p, first, last);
    introsortLoop(p, cut, last, depth);
    last = cut;
  }
}

function stdSort(p: PairArray, first: number, last: number): void {
  if (first === last) return;
  introsortLoop(p, first, last, floorLog2(last - first) * 2);
  if (last - first > SORT_THRESHOLD) {
    insertionSort(p, first, first + SORT_THRESHOLD);
    for (let i = first + SORT_THRESHOLD; i !== last; ++i) unguardedLinearInsert(p, i);
  } else {
    insertionSort(p, first, last);
  }
}

function nthElement(p: PairArray, first: number, nth: number, last: number): void {
  if (first === last || nth === last) return;
  let depth = floorLog2(last - first) * 2;
  while (last - first > 3) {
    if (depth === 0) {
      heapSelect(p, first, nth + 1, last);
      p.swap(first, nth);
      return;
    }
    --depth;
    const cut = unguardedPartitionPivot(p, first, last);
    if (cut <= nth) first = cut;
    else last = cut;
  }
  insertionSort(p, first, last);
}

// ---- torch -----------------------------------------------------------------------------------------

/**
 * Heap-select over a row that is only read: equivalent to libstdc++'s `__heap_select` followed by
 * `__sort_heap` on a copy of the row, because positions past the heap are never read again once passed.
 */
function partialSortTopK(row: ArrayLike<number>, k: number): TopK {
  const heap = new PairArray(new Float64Array(k), new Int32Array(k));
  for (let j = 0; j < k; j++) {
    heap.v[j] = row[j]!;
    heap.i[j] = j;
  }
  makeHeap(heap, 0, k);
  const n = row.length;
  for (let j = k; j < n; j++) {
    const value = row[j]!;
    if (before(value, heap.v[0]!)) adjustHeap(heap, 0, 0, k, value, j);
  }
  sortHeap(heap, 0, k);
  return { values: heap.v, indices: heap.i };
}

function selectThenSortTopK(row: ArrayLike<number>, k: number): TopK {
  const n = row.length;
  const pairs = new PairArray(new Float64Array(n), new Int32Array(n));
  for (let j = 0; j < n; j++) {
    pairs.v[j] = row[j]!;
    pairs.i[j] = j;
  }
  nthElement(pairs, 0, k - 1, n);
  // torch sorts only the first k - 1: nth_element already put the k-th in its final place.
  stdSort(pairs, 0, k - 1);
  return { values: pairs.v.slice(0, k), indices: pairs.i.slice(0, k) };
}

/** `torch.topk(row, k)` (largest, sorted) on CPU, ties ordered as torch orders them. */
export function topk(row: ArrayLike<number>, k: number): TopK {
  const n = row.length;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`topk: k=${k} out of range for ${n} values`);
  if (k === 0) return { values: new Float64Array(0), indices: new Int32Array(0) };
  return k * 64 <= n ? partialSortTopK(row, k) : selectThenSortTopK(row, k);
}

/**
 * `torch.topk(scores + offsets[:, None], k)` over `rows` consecutive rows of `width` values starting at
 * `start`, flattened into one row of rows * width (beam search's "log-prob + running beam score" over
 * beams x vocab). Each sum is rounded to float32 as torch's float32 add does. The sums are formed while
 * scanning instead of being written out first, which saves a pass over the whole block every step.
 */
export function topkOfRowSums(
  scores: Float32Array,
  start: number,
  width: number,
  offsets: Float32Array,
  k: number,
): TopK {
  const rows = offsets.length;
  const n = rows * width;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`topk: k=${k} out of range for ${n} values`);
  if (k === 0 || k * 64 > n) {
    const sums = new Float32Array(n);
    for (let r = 0; r < rows; r++) {
      const offset = offsets[r]!;
      const from = start + r * width;
      for (let v = 0; v < width; v++) sums[r * width + v] = scores[from + v]! + offset;
    }
    return topk(sums, k);
  }
  const heap = new PairArray(new Float64Array(k), new Int32Array(k));
  // The first k sums seed the heap (k <= n / 64, so they may span several rows only for tiny widths).
  for (let j = 0; j < k; j++) {
    const r = Math.floor(j / width);
    heap.v[j] = Math.fround(scores[start + j]! + offsets[r]!);
    heap.i[j] = j;
  }
  makeHeap(heap, 0, k);
  for (let r = 0; r < rows; r++) {
    const offset = offsets[r]!;
    const rowStart = start + r * width;
    // Positions below k are already in the heap.
    for (let v = Math.max(0, k - r * width); v < width; v++) {
      const value = Math.fround(scores[rowStart + v]! + offset);
      if (before(value, heap.v[0]!)) adjustHeap(heap, 0, 0, k, value, r * width + v);
    }
  }
  sortHeap(heap, 0, k);
  return { values: heap.v, indices: heap.i };
}

/** `torch.argmax(row)`: the first position of the largest value (the first NaN if there is one). */
export function argmax(row: ArrayLike<number>, start = 0, end = row.length): number {
  let best = start;
  let bestValue = row[start]!;
  if (bestValue !== bestValue) return best;
  for (let j = start + 1; j < end; j++) {
    const value = row[j]!;
    if (value !== value) return j;
    if (value > bestValue) {
      bestValue = value;
      best = j;
    }
  }
  return best;
}
