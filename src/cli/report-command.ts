import type { Command } from "commander";
import { resolve } from "node:path";
import { readItemFacts, readReportRows } from "../report/read-results.js";
import { renderReport } from "../report/render-report.js";
import { writeTextFileAtomically } from "../io/output-writer.js";
import { ExitCode } from "./exit-codes.js";
import { checkOutputPath } from "./output-options.js";

interface ReportFlags {
  output: string;
  items?: string;
  title?: string;
  quiet: boolean;
}

export function registerReportCommand(program: Command): void {
  program
    .command("report")
    .description("write a self-contained HTML report (charts and a searchable table) of analysis results")
    .argument("<results>", "what news-moe analyze wrote: a JSON array or JSON Lines file")
    .option("-o, --output <file>", "the HTML file to write", "report.html")
    .option("--items <input>", "the input items, for topics, publication dates and article lengths")
    .option("--title <text>", "the report's title")
    .option("-q, --quiet", "no summary line", false)
    .action(async (results: string, flags: ReportFlags) => {
      await checkOutputPath(flags.output, "the report");
      const facts = flags.items ? await readItemFacts(flags.items) : undefined;
      const rows = await readReportRows(results, facts);
      const options = { ...(flags.title ? { title: flags.title } : {}), source: results, generatedAt: new Date() };
      const html = renderReport(rows, options);
      const output = resolve(flags.output);
      // Written beside and renamed, so a reader never sees half a report.
      await writeTextFileAtomically(output, html);
      if (!flags.quiet) {
        const bytes = Buffer.byteLength(html);
        // The page and Chart.js weigh the same whatever the records (the report of none): a small
        // report is mostly that, so the size per record is what the records add beyond it.
        const fixed = Buffer.byteLength(renderReport([], options));
        const perRecord = rows.length ? ` (${fixed} bytes of page and Chart.js, ${Math.round((bytes - fixed) / rows.length)} bytes per record)` : "";
        process.stderr.write(`news-moe: wrote ${output}: ${rows.length} records, ${bytes} bytes${perRecord}\n`);
      }
      process.exitCode = ExitCode.Ok;
    });
}
