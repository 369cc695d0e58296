import { Tokenizer, TokenizerError, TokenParser, TokenParserError, TokenType } from "@streamparser/json";
import type { ParsedTokenInfo } from "@streamparser/json";
import { TextPositionTracker, type TextPosition } from "./text-position.js";
import { findInvalidUtf8, isInvalidEncodingError } from "./utf8.js";

/** Said of any input that is not UTF-8: JSON must be, and guessing an encoding would garble text. */
export const INVALID_UTF8_PROBLEM = "invalid UTF-8 byte (the input must be UTF-8 encoded)";

/**
 * What to pull out of the stream:
 * - `array-elements`: the input is one JSON array; each element is a value (the scraper's shape).
 * - `top-level-values`: the input is one or more JSON values one after another (a pretty-printed
 *   object, or several); each is a value.
 * - `single-value`: the input is exactly one JSON value (a JSON Lines line).
 */
export type JsonStreamShape = "array-elements" | "top-level-values" | "single-value";

/** A JSON syntax error at a known place. `offset` counts bytes from the start of the input. */
export class JsonSyntaxError extends Error {
  constructor(
    readonly problem: string,
    readonly offset: number,
    readonly position: TextPosition,
  ) {
    super(`${position.line}:${position.column}: ${problem}`);
    this.name = "JsonSyntaxError";
  }
}

type Expectation = "value" | "value-or-close" | "key" | "key-or-close" | "colon" | "comma-or-close" | "end";

const TOKENIZER_ERROR = /at chunk position "(\d+)" \(absolute position "(\d+)"\) in state (\w+)/;
const ENDED_MID_TOKEN = /state: (\w+)/;

/**
 * Streams JSON values out of UTF-8 chunks with @streamparser/json, never holding more than the
 * value being built, and turns the library's terse errors into `line:column: what was wrong
 * (what was expected)`.
 *
 * The library knows neither lines nor what it expected, so this class follows the token stream
 * with a small grammar state (`expecting`) and a position tracker. Both only move on tokens the
 * library accepted, so at an error they describe the place just before the offending token.
 */
export class JsonStreamParser {
  private readonly tokenizer: Tokenizer;
  private readonly parser: TokenParser;
  private readonly positions = new TextPositionTracker();
  private readonly containers: Array<"object" | "array"> = [];
  private expecting: Expectation = "value";
  /** The last token the library accepted. */
  private previousToken: TokenType | undefined;
  /** The last token given to the library, accepted or not. */
  private lastToken: ParsedTokenInfo | undefined;
  private lastTokenOffset = 0;
  private emit: (value: unknown) => void = () => {};
  private failed: JsonSyntaxError | undefined;

  /**
   * @param shape what counts as one value, see {@link JsonStreamShape}
   * @param offsetBase bytes of the input before the first chunk given here (a BOM the caller
   *   stripped, or the start of a JSON Lines line), added to reported offsets
   */
  constructor(
    private readonly shape: JsonStreamShape,
    private readonly offsetBase = 0,
    /** What the end of the parsed text is, in messages: "input", or "line" for a JSON Lines line. */
    private readonly endName: "input" | "line" = "input",
  ) {
    const separator = shape === "top-level-values" ? "" : undefined;
    this.tokenizer = new Tokenizer({ separator });
    this.parser = new TokenParser({
      paths: shape === "array-elements" ? ["$.*"] : ["$"],
      // Without this the root array would keep every element already handed out.
      keepStack: false,
      separator,
    });
    this.tokenizer.onToken = (info) => this.onToken(info);
    this.parser.onValue = ({ value }) => this.emit(value);
  }

  /** Parses one chunk; values it completes go to `emit` before any error in the same chunk is thrown. */
  write(chunk: Uint8Array, emit: (value: unknown) => void): void {
    if (this.failed) throw this.failed;
    this.positions.push(chunk);
    this.emit = emit;
    try {
      this.tokenizer.write(chunk);
    } catch (error) {
      throw this.fail(this.describeWriteError(error, chunk));
    }
    this.positions.forgetBefore(this.lastTokenOffset);
  }

  /** Signals the end of the input; throws if it ended inside a value. */
  end(emit: (value: unknown) => void): void {
    if (this.failed) throw this.failed;
    this.emit = emit;
    try {
      this.tokenizer.end();
      if (!this.parser.isEnded) this.parser.end();
    } catch (error) {
      if (!(error instanceof TokenizerError) && !(error instanceof TokenParserError) && !isParserEndError(error)) {
        throw error;
      }
      if (error instanceof TokenParserError && error.message.startsWith("Unexpected")) {
        // A number at the very end is only tokenized now, and can itself be out of place.
        throw this.fail(this.syntaxError(this.describeUnexpectedToken(), this.lastTokenOffset));
      }
      const state = ENDED_MID_TOKEN.exec((error as Error).message)?.[1] ?? "";
      const problem = state.startsWith("STRING")
        ? `unexpected end of ${this.endName} inside a string (missing closing quote)`
        : `unexpected end of ${this.endName} (${this.describeExpectation()})`;
      throw this.fail(this.syntaxError(problem, this.positions.endOffset));
    }
  }

  private onToken(info: ParsedTokenInfo): void {
    this.lastToken = info;
    this.lastTokenOffset = info.offset;
    // The library throws from here when the token does not fit; state below then stays as it was.
    this.parser.write(info);
    this.follow(info.token);
  }

  private follow(token: TokenType): void {
    const wasKeyPosition = this.expecting === "key" || this.expecting === "key-or-close";
    switch (token) {
      case TokenType.LEFT_BRACE:
        this.containers.push("object");
        this.expecting = "key-or-close";
        break;
      case TokenType.LEFT_BRACKET:
        this.containers.push("array");
        this.expecting = "value-or-close";
        break;
      case TokenType.RIGHT_BRACE:
      case TokenType.RIGHT_BRACKET:
        this.containers.pop();
        this.expecting = this.afterValue();
        break;
      case TokenType.COLON:
        this.expecting = "value";
        break;
      case TokenType.COMMA:
        this.expecting = this.containers.at(-1) === "object" ? "key" : "value";
        break;
      case TokenType.SEPARATOR:
        break;
      default:
        this.expecting = token === TokenType.STRING && wasKeyPosition ? "colon" : this.afterValue();
    }
    this.previousToken = token;
  }

  private afterValue(): Expectation {
    if (this.containers.length > 0) return "comma-or-close";
    return this.shape === "top-level-values" ? "value" : "end";
  }

  private describeExpectation(): string {
    switch (this.expecting) {
      case "value":
        return "expected a value";
      case "value-or-close":
        return 'expected a value or "]"';
      case "key":
        return "expected a property name in double quotes";
      case "key-or-close":
        return 'expected a property name in double quotes or "}"';
      case "colon":
        return 'expected ":" after the property name';
      case "comma-or-close":
        return this.containers.at(-1) === "object" ? 'expected "," or "}"' : 'expected "," or "]"';
      case "end":
        return this.shape === "array-elements"
          ? "expected nothing more after the JSON array"
          : "expected nothing more after the JSON value";
    }
  }

  private describeWriteError(error: unknown, chunk: Uint8Array): JsonSyntaxError {
    if (error instanceof TokenParserError) {
      return this.syntaxError(this.describeUnexpectedToken(), this.lastTokenOffset);
    }
    if (error instanceof TokenizerError) {
      const match = TOKENIZER_ERROR.exec(error.message);
      if (match) {
        const chunkIndex = Number(match[1]);
        const offset = Number(match[2]);
        return this.syntaxError(this.describeBadCharacter(match[3] as string, chunk, chunkIndex), offset);
      }
      return this.syntaxError(`invalid JSON (${error.message})`, this.positions.endOffset);
    }
    if (isInvalidEncodingError(error)) {
      // The library decodes strings strictly but does not say where; find the byte ourselves.
      const inChunk = findInvalidUtf8(chunk, true);
      const chunkStart = this.positions.endOffset - chunk.length;
      return this.syntaxError(INVALID_UTF8_PROBLEM, chunkStart + Math.max(0, inChunk));
    }
    throw error;
  }

  private describeUnexpectedToken(): string {
    // The token the library refused is the last one it was given.
    const offending = this.lastToken;
    let what: string;
    if (offending?.token === TokenType.STRING) what = `unexpected string ${JSON.stringify(shorten(String(offending.value)))}`;
    else if (offending?.token === TokenType.NUMBER) what = `unexpected number ${String(offending.value)}`;
    else if (typeof offending?.value === "string") what = `unexpected ${JSON.stringify(offending.value)}`;
    else what = `unexpected ${String(offending?.value)}`;
    const closing = offending?.token === TokenType.RIGHT_BRACE || offending?.token === TokenType.RIGHT_BRACKET;
    const trailingComma = closing && this.previousToken === TokenType.COMMA ? "; JSON allows no trailing comma" : "";
    return `${what} (${this.describeExpectation()}${trailingComma})`;
  }

  private describeBadCharacter(state: string, chunk: Uint8Array, index: number): string {
    const character = characterAt(chunk, index);
    const shown = describeCharacter(character);
    if (state === "STRING_DEFAULT") {
      return character === "\n" || character === "\r"
        ? "unescaped line break inside a string"
        : `unescaped ${shown} inside a string`;
    }
    if (state === "STRING_AFTER_BACKSLASH") return `invalid escape "\\${character}" in a string`;
    if (state.startsWith("STRING_UNICODE_DIGIT")) return `unexpected ${shown} in a \\u escape (expected 4 hex digits)`;
    if (state.startsWith("TRUE") || state.startsWith("FALSE") || state.startsWith("NULL")) {
      return `unexpected ${shown} (expected true, false or null)`;
    }
    if (state.startsWith("NUMBER")) return `unexpected ${shown} in a number`;
    return `unexpected ${shown} (${this.describeExpectation()})`;
  }

  private syntaxError(problem: string, offset: number): JsonSyntaxError {
    return new JsonSyntaxError(problem, this.offsetBase + offset, this.positions.positionOf(offset));
  }

  private fail(error: JsonSyntaxError): JsonSyntaxError {
    this.failed = error;
    return error;
  }
}

function isParserEndError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("Parser ended in mid-parsing");
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** The whole UTF-8 character starting at `index`, so a stray "é" is shown as "é", not as its first byte. */
function characterAt(chunk: Uint8Array, index: number): string {
  const lead = chunk[index] ?? 0;
  const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return new TextDecoder().decode(chunk.subarray(index, index + length));
}

function describeCharacter(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return JSON.stringify(character);
}
