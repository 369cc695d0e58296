/**
 * Finds the first byte of `bytes` that does not belong to well-formed UTF-8 (overlong forms,
 * surrogates and code points past U+10FFFF included), or -1. Only used to point at the culprit
 * once a strict decoder has refused the data, so it favours clarity over speed.
 *
 * `partialEdges` tolerates a sequence cut by a chunk boundary: continuation bytes at the start and
 * an unfinished sequence at the end.
 */
export function findInvalidUtf8(bytes: Uint8Array, partialEdges = false): number {
  let i = 0;
  if (partialEdges) {
    while (i < bytes.length && i < 3 && ((bytes[i] as number) & 0xc0) === 0x80) i += 1;
  }
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i += 1;
      continue;
    }
    let length: number;
    let minimum: number;
    if (lead >= 0xc2 && lead <= 0xdf) [length, minimum] = [2, 0x80];
    else if (lead >= 0xe0 && lead <= 0xef) [length, minimum] = [3, 0x800];
    else if (lead >= 0xf0 && lead <= 0xf4) [length, minimum] = [4, 0x10000];
    else return i;
    if (i + length > bytes.length) {
      const tailIsContinuations = bytes.subarray(i + 1).every((byte) => (byte & 0xc0) === 0x80);
      return partialEdges && tailIsContinuations ? -1 : i;
    }
    let codePoint = lead & (0xff >> (length + 1));
    for (let k = 1; k < length; k += 1) {
      const byte = bytes[i + k] as number;
      if ((byte & 0xc0) !== 0x80) return i;
      codePoint = (codePoint << 6) | (byte & 0x3f);
    }
    if (codePoint < minimum || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return i;
    i += length;
  }
  return -1;
}

/** True for the error a fatal TextDecoder throws on malformed input. */
export function isInvalidEncodingError(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === "ERR_ENCODING_INVALID_ENCODED_DATA";
}
