/**
 * Token-embedding rows read from the model file on demand, for graphs compiled without their table
 * (the compiled BART encoder and decoder step, the table-less classifier). Rows come from the operating
 * system's page cache after the first read, so the table costs no memory of the process's own.
 */

import { closeSync, openSync, readSync } from "node:fs";
import ort from "onnxruntime-node";
import { tokenTableElementBytes, type TokenTableLocation } from "./compiler/token-table-location.js";
import { DataType } from "./compiler/onnx-proto.js";

export class TokenTable {
  private fd: number | null = null;
  readonly rowBytes: number;

  constructor(readonly location: TokenTableLocation) {
    this.rowBytes = location.width * tokenTableElementBytes(location.dataType);
  }

  /** The rows of `ids`, one after another, as raw bytes of the table's element type. */
  gather(ids: ArrayLike<number>): Uint8Array {
    const { rowBytes } = this;
    const out = new Uint8Array(ids.length * rowBytes);
    const fd = (this.fd ??= openSync(this.location.file, "r"));
    // Padding repeats one id many times: copy a row read before instead of reading it again.
    const firstAt = new Map<number, number>();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(Number.isInteger(id) && id >= 0 && id < this.location.rows)) throw new RangeError(`token id ${id} is outside the vocabulary (${this.location.rows})`);
      const earlier = firstAt.get(id);
      if (earlier !== undefined) {
        out.copyWithin(i * rowBytes, earlier * rowBytes, (earlier + 1) * rowBytes);
        continue;
      }
      firstAt.set(id, i);
      const read = readSync(fd, out, i * rowBytes, rowBytes, this.location.offset + id * rowBytes);
      if (read !== rowBytes) throw new Error(`${this.location.file}: short read of token ${id}'s embedding`);
    }
    return out;
  }

  /** The rows of `ids` (shaped `dims`) as a tensor of the table's element type, shape [...dims, width]. */
  lookup(ids: ArrayLike<number>, dims: readonly number[]): ort.Tensor {
    const bytes = this.gather(ids);
    const shape = [...dims, this.location.width];
    switch (this.location.dataType) {
      case DataType.FLOAT:
        return new ort.Tensor("float32", new Float32Array(bytes.buffer), shape);
      case DataType.INT8:
        return new ort.Tensor("int8", new Int8Array(bytes.buffer), shape);
      default:
        return new ort.Tensor("uint8", bytes, shape);
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
