// The io layer's public surface: reading news items, validating them, writing results, and the
// crash-safety journal. Internals (parsers, sniffing, position tracking) stay unexported.
export { InputFormatError } from "./input-error.js";
export { openInput, type InputFormat, type InputReader, type OpenInputOptions, type RawInputItem } from "./input-reader.js";
export { describeJsonType, validateItem, type ItemValidation } from "./item-schema.js";
export { inPublishedOrder, type AnalysisEntry, type AnalysisRecord } from "./output-record.js";
export {
  OutputWriteError,
  writeJsonArrayAtomically,
  writeJsonLinesAtomically,
  writeJsonLinesToStdout,
  writeJsonLinesToStream,
  writeRecordsAtomically,
  type OutputFormat,
  type StreamWriteResult,
} from "./output-writer.js";
export {
  finalizeFromJournal,
  Journal,
  JournalCorruptError,
  JournalExistsError,
  JournalInputMismatchError,
  journalPathFor,
  type JournalHeader,
  type JournalOpenOptions,
} from "./journal.js";
