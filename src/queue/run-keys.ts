/**
 * Names in Redis. A run is one input file submitted to one queue; its id is derived from the
 * file's bytes, so submitting the same file again names the same run and the same jobs.
 *
 * - run id: the first 16 hex digits (64 bits) of the SHA-256 of the input file's bytes;
 * - job id: `<run id>-<position of the chunk's first item>` (BullMQ refuses ':' in job ids);
 * - keys: `news-moe:<queue>:<run id>:<part>`, beside BullMQ's own `bull:<queue>:*` keys.
 */
export const DEFAULT_QUEUE = "news-moe";

const RUN_ID_HEX_DIGITS = 16;

export function runIdFromDigest(sha256Hex: string): string {
  return sha256Hex.slice(0, RUN_ID_HEX_DIGITS);
}

export function isRunId(value: string): boolean {
  return new RegExp(`^[0-9a-f]{${RUN_ID_HEX_DIGITS}}$`).test(value);
}

export function jobIdFor(runId: string, firstPosition: number): string {
  return `${runId}-${firstPosition}`;
}

/** The Redis keys of one run. */
export interface RunKeys {
  /** Hash: what was submitted (input, total, chunk size, attempts) and when work started and last finished. */
  meta: string;
  /** Hash: item position -> the record as one JSON line. HSET on a position is idempotent. */
  records: string;
  /** Set: positions whose record has an item or expert error. */
  failed: string;
  /** Set: first positions of chunks whose every record is stored (a resubmission skips them). */
  doneChunks: string;
  /** Hash: how often a chunk (`c<first>`) or an item (`i<position>`) was started: crash counting. */
  tries: string;
}

export function runKeys(queue: string, runId: string): RunKeys {
  const base = `news-moe:${queue}:${runId}`;
  return {
    meta: `${base}:meta`,
    records: `${base}:records`,
    failed: `${base}:failed`,
    doneChunks: `${base}:chunks`,
    tries: `${base}:tries`,
  };
}
