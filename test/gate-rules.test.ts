/**
 * The learned gate learns the rule it is shown, through the real CLI: items from the project's
 * generator, labelled by rules of every family a user might write (a length threshold at 400 words,
 * 2,500 characters, a rare phrase anywhere in articles of up to 900 words, a topic, two metadata
 * fields, an AND and an OR, and two of them with 5% of the labels flipped), each its own task, so
 * one `gate train` learns them all. Then `gate eval` on items from another seed, and `analyze
 * --router learned --dry-run`, which must route as `gate eval` says and explain each decision in
 * terms that are true of the item.
 *
 * CI trains on 2,000 items and tests on 500. The floors the issue set (train on 4,000, test on
 * 1,000 others, 10,000 items trained in under a minute) are measured by
 *   GATE_FLOORS=1 npx vitest run test/gate-rules.test.ts
 * which prints a table per task and the 10,000-item timing.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/io/output-record.js";
import { isolatedEnv, runCli, tempDir } from "./helpers/cli.js";
import { NOISY, RULE_FIELDS, RULES, writeRuleItems, type GeneratedItem } from "./helpers/gate-rules.js";

const FULL = process.env["GATE_FLOORS"] === "1";
const TRAIN_ITEMS = FULL ? 4000 : 2000;
const TEST_ITEMS = FULL ? 1000 : 500;
const HELD_OUT = Math.floor(TRAIN_ITEMS * 0.2);

type Labelled = GeneratedItem & { route: Record<string, string | null> };
interface TaskReport {
  items: number;
  accuracy: number;
  ece: number;
  labels: string[];
  confusion: number[][];
  reliability: Array<{ low: number; high: number; items: number; confidence: number; accuracy: number }>;
}
interface Prediction {
  id: string;
  routes: Record<string, { wanted: string | null; routed: string | null; probability: number }>;
}

let dir: string;
let trainFile: string;
let testFile: string;
let testItems: Labelled[];
let gateFile: string;
let trained: { code: number | null; stdout: string; stderr: string };
let trainSeconds: number;

beforeAll(async () => {
  dir = await tempDir("news-moe-gate-rules-");
  // Training items as one JSON array, test items as JSON Lines: gate train and eval read both.
  trainFile = (await writeRuleItems(dir, "train.json", TRAIN_ITEMS, 31)).path;
  ({ path: testFile, items: testItems } = await writeRuleItems(dir, "test.jsonl", TEST_ITEMS, 32));
  gateFile = join(dir, "gate.json");
  const started = performance.now();
  trained = await runCli(["gate", "train", trainFile, "-o", gateFile, ...RULE_FIELDS.flatMap((f) => ["--field", f])], { cwd: dir });
  trainSeconds = (performance.now() - started) / 1000;
  expect(trained.stderr).toContain(`gate trained on ${TRAIN_ITEMS - HELD_OUT} items`);
  expect(trained.code).toBe(0);
}, 300_000);

const floor = (task: string) => (task in NOISY ? 0.93 : 0.97);

let evaluation: Promise<{ code: number | null; report: { tasks: Record<string, TaskReport> }; predictions: Prediction[] }> | undefined;
/** `gate eval` of the test items, run once for the tests that read it: the report and each item's routes. */
function evaluate() {
  evaluation ??= (async () => {
    const predictionsFile = join(dir, "predictions.jsonl");
    const result = await runCli(["gate", "eval", testFile, "--gate", gateFile, "--json", "--predictions", predictionsFile], { cwd: dir });
    const predictions = (await readFile(predictionsFile, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Prediction);
    return { code: result.code, report: JSON.parse(result.stdout) as { tasks: Record<string, TaskReport> }, predictions };
  })();
  return evaluation;
}

describe("gate train and eval on every rule family", () => {
  it("reports accuracy, calibration error and a reliability table per task on the held-out split", () => {
    expect(trained.stdout).toMatch(new RegExp(`^held-out report \\(${HELD_OUT} of ${TRAIN_ITEMS} items\\):`));
    for (const task of [...Object.keys(RULES), ...Object.keys(NOISY)]) {
      const line = trained.stdout.match(new RegExp(`\\n  ${task}: ${HELD_OUT} items, accuracy (\\d+\\.\\d)%, macro-F1 \\d\\.\\d{3}, calibration error (\\d\\.\\d{3})\\n`));
      expect(line, task).not.toBeNull();
      expect(Number(line![1]) / 100, task).toBeGreaterThanOrEqual(floor(task));
      expect(Number(line![2]), task).toBeLessThanOrEqual(0.05);
    }
    expect(trained.stdout).toMatch(/\n {4}probability {3}items {2}mean prob {2}accuracy\n {4}0\.9-1\.0 +\d+ +[01]\.\d{3} +[01]\.\d{3}\n/);
  });

  it("routes unseen items as each rule says, with calibrated probabilities", async () => {
    const { code, report, predictions } = await evaluate();
    expect(code).toBe(0);
    expect(predictions.map((p) => p.id)).toEqual(testItems.map((i) => i.id));
    const rows: string[] = [];
    for (const [task, r] of Object.entries(report.tasks)) {
      expect(r.items).toBe(TEST_ITEMS);
      // The accuracy as counted here, from the wanted routes the test wrote and the routes the gate chose.
      const agree = testItems.filter((item, i) => predictions[i]!.routes[task]!.routed === item.route[task]).length;
      expect(r.accuracy, task).toBeCloseTo(agree / TEST_ITEMS, 4);
      expect(r.accuracy, task).toBeGreaterThanOrEqual(floor(task));
      expect(r.ece, task).toBeLessThanOrEqual(0.05);
      // The reliability table accounts for every item, and the error is its weighted gap.
      expect(r.reliability.reduce((a, b) => a + b.items, 0)).toBe(TEST_ITEMS);
      const gap = r.reliability.reduce((a, b) => a + (b.items / TEST_ITEMS) * Math.abs(b.confidence - b.accuracy), 0);
      expect(r.ece).toBeCloseTo(gap, 3);
      // Trained on flipped labels, the gate still follows the rule itself.
      const clean = NOISY[task];
      const vsRule = clean ? testItems.filter((item, i) => predictions[i]!.routes[task]!.routed === item.route[clean]).length / TEST_ITEMS : undefined;
      if (vsRule !== undefined) expect(vsRule, task).toBeGreaterThanOrEqual(0.97);
      rows.push(`${task.padEnd(20)} accuracy ${r.accuracy.toFixed(3)}  ECE ${r.ece.toFixed(3)}${vsRule !== undefined ? `  (against the unflipped rule ${vsRule.toFixed(3)})` : ""}`);
    }
    expect(Object.keys(report.tasks).sort()).toEqual([...Object.keys(RULES), ...Object.keys(NOISY)].sort());
    process.stdout.write(`gate on ${TRAIN_ITEMS} generated items (seed 31), tested on ${TEST_ITEMS} others (seed 32); trained in ${trainSeconds.toFixed(1)} s:\n  ${rows.join("\n  ")}\n`);
  });

  it("learns a threshold rule as a split on the feature the rule reads, at the rule's value", async () => {
    type Node = [number, number, number, number, number] | [number];
    const parsed = JSON.parse(await readFile(gateFile, "utf8")) as {
      format: string;
      version: number;
      tasks: Record<string, { classes: unknown[]; features: Array<{ kind: string; name: string }>; trees: Node[][][] }>;
    };
    expect(parsed).toMatchObject({ format: "news-moe-gate", version: 2 });
    expect(parsed.tasks["topic"]?.classes).toEqual(["LexiconSentimentExpert", "SentimentAnalysisLLMExpert", null]);
    // The first tree's first split is the rule. (Later trees may also split elsewhere: the labels
    // were computed on the content as scraped, the gate reads it cleaned, as analyze routes it.)
    const firstSplit = (task: string) => {
      const t = parsed.tasks[task]!;
      const [feature, threshold] = t.trees[0]![0]![0] as unknown as [number, number];
      return { ...t.features[feature]!, threshold };
    };
    const near = (task: string, kind: string, name: string, value: number, slack: number) => {
      const split = firstSplit(task);
      expect({ kind: split.kind, name: split.name }, task).toEqual({ kind, name });
      expect(Math.abs(split.threshold - value), `${task} split at ${split.threshold}`).toBeLessThanOrEqual(slack);
    };
    near("summarization", "count", "words", 399.5, 5);
    near("characters", "count", "characters", 2499.5, 20);
    near("images", "count", "images count", 1.5, 0.5);
    near("published", "date", "publication_date", Date.parse("2024-10-01T00:00:00Z"), 2 * 86_400_000);
  });

  it("writes the same bytes on every run", async () => {
    // Determinism does not depend on size: 600 of the items, as JSON Lines, trained twice at once.
    const subset = join(dir, "subset.jsonl");
    const all = JSON.parse(await readFile(trainFile, "utf8")) as unknown[];
    await writeFile(subset, all.slice(0, 600).map((item) => JSON.stringify(item)).join("\n") + "\n");
    const args = (output: string) => ["gate", "train", subset, "-o", join(dir, output), ...RULE_FIELDS.flatMap((f) => ["--field", f])];
    const runs = await Promise.all([runCli(args("a.json"), { cwd: dir }), runCli(args("b.json"), { cwd: dir })]);
    for (const run of runs) expect(run.code).toBe(0);
    const [a, b] = await Promise.all([readFile(join(dir, "a.json")), readFile(join(dir, "b.json"))]);
    expect(a.equals(b)).toBe(true);
    expect(a.length).toBeGreaterThan(1000);
  });
});

/** Whitespace-separated words, counted here independently of the gate. */
const wordCount = (text: string) => text.split(/\s+/).filter((w) => w !== "").length;

/**
 * Checks that every feature a reason names is true of the item as analyze routed it (its content
 * without the boilerplate the record says cleaning removed): a term the item has (or, with "no",
 * lacks), a count that is the item's own and on the stated side of the threshold.
 */
function expectTrueOf(reason: string, item: Labelled, removed: readonly string[]): void {
  let content = item.content;
  for (const phrase of removed) content = content.replace(` ${phrase} `, " ");
  const features = reason.slice(reason.indexOf("top features: ") + "top features: ".length);
  // Terms are single words or pairs and measurements have no commas, so ", " separates features.
  const parts = features.split(", ");
  expect(parts.length, reason).toBeGreaterThan(0);
  const text = content.toLowerCase().match(/[\p{L}\p{N}]+/gu)!.join(" ");
  for (const part of parts) {
    const m = part.match(/^(.*) ([+-]\d+\.\d)$/);
    expect(m, `${part} in ${reason}`).not.toBeNull();
    const feature = m![1]!;
    const phrase = feature.match(/^(no )?"([^"]+)"$/);
    const words = feature.match(/^words=(\d+) (above|below) (\d+)$/);
    const topic = feature.match(/^(no )?topic:(.+)$/);
    if (phrase) expect(` ${text} `.includes(` ${phrase[2]} `), `${feature} (${item.id})`).toBe(phrase[1] === undefined);
    else if (words) {
      expect(Number(words[1])).toBe(wordCount(content));
      expect(words[2] === "above" ? Number(words[1]) > Number(words[3]) : Number(words[1]) < Number(words[3]), feature).toBe(true);
    } else if (topic) expect(item.topics.map((t) => t.toLowerCase()).includes(topic[2]!), feature).toBe(topic[1] === undefined);
  }
}

describe("analyze --router learned --dry-run", () => {
  it("routes the test items as gate eval says, every reason naming the features that decided, true of the item", async () => {
    const { predictions } = await evaluate();
    const output = join(dir, "routed.json");
    const result = await runCli(["analyze", testFile, "--router", "learned", "--gate", gateFile, "--dry-run", "-o", output, "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code).toBe(0);
    const records = JSON.parse(await readFile(output, "utf8")) as AnalysisRecord[];
    expect(records.map((r) => r.id)).toEqual(testItems.map((i) => i.id));
    let fallbacks = 0;
    records.forEach((record, i) => {
      const item = testItems[i]!;
      for (const task of ["summarization", "sentiment"]) {
        const choice = record.routing!.experts.find((c) => c.task === task)!;
        const routed = predictions[i]!.routes[task]!.routed as string;
        // The gate's choice is the expert itself, or (no models in this cache) the fallback standing in for it.
        if (choice.reason.startsWith("fallback: ")) {
          expect(choice.reason).toContain(`fallback: ${routed} is unavailable`);
          fallbacks++;
        } else expect(choice.expert).toBe(routed);
        expect(choice.reason).toMatch(/learned gate: P\([A-Za-z]+\)=\d\.\d\d; top features: .+ [+-]\d+\.\d$/);
        expectTrueOf(choice.reason, item, record.cleaning?.boilerplate ?? []);
      }
      // The length rule is decided by the word count, near the rule's 400.
      const summary = record.routing!.experts.find((c) => c.task === "summarization")!.reason;
      const words = summary.match(/top features: words=(\d+) (above|below) (\d+) [+-]/);
      expect(words, summary).not.toBeNull();
      expect(Math.abs(Number(words![3]) - 400)).toBeLessThanOrEqual(5);
    });
    expect(fallbacks).toBeGreaterThan(TEST_ITEMS / 4);
  });

  it("keeps each neural expert within --budget, the neediest items first", async () => {
    const output = join(dir, "budget.json");
    const result = await runCli(["analyze", testFile, "--gate", gateFile, "--budget", "0.2", "--dry-run", "-o", output, "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code).toBe(0);
    const records = JSON.parse(await readFile(output, "utf8")) as AnalysisRecord[];
    for (const [task, neural] of [["summarization", "NewsSummarizationLLMExpert"], ["sentiment", "SentimentAnalysisLLMExpert"]] as const) {
      const reasons = records.map((r) => r.routing!.experts.find((c) => c.task === task)!.reason);
      const kept = reasons.filter((r) => r.startsWith(`fallback: ${neural} is unavailable`)).length;
      const capped = reasons.filter((r) => r.startsWith(`budget: ${neural} is capped at 20% of items`)).length;
      const wanted = testItems.filter((item) => item.route[task] === neural).length;
      expect(kept).toBeLessThanOrEqual(Math.floor(0.2 * records.length));
      expect(kept).toBeGreaterThan(0.15 * records.length);
      // Every item the rule sends to the neural expert got it or lost it to the budget (the gate is exact on these rules).
      expect(kept + capped).toBeGreaterThanOrEqual(wanted - TEST_ITEMS * 0.03);
    }
  });
});

describe("training speed", () => {
  it.runIf(FULL)("trains on 10,000 items (the two tasks of the issue) in under a minute", async () => {
    const { path } = await writeRuleItems(dir, "big.jsonl", 10_000, 41, ["summarization", "sentiment"]);
    const started = performance.now();
    const result = await runCli(["gate", "train", path, "-o", join(dir, "big-gate.json")], { cwd: dir });
    const seconds = (performance.now() - started) / 1000;
    expect(result.code).toBe(0);
    process.stdout.write(`10,000 items, 2 tasks: gate train took ${seconds.toFixed(1)} s\n`);
  }, 600_000);
});
