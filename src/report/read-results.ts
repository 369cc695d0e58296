import type { AnalysisRecord } from "../core/analysis-record.js";
import { InputFormatError, openInput } from "../io/input-reader.js";
import { looksLikeAnalysisRecord } from "../io/output-record.js";
import { itemFacts, toReportRow, type ItemFacts, type ReportRow } from "./report-row.js";


/**
 * The facts of an input file's items by id, for the charts the records alone cannot feed (topics,
 * dates, article lengths). Streams the file: only the few facts per item are kept.
 */
export async function readItemFacts(path: string): Promise<Map<string, ItemFacts>> {
  const facts = new Map<string, ItemFacts>();
  for await (const { value } of openInput(path)) {
    const id = (value as { id?: unknown } | null)?.id;
    if (typeof id === "string" || typeof id === "number") facts.set(String(id), itemFacts(value));
  }
  return facts;
}

/** The rows of a results file (JSON array or JSON Lines, as `analyze` writes), streamed. */
export async function readReportRows(path: string, facts?: Map<string, ItemFacts>): Promise<ReportRow[]> {
  const rows: ReportRow[] = [];
  const reader = openInput(path);
  for await (const { index, value } of reader) {
    if (!looksLikeAnalysisRecord(value)) {
      // Bad input like any other (exit 2): the file is not what analyze writes.
      throw new InputFormatError(reader.displayName, `entry ${index} is not an analysis record (expected the output of news-moe analyze)`);
    }
    const record = value as AnalysisRecord;
    rows.push(toReportRow(record, record.id === null ? undefined : facts?.get(record.id)));
  }
  return rows;
}
