import type { Command } from "commander";
import type { Expert } from "../core/expert.js";
import { createDefaultRegistry } from "../experts/default-registry.js";
import { ExitCode } from "./exit-codes.js";
import { loadPlugins } from "../engine/plugins.js";

/** One expert's availability in words: "available" or "unavailable: why". */
export async function availabilityOf(expert: Expert): Promise<string> {
  try {
    if (expert.probe) {
      const result = await expert.probe();
      return result.available ? "available" : `unavailable: ${result.reason}`;
    }
    await expert.load({});
    return "available";
  } catch (error) {
    return `unavailable: ${(error as Error).message}`;
  }
}

export function registerExpertsCommand(program: Command): void {
  program
    .command("experts")
    .description("list the experts, their tasks and whether each can run here")
    .option("--plugin <file>", "also list experts from a JavaScript module (repeatable)", (v: string, p: string[]) => [...p, v], [])
    .option("--offline", "check availability without the network", false)
    .option("--json", "print JSON instead of a table", false)
    .action(async (flags: { plugin: string[]; offline: boolean; json: boolean }) => {
      // HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are read by the model store, which then names them.
      const model = { offline: flags.offline, offlineLabel: "--offline" };
      const registry = createDefaultRegistry({ summarizer: model, sentiment: model });
      await loadPlugins(flags.plugin, registry);
      const rows = await Promise.all(
        registry.list().map(async (expert) => ({
          name: expert.name,
          task: expert.task,
          status: await availabilityOf(expert),
          requires: expert.requires,
          description: expert.description,
        })),
      );
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      } else {
        for (const row of rows) {
          process.stdout.write(`${row.name}  [${row.task}]  ${row.status}\n    ${row.description}\n    needs: ${row.requires}\n`);
        }
      }
      process.exitCode = ExitCode.Ok;
    });
}
