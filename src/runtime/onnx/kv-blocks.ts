/**
 * The compiled decoder's self-attention cache storage: per-layer key/value buffers laid out in blocks
 * (an article's shared prefix, or a row's suffix), and the pool that hands buffers from one batch to the
 * next. What goes where is `kv-cache-manager.ts`'s business; this module only lays out and recycles memory.
 */

import { releaseNow } from "../memory/release-now.js";

/**
 * Key and value buffers of every decoder layer (2L of them), each laid out [blocks, heads, capacity,
 * head_dim], where a block is a row or an article. The buffers are views of one allocation, large enough
 * for every position the model has, and are re-laid out from the back when the capacity grows: such an
 * allocation costs only the pages written, and no growth leaves a buffer behind for the garbage
 * collector. One allocation rather than 2L also keeps it far above the C allocator's mmap threshold:
 * a smaller one can come from the heap, where zeroing it touches every page. Slots past a block's
 * filled positions hold stale but finite numbers (earlier keys/values or zeros) that the step's mask
 * gives zero weight.
 */
export class KvBlocks {
  buffers: Float32Array[] = [];
  blockCapacity = 0;
  capacity = 0;
  private storage: Float32Array | null = null;

  constructor(
    private readonly parts: number,
    private readonly heads: number,
    private readonly headDim: number,
    private readonly maxPositions: number,
    private readonly chunk: number,
    private readonly pool: BufferPool,
  ) {}

  /** Room for `blocks` blocks of `positions` positions, keeping every block's content. */
  ensure(blocks: number, positions: number): void {
    if (blocks <= this.blockCapacity && positions <= this.capacity) return;
    // Blocks grow by half again at least: a running batch adds one article (prefix) or one article's beams
    // (suffix) at a time, and a new allocation per join would copy the whole cache each time.
    const blockCapacity = blocks <= this.blockCapacity ? this.blockCapacity : Math.max(blocks, Math.ceil(this.blockCapacity * 1.5));
    const capacity = positions <= this.capacity ? this.capacity : Math.min(Math.ceil(positions / this.chunk) * this.chunk, this.maxPositions);
    const oldSpan = this.capacity * this.headDim;
    const span = capacity * this.headDim;
    const headBlocks = this.blockCapacity * this.heads;
    if (blockCapacity === this.blockCapacity) {
      // Backwards: block b moves to a later offset, over blocks already moved.
      for (const buffer of this.buffers) for (let b = headBlocks - 1; b > 0; b--) buffer.copyWithin(b * span, b * oldSpan, (b + 1) * oldSpan);
    } else {
      const partSize = blockCapacity * this.heads * this.maxPositions * this.headDim;
      const storage = this.pool.take(this.parts * partSize);
      const buffers = Array.from({ length: this.parts }, (_, p) => storage.subarray(p * partSize, (p + 1) * partSize));
      this.buffers.forEach((old, p) => {
        for (let b = 0; b < headBlocks; b++) buffers[p]!.set(old.subarray(b * oldSpan, (b + 1) * oldSpan), b * span);
      });
      if (this.storage) this.pool.give(this.storage);
      this.storage = storage;
      this.buffers = buffers;
    }
    this.blockCapacity = blockCapacity;
    this.capacity = capacity;
  }

  /** Element offset of (block, head, position) in the current layout. */
  offset(block: number, head: number, position: number): number {
    return ((block * this.heads + head) * this.capacity + position) * this.headDim;
  }

  /** The first `blocks` blocks of one buffer, for a step's feed. */
  view(part: number, blocks: number): Float32Array {
    return this.buffers[part]!.subarray(0, blocks * this.heads * this.capacity * this.headDim);
  }

  release(): void {
    if (this.storage) this.pool.give(this.storage);
    this.storage = null;
    this.buffers = [];
    this.blockCapacity = 0;
    this.capacity = 0;
  }
}

/**
 * Cache buffers kept from one batch to the next. A buffer's pages, once written, stay resident, so
 * reusing them costs nothing new, while a fresh buffer per batch would leave the old one's pages to
 * the garbage collector's timing. A batch uses a few per role (a suffix grows from one row per article
 * to one per beam); a take that no kept buffer fits drops them all, so the pool holds one generation.
 */
export class BufferPool {
  private readonly free: Float32Array[] = [];

  constructor(private readonly keep = 4) {}

  /** The smallest kept buffer of at least `length` elements (contents undefined). */
  take(length: number): Float32Array {
    let index = -1;
    this.free.forEach((b, i) => {
      if (b.length >= length && (index < 0 || b.length < this.free[index]!.length)) index = i;
    });
    if (index >= 0) return this.free.splice(index, 1)[0]!;
    // Too small for this batch: dropped, so the pool holds one generation of buffers.
    this.free.length = 0;
    return new Float32Array(length);
  }

  give(buffer: Float32Array): void {
    if (this.free.length < this.keep) this.free.push(buffer);
    else releaseNow(buffer);
  }
}
