/** Where records go. A new sink is one file implementing `Sink` (src/core/sink.ts). */
export { FileSink } from "./file-sink.js";
export { JournalSink, type JournalSinkOptions } from "./journal-sink.js";
export { StreamSink } from "./stream-sink.js";
