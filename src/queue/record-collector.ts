import type { AnalysisRecord } from "../core/analysis-record.js";
import type { Sink, SinkWrite } from "../core/sink.js";
import type { StoredRecord } from "./run-store.js";

/**
 * The sink a worker hands to `run()` for one job: it keeps the job's records, with the input
 * positions the engine gives them, until the job is done and they are stored in one transaction.
 */
export class RecordCollector implements Sink {
  readonly name = "queue job";
  readonly records: StoredRecord[] = [];

  write(record: AnalysisRecord, info: SinkWrite): void {
    if (info.index === null) throw new Error("a queue job's record has no input position");
    this.records.push({ position: info.index, record });
  }

  async close(): Promise<void> {}
}
