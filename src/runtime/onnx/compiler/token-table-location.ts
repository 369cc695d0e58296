/**
 * A token-embedding table read row by row from the model file instead of held by a session
 * (runtime/onnx/token-table.ts reads it). Both compiled BART graphs take the rows as an input.
 */

/** The graph input that replaces a token-embedding lookup. */
export const TOKEN_EMBEDDINGS_INPUT = "token_embeddings";

/** Where the token-embedding rows are in the source: row `id` is `width` elements at `offset + id * width * bytes`. */
export interface TokenTableLocation {
  /** The file holding the table (the source model, or its external-data file). */
  readonly file: string;
  readonly offset: number;
  readonly rows: number;
  readonly width: number;
  /** ONNX element type of the table (FLOAT, UINT8 or INT8). */
  readonly dataType: number;
}
