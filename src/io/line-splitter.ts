/** One line of a byte stream, without its line ending. */
export interface Line {
  /** 1-based line number. */
  number: number;
  /** Byte offset of the line's first byte in the stream. */
  offset: number;
  /** Byte offset just past the line's newline (or its last byte, for an unterminated last line). */
  end: number;
  bytes: Buffer;
  /** False only for a last line that the stream ended in the middle of (no final newline). */
  terminated: boolean;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Splits a byte stream into lines on "\n", dropping a "\r" before it (CRLF files) and yielding a
 * last line that has no newline. Works on bytes so a multi-byte character split across chunks is
 * never decoded in halves, and keeps only the line being assembled.
 *
 * `onConsumed` is told how many bytes were consumed up to the end of each yielded line, so a
 * progress display follows what was parsed rather than what was read ahead.
 */
export async function* splitLines(
  chunks: AsyncIterable<Uint8Array>,
  startOffset = 0,
  onConsumed?: (offset: number) => void,
): AsyncGenerator<Line> {
  let pending: Buffer[] = [];
  let lineNumber = 1;
  let lineOffset = startOffset;
  let chunkOffset = startOffset;
  for await (const raw of chunks) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    let start = 0;
    let newline = chunk.indexOf(NEWLINE, start);
    while (newline >= 0) {
      pending.push(chunk.subarray(start, newline));
      const bytes = stripCarriageReturn(pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending));
      pending = [];
      const nextLineOffset = chunkOffset + newline + 1;
      onConsumed?.(nextLineOffset);
      yield { number: lineNumber, offset: lineOffset, end: nextLineOffset, bytes, terminated: true };
      lineNumber += 1;
      lineOffset = nextLineOffset;
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
    chunkOffset += chunk.length;
  }
  if (pending.length > 0) {
    const bytes = stripCarriageReturn(Buffer.concat(pending));
    onConsumed?.(chunkOffset);
    yield { number: lineNumber, offset: lineOffset, end: chunkOffset, bytes, terminated: false };
  }
}

function stripCarriageReturn(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN ? line.subarray(0, line.length - 1) : line;
}
