import type { Writable } from "node:stream";
import type { AnalysisRecord } from "../core/analysis-record.js";
import type { Sink, SinkWrite } from "../core/sink.js";
import { writeJsonlLine } from "../io/output-writer.js";

/**
 * JSON Lines to a stream (stdout by default), one record per line as soon as it is ready, with
 * backpressure. When the reader goes away (`news-moe analyze ... -o - | head`) it says so and the
 * run stops quietly. Records replayed from a resumed run were delivered before and are skipped.
 */
export class StreamSink implements Sink {
  readonly name: string;

  constructor(readonly stream: Writable = process.stdout) {
    this.name = stream === process.stdout ? "stdout" : "stream";
  }

  async write(record: AnalysisRecord, info: SinkWrite): Promise<boolean> {
    if (info.replayed) return true;
    return writeJsonlLine(this.stream, record);
  }

  async close(): Promise<void> {}
}
