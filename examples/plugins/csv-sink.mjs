// A sink in one file: it gets every record of the run in input order (on --resume, the records of
// the interrupted run first, marked `replayed`), then close() when the run finished or abort() when
// it did not. This one writes id, headline and the sentiment label of each item as CSV next to the
// output, to NEWS_MOE_CSV (default analyzed_news_data.csv), atomically.
//   news-moe analyze news.json --plugin examples/plugins/csv-sink.mjs
import { rename, rm, writeFile, appendFile } from "node:fs/promises";

const target = process.env.NEWS_MOE_CSV ?? "analyzed_news_data.csv";
const temporary = `${target}.tmp-${process.pid}`;
const cell = (value) => `"${String(value ?? "").replaceAll('"', '""')}"`;

function sentimentOf(record) {
  const mixed = record.mixture?.sentiment?.sentiment_label;
  if (mixed) return mixed;
  for (const output of Object.values(record.analyses)) if (output?.sentiment_label) return output.sentiment_label;
  return "";
}

export default {
  name: "csv",
  async open() {
    await writeFile(temporary, "id,headline,sentiment\n");
  },
  async write(record) {
    await appendFile(temporary, `${[record.id, record.headline, sentimentOf(record)].map(cell).join(",")}\n`);
  },
  async close() {
    await rename(temporary, target);
  },
  async abort() {
    await rm(temporary, { force: true });
  },
};
