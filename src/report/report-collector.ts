import type { AnalysisRecord } from "../core/analysis-record.js";
import { itemFacts, toReportRow, type ReportRow } from "./report-row.js";

/**
 * The rows of the items a server has analysed, for its live report. Bounded: past `limit` rows the
 * oldest go, so a long-running server's memory stays flat.
 */
export class ReportCollector {
  private readonly kept: ReportRow[] = [];
  private start = 0;

  constructor(private readonly limit = 100_000) {}

  add(record: AnalysisRecord, item: unknown): void {
    const row = toReportRow(record, itemFacts(item));
    if (this.kept.length < this.limit) {
      this.kept.push(row);
    } else {
      this.kept[this.start] = row;
      this.start = (this.start + 1) % this.limit;
    }
  }

  /** Oldest first. */
  rows(): ReportRow[] {
    return [...this.kept.slice(this.start), ...this.kept.slice(0, this.start)];
  }
}
