import { readFile } from "node:fs/promises";
import type { FeatureSpec } from "./features.js";
import type { LogisticModel } from "./logistic.js";

export const GATE_FORMAT = "news-moe-gate";
export const GATE_VERSION = 1;

/** One task's model: its classes are expert names, `null` meaning "skip the task". */
export interface TaskGate {
  classes: Array<string | null>;
  model: LogisticModel;
}

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

/** Six significant digits: small files, and the same bytes for the same weights. */
function round(value: number): number {
  return value === 0 ? 0 : Number(value.toPrecision(6));
}

/** The gate as JSON text; deterministic for a given model (sorted feature indices). */
export function serializeGate(gate: GateModel): string {
  const tasks: Record<string, unknown> = {};
  for (const task of Object.keys(gate.tasks).sort()) {
    const { classes, model } = gate.tasks[task] as TaskGate;
    const rows: number[][] = [];
    for (let index = 0; index < model.dim; index++) {
      const row = [index];
      let any = false;
      for (let k = 0; k < model.classes; k++) {
        const w = round(model.weights[index * model.classes + k] as number);
        if (w !== 0) any = true;
        row.push(w);
      }
      if (any) rows.push(row);
    }
    tasks[task] = { classes, bias: [...model.bias].map(round), weights: rows };
  }
  const head = JSON.stringify({ format: GATE_FORMAT, version: GATE_VERSION, features: gate.features }, null, 2).slice(0, -2);
  const taskTexts = Object.entries(tasks).map(([task, t]) => {
    const { classes, bias, weights } = t as { classes: unknown; bias: number[]; weights: number[][] };
    // One weight row per line: readable diffs, still plain JSON.
    const rows = weights.length === 0 ? "[]" : `[\n${weights.map((r) => `        ${JSON.stringify(r)}`).join(",\n")}\n      ]`;
    return `    ${JSON.stringify(task)}: {\n      "classes": ${JSON.stringify(classes)},\n      "bias": ${JSON.stringify(bias)},\n      "weights": ${rows}\n    }`;
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

/** Checks a parsed gate file and builds the model; every problem names where it is. */
export function parseGate(raw: unknown, source = "gate file"): GateModel {
  if (!isRecord(raw) || raw.format !== GATE_FORMAT) fail(source, `not a news-moe gate file (expected "format": "${GATE_FORMAT}")`);
  if (raw.version !== GATE_VERSION) {
    fail(source, `gate file version ${JSON.stringify(raw.version)} is not supported (this news-moe reads version ${GATE_VERSION}); retrain with "news-moe gate train"`);
  }
  const f = raw.features;
  if (!isRecord(f) || !Number.isInteger(f.dim) || (f.dim as number) < 1 || !Array.isArray(f.fields) || !f.fields.every((x) => typeof x === "string") || !Number.isInteger(f.charPrefix) || (f.charPrefix as number) < 0) {
    fail(source, "features: expected { dim: integer >= 1, fields: string[], charPrefix: integer >= 0 }");
  }
  const features: FeatureSpec = { dim: f.dim as number, fields: f.fields as string[], charPrefix: f.charPrefix as number };
  if (!isRecord(raw.tasks) || Object.keys(raw.tasks).length === 0) fail(source, "tasks: expected an object with at least one task");
  const tasks: Record<string, TaskGate> = {};
  for (const [task, t] of Object.entries(raw.tasks)) {
    const at = `tasks.${task}`;
    if (!isRecord(t)) fail(source, `${at}: expected an object`);
    const classes = t.classes;
    if (!Array.isArray(classes) || classes.length < 1 || !classes.every((c) => c === null || (typeof c === "string" && c.length > 0))) {
      fail(source, `${at}.classes: expected a non-empty array of expert names or null`);
    }
    if (new Set(classes).size !== classes.length) fail(source, `${at}.classes: a class is listed twice`);
    const K = classes.length;
    const bias = t.bias;
    if (!Array.isArray(bias) || bias.length !== K || !bias.every((b) => typeof b === "number" && Number.isFinite(b))) {
      fail(source, `${at}.bias: expected ${K} finite numbers (one per class)`);
    }
    if (!Array.isArray(t.weights)) fail(source, `${at}.weights: expected an array of [index, ${K} weights] rows`);
    const weights = new Float64Array(features.dim * K);
    t.weights.forEach((row: unknown, r: number) => {
      if (!Array.isArray(row) || row.length !== K + 1 || !row.every((x) => typeof x === "number" && Number.isFinite(x))) {
        fail(source, `${at}.weights[${r}]: expected [index, ${K} weights]`);
      }
      const index = row[0] as number;
      if (!Number.isInteger(index) || index < 0 || index >= features.dim) fail(source, `${at}.weights[${r}]: index ${index} is outside 0..${features.dim - 1}`);
      for (let k = 0; k < K; k++) weights[index * K + k] = row[k + 1] as number;
    });
    tasks[task] = { classes: classes as Array<string | null>, model: { dim: features.dim, classes: K, weights, bias: Float64Array.from(bias as number[]) } };
  }
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
