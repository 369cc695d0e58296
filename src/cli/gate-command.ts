import { Command, InvalidArgumentError } from "commander";
import { builtInCatalogue } from "../catalogue/catalogue.js";
import { GateDataError, readLabelled, type LabelledItem } from "../learned-gate/dataset.js";
import { distill, type TeacherRecord } from "../learned-gate/distill.js";
import { describeDistillShortfall } from "../learned-gate/distill-needs.js";
import { DEFAULT_FEATURE_SPEC } from "../learned-gate/gate-features.js";
import { loadGate, serializeGate } from "../learned-gate/gate-file.js";
import { costSummary, formatReport, type GateReport } from "../learned-gate/report.js";
import { DEFAULT_TRAIN_OPTIONS, evaluateGate, trainGate } from "../learned-gate/train.js";
import type { NewsItem } from "../core/news-item.js";
import { openInput } from "../io/input-reader.js";
import { validateItem } from "../io/item-schema.js";
import { writeTextFileAtomically } from "../io/output-writer.js";
import { ExitCode } from "./exit-codes.js";
import { checkOutputPath } from "./output-options.js";

function integer(name: string, min: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}`);
    return n;
  };
}

function share(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError("must be a number in [0, 1)");
  return n;
}

const costly = builtInCatalogue().costly();

/** The report as JSON: per task accuracy, macro-F1, confusion, and the cost view where it applies. */
function reportJson(report: GateReport): unknown {
  const tasks: Record<string, unknown> = {};
  for (const [task, r] of Object.entries(report.tasks)) {
    const cost = costSummary(r, costly);
    tasks[task] = { ...r, ...(cost ? { cost } : {}) };
  }
  return { tasks };
}

function reportText(report: GateReport, title: string): string {
  const lines = [formatReport(report, title)];
  for (const [task, r] of Object.entries(report.tasks)) {
    const cost = costSummary(r, costly);
    if (cost) {
      lines.push(
        `  ${task} cost: ${(cost.neural_routed * 100).toFixed(1)}% of items to the neural expert ` +
          `(${(cost.neural_calls_avoided * 100).toFixed(1)}% of neural calls avoided), agreement kept ${(cost.agreement_kept * 100).toFixed(1)}%`,
      );
    }
  }
  return lines.join("\n");
}

async function readTeacher(path: string): Promise<TeacherRecord[]> {
  const records: TeacherRecord[] = [];
  for await (const { value } of openInput(path)) {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) records.push(value as TeacherRecord);
  }
  return records;
}

async function readItems(path: string): Promise<NewsItem[]> {
  const items: NewsItem[] = [];
  for await (const { value, index } of openInput(path)) {
    const checked = validateItem(value, index);
    if (checked.ok) items.push(checked.item);
  }
  return items;
}

export function registerGateCommand(program: Command): void {
  const gate = program.command("gate").description("train, evaluate and distill the learned gating network (--router learned)");

  gate
    .command("train")
    .description("train a gate from news items with their wanted \"route\"; calibrates and reports on a held-out split")
    .argument("<data>", 'JSON array or JSON Lines: news items, each with "route": {"<task>": "<expert>" or null}')
    .requiredOption("-o, --output <file>", "where to write the gate (JSON)")
    .option("--field <path>", "a metadata field whose values become features: numbers, dates, array lengths, categories (repeatable)", (v: string, p: string[]) => [...p, v], [])
    .option("--rounds <n>", "boosting rounds (trees per class score)", integer("--rounds", 1), DEFAULT_TRAIN_OPTIONS.boost.rounds)
    .option("--depth <n>", "most splits from a tree's root to a leaf", integer("--depth", 1), DEFAULT_TRAIN_OPTIONS.boost.depth)
    .option("--seed <n>", "seed of the held-out split", integer("--seed", 0), DEFAULT_TRAIN_OPTIONS.seed)
    .option("--hold-out <p>", "share of items held out for calibration and the report", share, DEFAULT_TRAIN_OPTIONS.holdOut)
    .option("--no-clean", "learn from the content as scraped (for gates used with analyze --no-clean)")
    .option("--json", "print the held-out report as JSON", false)
    .action(async (data: string, flags: { output: string; field: string[]; rounds: number; depth: number; seed: number; holdOut: number; clean: boolean; json: boolean }) => {
      const started = performance.now();
      await checkOutputPath(flags.output, "the gate");
      const items = await readLabelled(data, { clean: flags.clean });
      const boost = { ...DEFAULT_TRAIN_OPTIONS.boost, rounds: flags.rounds, depth: flags.depth };
      const result = trainGate(items, { ...DEFAULT_TRAIN_OPTIONS, features: { ...DEFAULT_FEATURE_SPEC, fields: flags.field }, boost, seed: flags.seed, holdOut: flags.holdOut });
      result.gate.training = {
        items: items.length,
        train_items: result.trainItems,
        held_out_items: result.heldOutItems,
        seed: flags.seed,
        rounds: flags.rounds,
        depth: flags.depth,
        cleaned: flags.clean,
        held_out: result.report ? reportJson(result.report) : null,
      };
      await writeTextFileAtomically(flags.output, serializeGate(result.gate));
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (flags.json) process.stdout.write(`${JSON.stringify(result.report ? reportJson(result.report) : null)}\n`);
      else if (result.report) process.stdout.write(`${reportText(result.report, `held-out report (${result.heldOutItems} of ${items.length} items):`)}\n`);
      process.stderr.write(`news-moe: gate trained on ${result.trainItems} items in ${seconds}s, written to ${flags.output}\n`);
      process.exitCode = ExitCode.Ok;
    });

  gate
    .command("eval")
    .description("score a gate on labelled items (the same report as training's held-out one)")
    .argument("<data>", 'JSON array or JSON Lines: news items, each with "route"')
    .requiredOption("--gate <file>", "the gate to score")
    .option("--json", "print the report as JSON", false)
    .option("--predictions <file>", "also write each item's routes as JSON Lines: per task the wanted class, the routed one and its probability")
    .option("--no-clean", "read the content as scraped (for gates used with analyze --no-clean)")
    .action(async (data: string, flags: { gate: string; json: boolean; predictions?: string; clean: boolean }) => {
      if (flags.predictions !== undefined) await checkOutputPath(flags.predictions, "the predictions");
      const model = await loadGate(flags.gate);
      const items = await readLabelled(data, { clean: flags.clean });
      const perItem = items.map(() => ({} as Record<string, { wanted: string | null; routed: string | null; probability: number }>));
      const report = evaluateGate(model, items, undefined, ({ item, task, wanted, routed, probability }) => {
        (perItem[item] as Record<string, unknown>)[task] = { wanted, routed, probability: Number(probability.toFixed(4)) };
      });
      if (flags.predictions !== undefined) {
        await writeTextFileAtomically(flags.predictions, perItem.map((routes, i) => JSON.stringify({ id: (items[i] as LabelledItem).item.id, routes })).join("\n") + "\n");
      }
      process.stdout.write(flags.json ? `${JSON.stringify(reportJson(report))}\n` : `${reportText(report, `${data} (${items.length} items):`)}\n`);
      process.exitCode = ExitCode.Ok;
    });

  gate
    .command("distill")
    .description("label items from a --router all run: the cheap expert where it agrees with the neural one, else the neural one")
    .argument("<teacher>", "output of news-moe analyze --router all (JSON array or JSON Lines)")
    .requiredOption("--items <file>", "the news items that run analysed (records carry no content)")
    .requiredOption("-o, --output <file>", "where to write the labelled items (JSON Lines)")
    .option("--rouge-threshold <p>", "ROUGE-L F1 at or above which the extractive summary agrees", share, 0.3)
    .action(async (teacher: string, flags: { items: string; output: string; rougeThreshold: number }) => {
      await checkOutputPath(flags.output, "the labelled items");
      const records = await readTeacher(teacher);
      const items = await readItems(flags.items);
      const labelled = distill(items, records, { rougeThreshold: flags.rougeThreshold });
      if (labelled.length === 0) throw new GateDataError(describeDistillShortfall(teacher, flags.items, items, records));
      await writeTextFileAtomically(flags.output, labelled.map((item) => JSON.stringify(item)).join("\n") + "\n");
      const counts = new Map<string, number>();
      for (const { route } of labelled) for (const expert of Object.values(route)) counts.set(expert, (counts.get(expert) ?? 0) + 1);
      process.stderr.write(
        `news-moe: ${labelled.length} labelled items written to ${flags.output}: ` +
          [...counts].sort().map(([e, n]) => `${e} ${n}`).join(", ") + "\n",
      );
      process.exitCode = ExitCode.Ok;
    });
}
