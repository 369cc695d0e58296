/**
 * The one error type the CLI maps to "bad input" (exit code 2): the input cannot be opened, is not
 * JSON / JSON Lines, or breaks JSON syntax. Carries the location so callers can print or test it
 * without parsing the message.
 */
export class InputFormatError extends Error {
  /** The input as the user named it; `<stdin>` for `-`. */
  readonly file: string;
  /** 1-based line of the problem, when it is about a place in the input. */
  readonly line: number | undefined;
  /** 1-based column in Unicode characters (what editors show), when `line` is set. */
  readonly column: number | undefined;
  /** 0-based byte offset in the input, BOM included, when `line` is set. */
  readonly offset: number | undefined;
  /** The system error code (`ENOENT`, `EISDIR`, `EACCES`...) when the input could not be read. */
  readonly code: string | undefined;
  /** The problem alone, without the location prefix. */
  readonly problem: string;

  constructor(
    file: string,
    problem: string,
    where?: { line: number; column: number; offset: number },
    options?: { code?: string; cause?: unknown },
  ) {
    const location = where ? `${file}:${where.line}:${where.column}` : file;
    const byteNote = where ? ` [byte ${where.offset}]` : "";
    super(`${location}: ${problem}${byteNote}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "InputFormatError";
    this.file = file;
    this.problem = problem;
    this.line = where?.line;
    this.column = where?.column;
    this.offset = where?.offset;
    this.code = options?.code;
  }
}

/** How an input source is named in messages. */
export function displayNameOf(source: string): string {
  return source === "-" ? "<stdin>" : source;
}
