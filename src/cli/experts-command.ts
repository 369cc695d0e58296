import type { Command } from "commander";
import { expertLabels, type Expert } from "../core/expert.js";
import { createRegistry } from "../engine/assemble-run.js";
import { hubEndpoint } from "../models/hub-env.js";
import { ExitCode } from "./exit-codes.js";
import type { EngineCatalogue } from "./engine-options.js";
import { settingOption } from "./setting-flags.js";
import { ENGINE_SETTINGS, MODEL_SETTINGS } from "../catalogue/catalogue.js";

export type HubAnswer = { ok: true } | { ok: false; why: string };

/** Whether the model hub answers at all (any HTTP status), within a few seconds. */
async function hubAnswers(): Promise<HubAnswer> {
  const endpoint = hubEndpoint();
  try {
    await fetch(endpoint, { method: "HEAD", signal: AbortSignal.timeout(5000) });
    return { ok: true };
  } catch (error) {
    const inner = (error as { cause?: { code?: string; errors?: Array<{ code?: string }> } }).cause;
    const cause = inner?.code ?? inner?.errors?.[0]?.code ?? (error as Error).name;
    return { ok: false, why: `${endpoint} cannot be reached (${cause})` };
  }
}

/** A hub check made on first use and shared by every expert asked about after it. */
export function hubCheckOnce(): () => Promise<HubAnswer> {
  let answer: Promise<HubAnswer> | undefined;
  return () => (answer ??= hubAnswers());
}

/**
 * One expert's availability in words, the same for `news-moe experts` and serve's /v1/experts.
 * ready: it runs now (embedded, or its model is cached); downloadable: its model is fetched on
 * first use and the hub answers; unavailable: with the reason (offline and not cached, hub
 * unreachable, onnxruntime-node missing, ...).
 */
export async function availabilityOf(expert: Expert, hub: () => Promise<HubAnswer> = hubCheckOnce()): Promise<string> {
  try {
    if (expert.probe) {
      const result = await expert.probe();
      if (!result.available) return `unavailable: ${result.reason}`;
      if (!result.downloadable) return "ready";
      const reachable = await hub();
      return reachable.ok
        ? "downloadable: its model is not cached yet and is downloaded on first use"
        : `unavailable: its model is not cached and ${reachable.why}; run \`news-moe models pull\` where the hub can be reached`;
    }
    await expert.load({});
    return "ready";
  } catch (error) {
    return `unavailable: ${(error as Error).message}`;
  }
}

export function registerExpertsCommand(program: Command, { catalogue }: EngineCatalogue): void {
  program
    .command("experts")
    .description("list the experts, their tasks and whether each can run here")
    // The engine's own --plugin and --offline settings, so they mean here what they mean for analyze.
    .addOption(settingOption("plugin", ENGINE_SETTINGS.plugin)!)
    .addOption(settingOption("offline", MODEL_SETTINGS.offline)!)
    .option("--json", "print JSON instead of a table", false)
    .action(async (flags: { plugin: string[]; offline: boolean; json: boolean }) => {
      // HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are read by the model store, which then names them.
      // The --plugin modules are in the catalogue already (loaded before the commands: see program.ts).
      const registry = createRegistry(catalogue, { settings: { offline: flags.offline, offlineLabel: "--offline" } });
      const hub = hubCheckOnce();
      const rows = await Promise.all(
        registry.list().map(async (expert) => ({
          name: expert.name,
          task: expert.task,
          group: catalogue.expert(expert.name)?.group,
          worker: catalogue.expert(expert.name)?.workerKind,
          status: await availabilityOf(expert, hub),
          ...expertLabels(expert),
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
