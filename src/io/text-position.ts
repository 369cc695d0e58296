/** A place in a text stream, for error messages. */
export interface TextPosition {
  /** 1-based line. */
  line: number;
  /** 1-based column, counted in Unicode characters so it matches what editors show. */
  column: number;
}

const NEWLINE = 0x0a;

/** UTF-8 continuation bytes (10xxxxxx) do not start a character. */
function countCharacters(bytes: Uint8Array, from: number, to: number): number {
  let characters = 0;
  for (let i = from; i < to; i += 1) {
    if (((bytes[i] as number) & 0xc0) !== 0x80) characters += 1;
  }
  return characters;
}

/**
 * Turns byte offsets of a UTF-8 stream into line:column without keeping the stream.
 *
 * A naive line index would cost memory per line (tens of millions of lines in a multi-GB pretty
 * JSON file) and keeping the current line would cost the whole file for minified JSON. Instead the
 * tracker keeps a checkpoint (offset -> line:column) plus only the chunks the caller may still ask
 * about; the caller moves the checkpoint forward with `forgetBefore` as parsing commits, so every
 * byte is scanned about once and memory stays at the size of the chunks since the last token.
 */
export class TextPositionTracker {
  private checkpointOffset = 0;
  private checkpointLine = 1;
  private checkpointColumn = 1;
  /** Consecutive chunks, the first one starting at `checkpointOffset`. */
  private readonly retained: Uint8Array[] = [];
  private retainedBytes = 0;

  /** Total bytes pushed so far: the offset just past the end of the stream seen. */
  get endOffset(): number {
    return this.checkpointOffset + this.retainedBytes;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.retained.push(chunk);
    this.retainedBytes += chunk.length;
  }

  /** Declares that no position before `offset` will be asked for again. */
  forgetBefore(offset: number): void {
    // Whole chunks only: splitting one would copy it, and a chunk is small.
    while (this.retained.length > 1) {
      const first = this.retained[0] as Uint8Array;
      if (this.checkpointOffset + first.length > offset) return;
      this.advanceOver(first, first.length);
      this.retained.shift();
      this.retainedBytes -= first.length;
      this.checkpointOffset += first.length;
    }
  }

  /**
   * The position of the byte at `offset` (or of the end of the stream, for `endOffset`).
   * Offsets before the checkpoint are clamped to it: the caller promised not to ask for them.
   */
  positionOf(offset: number): TextPosition {
    let line = this.checkpointLine;
    let column = this.checkpointColumn;
    let chunkStart = this.checkpointOffset;
    for (const chunk of this.retained) {
      if (chunkStart >= offset) break;
      const end = Math.min(chunk.length, offset - chunkStart);
      const lastNewline = chunk.lastIndexOf(NEWLINE, end - 1);
      if (lastNewline >= 0) {
        line += countNewlines(chunk, end);
        column = 1 + countCharacters(chunk, lastNewline + 1, end);
      } else {
        column += countCharacters(chunk, 0, end);
      }
      chunkStart += chunk.length;
    }
    return { line, column };
  }

  private advanceOver(chunk: Uint8Array, end: number): void {
    if (end <= 0) return;
    const lastNewline = chunk.lastIndexOf(NEWLINE, end - 1);
    if (lastNewline >= 0) {
      this.checkpointLine += countNewlines(chunk, end);
      this.checkpointColumn = 1 + countCharacters(chunk, lastNewline + 1, end);
    } else {
      this.checkpointColumn += countCharacters(chunk, 0, end);
    }
  }
}

function countNewlines(chunk: Uint8Array, end: number): number {
  let count = 0;
  let at = chunk.indexOf(NEWLINE);
  while (at >= 0 && at < end) {
    count += 1;
    at = chunk.indexOf(NEWLINE, at + 1);
  }
  return count;
}
