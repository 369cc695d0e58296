/**
 * The CLI's one rule for outputs, shared by every command that writes: which format a record output
 * gets (analyze, collect), and the check, before any work, that an output file can be written
 * (analyze's -o and --stats, collect, report, gate train, gate distill).
 */
import { Option } from "commander";
import { checkOutputTarget, type OutputFormat } from "../io/output-writer.js";
import { UsageError } from "./exit-codes.js";

/** `--format` for commands that write records; its help states the rule {@link recordOutputFormat} applies. */
export function recordFormatOption(): Option {
  return new Option("--format <format>", "output format (default: jsonl for -o - and *.jsonl / *.ndjson, else json)").choices(["json", "jsonl"]);
}

/**
 * The format of a record output: `--format` when given, else JSON Lines for `-` (stdout) and for a
 * `.jsonl` / `.ndjson` path, else the tutorial's JSON array. stdout only streams JSON Lines.
 */
export function recordOutputFormat(output: string, format?: OutputFormat): OutputFormat {
  const toStdout = output === "-";
  const chosen = format ?? (toStdout || /\.(jsonl|ndjson)$/i.test(output) ? "jsonl" : "json");
  if (toStdout && chosen !== "jsonl") throw new UsageError("-o - streams JSON Lines; --format json needs a file");
  return chosen;
}

/**
 * Checks that a command's output file can be written, before the command does any work (`-`,
 * stdout, needs no check). `what` names the content for the message: "the report", "the gate".
 */
export async function checkOutputPath(output: string, what?: string): Promise<void> {
  if (output === "-") return;
  await checkOutputTarget(output, what);
}
