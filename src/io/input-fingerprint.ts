import { createHash } from "node:crypto";
import * as fs from "node:fs";

/**
 * What identifies a run's input file for `--resume`: its size and the SHA-256 of all its bytes.
 * The whole file rather than a prefix plus the modification time: a scraper that rewrites
 * `news.json` every day may keep the first megabytes and the size while changing later items, and
 * copying or touching an unchanged file changes its mtime without changing a single record. Hashing
 * runs at disk speed (hundreds of MB/s here), small beside analysing even one item.
 */
export interface InputFingerprint {
  bytes: number;
  sha256: string;
}

/** Reads the file once and hashes it; throws the file system's error when it cannot be read. */
export async function fingerprintFile(file: string): Promise<InputFingerprint> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest("hex") };
}

/**
 * The fingerprint of one input item: SHA-256 of its value as JSON (whitespace and formatting of the
 * file do not matter, the item's content does). Journaled with each record so that a resume can
 * tell, item by item, whether a changed file still holds the items the journal's records belong to
 * (a malformed file fixed after its first items were analysed does).
 */
export function fingerprintItem(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value) ?? "undefined").digest("hex");
}
