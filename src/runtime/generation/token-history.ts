import type { TokenRows } from "./logits-processors.js";

/**
 * Fixed-capacity token rows (HF's static `[rows, max_length]` sequence tensors), stored flat so a beam
 * step copies rows with `copyWithin` instead of allocating.
 */
export class TokenMatrix {
  readonly data: Int32Array;

  constructor(
    readonly rows: number,
    readonly capacity: number,
    fill: number,
  ) {
    this.data = new Int32Array(rows * capacity).fill(fill);
  }

  row(r: number, length = this.capacity): Int32Array {
    const start = r * this.capacity;
    return this.data.subarray(start, start + length);
  }

  get(r: number, position: number): number {
    return this.data[r * this.capacity + position]!;
  }

  set(r: number, position: number, token: number): void {
    this.data[r * this.capacity + position] = token;
  }

  /** Copies row `from` of `source` (whole capacity) into row `to` of this matrix. */
  copyRowFrom(source: TokenMatrix, from: number, to: number): void {
    this.data.set(source.row(from), to * this.capacity);
  }
}

/** A `TokenRows` view of selected rows of a `TokenMatrix`, `length` tokens each. */
export class SelectedTokenRows implements TokenRows {
  constructor(
    private readonly matrix: TokenMatrix,
    private readonly selected: Int32Array,
    readonly length: number,
  ) {}

  get count(): number {
    return this.selected.length;
  }

  row(i: number): Int32Array {
    return this.matrix.row(this.selected[i]!, this.length);
  }
}
