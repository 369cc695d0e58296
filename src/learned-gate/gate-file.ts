import { readFile } from "node:fs/promises";
import type { FeatureSpec } from "./gate-features.js";
import type { GateFeature, TaskGate } from "./task-gate.js";
import type { Tree } from "./trees.js";

export type { TaskGate } from "./task-gate.js";

export const GATE_FORMAT = "news-moe-gate";
/**
 * 2: boosted trees over measurements and terms, with a temperature per task.
 * 1: a logistic model over hashed features (news-moe before the trees); not readable any more,
 *    since its features no longer exist: such a file is refused with advice to retrain.
 */
export const GATE_VERSION = 2;

export interface GateModel {
  features: FeatureSpec;
  tasks: Record<string, TaskGate>;
  /** What training said about itself (items, seed, held-out report); informative only. */
  training?: unknown;
}

/** A gate file that cannot be used: unreadable, not a gate, another version, inconsistent. */
export class GateFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GateFileError";
  }
}

const FEATURE_KINDS = new Set(["count", "number", "date", "term"]);

/**
 * A tree as one JSON line: internal nodes `[feature, threshold, left, right, value]`, leaves
 * `[value]`, the root first.
 */
function treeJson(tree: Tree): string {
  return JSON.stringify(tree.map((n) => (n.feature < 0 ? [n.value] : [n.feature, n.threshold, n.left, n.right, n.value])));
}

/** The gate as JSON text: the same model always gives the same bytes; one tree per line. */
export function serializeGate(gate: GateModel): string {
  const head = JSON.stringify({ format: GATE_FORMAT, version: GATE_VERSION, features: gate.features }, null, 2).slice(0, -2);
  const taskTexts = Object.keys(gate.tasks).sort().map((task) => {
    const { classes, features, model, temperature } = gate.tasks[task] as TaskGate;
    const forests = model.forests.map((trees) => (trees.length === 0 ? "[]" : `[\n${trees.map((t) => `          ${treeJson(t)}`).join(",\n")}\n        ]`));
    return [
      `    ${JSON.stringify(task)}: {`,
      `      "classes": ${JSON.stringify(classes)},`,
      `      "temperature": ${JSON.stringify(temperature)},`,
      `      "features": [${features.length === 0 ? "" : `\n${features.map((f) => `        ${JSON.stringify(f)}`).join(",\n")}\n      `}],`,
      `      "base": ${JSON.stringify(model.base)},`,
      `      "trees": [${forests.length === 0 ? "" : `\n        ${forests.join(",\n        ")}\n      `}]`,
      `    }`,
    ].join("\n");
  });
  const training = JSON.stringify(gate.training ?? null, null, 2).replace(/\n/g, "\n  ");
  return `${head},\n  "tasks": {\n${taskTexts.join(",\n")}\n  },\n  "training": ${training}\n}\n`;
}

function fail(source: string, message: string): never {
  throw new GateFileError(`${source}: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const finite = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/** One tree, checked: indices inside the tree and pointing forward (so no cycles), features known. */
function parseTree(raw: unknown, features: number, at: string, source: string): Tree {
  if (!Array.isArray(raw) || raw.length === 0) fail(source, `${at}: expected a non-empty array of nodes`);
  return raw.map((node: unknown, i: number) => {
    if (Array.isArray(node) && node.length === 1 && finite(node[0])) return { feature: -1, threshold: 0, left: -1, right: -1, value: node[0] };
    if (!Array.isArray(node) || node.length !== 5 || !node.every(finite)) fail(source, `${at}[${i}]: expected [feature, threshold, left, right, value] or [value]`);
    const [feature, threshold, left, right, value] = node as number[];
    if (!Number.isInteger(feature) || (feature as number) < 0 || (feature as number) >= features) fail(source, `${at}[${i}]: feature ${feature} is not one of the task's ${features} features`);
    for (const child of [left, right]) {
      if (!Number.isInteger(child) || (child as number) <= i || (child as number) >= raw.length) fail(source, `${at}[${i}]: child ${child} is not a later node of this tree`);
    }
    return { feature: feature as number, threshold: threshold as number, left: left as number, right: right as number, value: value as number };
  });
}

function parseTask(t: unknown, at: string, source: string): TaskGate {
  if (!isRecord(t)) fail(source, `${at}: expected an object`);
  const classes = t.classes;
  if (!Array.isArray(classes) || classes.length < 1 || !classes.every((c) => c === null || (typeof c === "string" && c.length > 0))) {
    fail(source, `${at}.classes: expected a non-empty array of expert names or null`);
  }
  if (new Set(classes).size !== classes.length) fail(source, `${at}.classes: a class is listed twice`);
  const K = classes.length;
  const outputs = K === 1 ? 0 : K === 2 ? 1 : K;
  if (!finite(t.temperature) || t.temperature <= 0) fail(source, `${at}.temperature: expected a number > 0`);
  if (!Array.isArray(t.features) || !t.features.every((f) => isRecord(f) && typeof f.name === "string" && FEATURE_KINDS.has(f.kind as string))) {
    fail(source, `${at}.features: expected [{ "kind": "count" | "number" | "date" | "term", "name": "..." }, ...]`);
  }
  const features = t.features as unknown as GateFeature[];
  // Two classes have one output (the second's log-odds), more have one per class, one class none.
  const perOutput = `${outputs === 1 ? "" : "one per output "}for ${K} class${K === 1 ? "" : "es"}`;
  if (!Array.isArray(t.base) || t.base.length !== outputs || !t.base.every(finite)) {
    fail(source, `${at}.base: expected ${outputs} finite number${outputs === 1 ? "" : "s"} (${perOutput})`);
  }
  if (!Array.isArray(t.trees) || t.trees.length !== outputs || !t.trees.every(Array.isArray)) {
    fail(source, `${at}.trees: expected ${outputs} list${outputs === 1 ? "" : "s"} of trees (${perOutput})`);
  }
  const forests = (t.trees as unknown[][]).map((trees, o) => trees.map((tree, r) => parseTree(tree, features.length, `${at}.trees[${o}][${r}]`, source)));
  return { classes: classes as Array<string | null>, features, temperature: t.temperature, model: { outputs, base: t.base as number[], forests } };
}

/** Checks a parsed gate file and builds the model; every problem names where it is. */
export function parseGate(raw: unknown, source = "gate file"): GateModel {
  if (!isRecord(raw) || raw.format !== GATE_FORMAT) fail(source, `not a news-moe gate file (expected "format": "${GATE_FORMAT}")`);
  if (raw.version === 1) {
    fail(source, `gate file version 1 (a linear gate over hashed features, from an older news-moe) cannot be read by this news-moe, which reads version ${GATE_VERSION}; retrain it from the same labelled items with "news-moe gate train"`);
  }
  if (raw.version !== GATE_VERSION) {
    fail(source, `gate file version ${JSON.stringify(raw.version)} is not supported (this news-moe reads version ${GATE_VERSION}); retrain with "news-moe gate train"`);
  }
  const f = raw.features;
  if (!isRecord(f) || !Array.isArray(f.fields) || !f.fields.every((x) => typeof x === "string")) fail(source, "features: expected { fields: string[] }");
  const features: FeatureSpec = { fields: f.fields as string[] };
  if (!isRecord(raw.tasks) || Object.keys(raw.tasks).length === 0) fail(source, "tasks: expected an object with at least one task");
  const tasks: Record<string, TaskGate> = {};
  for (const [task, t] of Object.entries(raw.tasks)) tasks[task] = parseTask(t, `tasks.${task}`, source);
  return { features, tasks, training: raw.training };
}

export async function loadGate(path: string): Promise<GateModel> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    fail(path, `cannot read the gate file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    fail(path, `not valid JSON (${(error as Error).message})`);
  }
  return parseGate(raw, path);
}
