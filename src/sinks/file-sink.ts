import type { AnalysisRecord } from "../core/analysis-record.js";
import type { Sink, SinkWrite } from "../core/sink.js";
import { checkOutputTarget, openRecordFile, removeStaleTemporaries, type OutputFormat, type RecordFileWriter } from "../io/output-writer.js";

/**
 * The output file: a pretty JSON array (the tutorial's `analyzed_news_data.json` layout) or JSON
 * Lines, every record once in input order, replayed ones from a resumed run first. Written to a
 * temporary name as records come and renamed into place when the run finishes, so the file is
 * either complete or absent (an interrupted run leaves the previous file, if any, untouched). The
 * temporary file of a run that was killed is removed by the next run on the same output.
 */
export class FileSink implements Sink {
  readonly name: string;
  #file: RecordFileWriter | undefined;

  constructor(
    readonly path: string,
    readonly format: OutputFormat = "json",
  ) {
    this.name = `file ${path}`;
  }

  async open(): Promise<void> {
    if (this.#file) return;
    await checkOutputTarget(this.path);
    await removeStaleTemporaries(this.path);
    this.#file = await openRecordFile(this.path, this.format);
  }

  async write(record: AnalysisRecord, _info: SinkWrite): Promise<void> {
    await this.open();
    await this.#file!.write(record);
  }

  async close(): Promise<void> {
    await this.open();
    await this.#file!.commit();
    this.#file = undefined;
  }

  async abort(): Promise<void> {
    await this.#file?.abort();
    this.#file = undefined;
  }
}
