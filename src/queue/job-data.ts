/** What one BullMQ job carries: a slice of the input, by position. */
export interface ChunkJobData {
  run: string;
  /** Position of `items[0]` in the whole input. */
  start: number;
  /** The raw items as parsed from the input (validated by the worker, as `analyze` does). */
  items: unknown[];
  /** Tries before a crashing item is given up, or a failing job's items get error records. */
  attempts: number;
}

export const CHUNK_JOB_NAME = "items";
