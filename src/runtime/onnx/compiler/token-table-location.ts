/**
 * A token-embedding table read row by row from the model file instead of held by a session
 * (runtime/onnx/token-table.ts reads it). The compiled BART graphs and the table-less classifier take
 * the rows as an input.
 */

import { DataType } from "./onnx-proto.js";

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

/** Bytes per element of a table of ONNX type `dataType` (float, uint8 or int8). */
export function tokenTableElementBytes(dataType: number): number {
  const bytes = new Map<number, number>([
    [DataType.FLOAT, 4],
    [DataType.UINT8, 1],
    [DataType.INT8, 1],
  ]).get(dataType);
  if (bytes === undefined) throw new Error(`token-embedding table of ONNX type ${dataType} is not supported`);
  return bytes;
}
