/**
 * The CLI's commands and its top-level error handling; main.ts imports it once its early signal
 * handling is in place.
 */
import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import { registerAnalyzeCommand } from "./analyze-command.js";
import { ExitCode } from "./exit-codes.js";
import { registerExpertsCommand } from "./experts-command.js";
import { registerGateCommand } from "./gate-command.js";
import { registerModelsCommand } from "./models-command.js";
import { registerReportCommand } from "./report-command.js";
import { registerServeCommand } from "./serve-command.js";
import { registerQueueCommands } from "./queue-commands.js";
import { commandStarted } from "./early-stop.js";
import { describeFatalError, exitCodeFor } from "./fatal-error.js";
import { engineCatalogue } from "./engine-options.js";

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

// A reader that stops early (`news-moe analyze --help | head`) closes the pipe; what we still write is
// not wanted, and the EPIPE it raises is not a failure. Writers that must know (the `-o -` stream,
// which stops the run) see the error on their own writes; this only keeps it from crashing the rest.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
});

const program = new Command()
  .name("news-moe")
  .description("Mixture-of-Experts analysis of scraped news: summaries, sentiment and routing explanations")
  .version(packageVersion(), "-V, --version")
  // One line and a pointer, not the whole help: the error is what the user needs to see.
  .showHelpAfterError("(add --help for usage)")
  .exitOverride()
  // A stop from here on interrupts the command rather than comes before it (main.ts's early handler).
  .hook("preAction", (_program, action) => commandStarted(commandPath(action)));

/** "models pull" for a subcommand, "report" for a command. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(" ");
}

try {
  // The catalogue first, with any --plugin's entries: the engine commands' flags and help come from it.
  const engine = await engineCatalogue(process.argv.slice(2));
  registerAnalyzeCommand(program, engine);
  registerExpertsCommand(program, engine);
  registerModelsCommand(program);
  registerGateCommand(program);
  registerServeCommand(program, engine);
  registerReportCommand(program);
  registerQueueCommands(program, engine);
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version also arrive here, with exit code 0.
    process.exitCode = error.exitCode === 0 ? ExitCode.Ok : ExitCode.Fatal;
  } else {
    process.stderr.write(`news-moe: ${describeFatalError(error)}\n`);
    process.exitCode = exitCodeFor(error);
  }
}
