import { readFile } from "node:fs/promises";
import { z } from "zod";
import { conditionSchema, type Condition } from "./conditions.js";

const ruleSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  when: conditionSchema,
  then: z
    .strictObject({
      /** Added to the named experts' gate scores. */
      boost: z.record(z.string(), z.number()).optional(),
      /** These experts may not run on the item. */
      exclude: z.array(z.string()).optional(),
      /** How many experts each named task keeps for this item (2+ gives a mixture). */
      topK: z.record(z.string(), z.number().int().min(0)).optional(),
      /** Tasks not to run at all for this item. */
      skip: z.array(z.string()).optional(),
    })
    .refine((value) => Object.keys(value).length > 0, "a rule must do something: boost, exclude, topK or skip"),
});

export const rulesConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  /** Base gate score per expert before any rule applies; unnamed experts start at 0. */
  priors: z.record(z.string(), z.number()).default({}),
  /** Experts kept per task (default 1 each). */
  topK: z.record(z.string(), z.number().int().min(0)).default({}),
  /** Softmax temperature of the gate. */
  temperature: z.number().positive().default(1),
  /**
   * When true, an expert whose declared languages exclude the item's detected language is not
   * eligible, as long as another expert of its task is.
   */
  respectLanguages: z.boolean().default(true),
  rules: z.array(ruleSchema).default([]),
});

export type RulesConfig = z.infer<typeof rulesConfigSchema>;
export type Rule = z.infer<typeof ruleSchema>;
export type { Condition };

export class RulesConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RulesConfigError";
  }
}

/** A path as a reader of the JSON writes it: `rules[0].when.all[1]`. */
function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let text = "";
  for (const part of path) text += typeof part === "number" ? `[${part}]` : `${text ? "." : ""}${String(part)}`;
  return text || "(top level)";
}

const CONDITION_KEYS = ["words", "chars", "language", "hasHeadline", "topics", "field", "all", "any", "not"];
const FIELD_TEST_KEYS = new Set(["field", "exists", "equals", "matches"]);

/**
 * A condition that is no condition at all (an unknown or misspelt key, two tests in one object)
 * makes zod's union say only "Invalid input"; find it first and say what is wrong, with its path.
 */
function conditionProblem(value: unknown, path: string): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return `${path}: a condition is an object, e.g. { "words": { "lt": 60 } }`;
  const keys = Object.keys(value);
  if (keys.includes("field")) {
    const extra = keys.filter((key) => !FIELD_TEST_KEYS.has(key));
    return extra.length ? `${path}: unknown key "${extra[0]}" in a field test (known: field, exists, equals, matches)` : undefined;
  }
  if (keys.length !== 1) {
    return keys.length === 0
      ? `${path}: empty condition; use one of ${CONDITION_KEYS.join(", ")}`
      : `${path}: one test per object (found ${keys.map((k) => `"${k}"`).join(", ")}); combine tests with "all" or "any"`;
  }
  const key = keys[0] as string;
  if (!CONDITION_KEYS.includes(key)) return `${path}: unknown condition "${key}" (known: ${CONDITION_KEYS.join(", ")})`;
  const inner = (value as Record<string, unknown>)[key];
  if ((key === "all" || key === "any") && Array.isArray(inner)) {
    for (const [i, child] of inner.entries()) {
      const problem = conditionProblem(child, `${path}.${key}[${i}]`);
      if (problem) return problem;
    }
  }
  if (key === "not") return conditionProblem(inner, `${path}.not`);
  return undefined;
}

export function parseRulesConfig(value: unknown, source: string): RulesConfig {
  const rules = (value as { rules?: unknown } | null)?.rules;
  if (Array.isArray(rules)) {
    for (const [i, rule] of rules.entries()) {
      const when = (rule as { when?: unknown } | null)?.when;
      const problem = when === undefined ? undefined : conditionProblem(when, `rules[${i}].when`);
      if (problem) throw new RulesConfigError(`${source}: invalid routing rules\n  at ${problem}`);
    }
  }
  const parsed = rulesConfigSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  at ${formatPath(issue.path)}: ${issue.message}`).join("\n");
    throw new RulesConfigError(`${source}: invalid routing rules\n${problems}`);
  }
  const names = new Set<string>();
  for (const rule of parsed.data.rules) {
    if (names.has(rule.name)) throw new RulesConfigError(`${source}: two rules are named "${rule.name}"`);
    names.add(rule.name);
  }
  return parsed.data;
}

export async function loadRulesConfig(path: string): Promise<RulesConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new RulesConfigError(`${path}: cannot read routing rules (${(error as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RulesConfigError(`${path}: routing rules are not valid JSON (${(error as Error).message})`);
  }
  return parseRulesConfig(value, path);
}

/** Every expert name a config mentions, so a typo can be reported against the registry. */
export function expertNamesIn(config: RulesConfig): string[] {
  const names = new Set(Object.keys(config.priors));
  for (const rule of config.rules) {
    for (const name of Object.keys(rule.then.boost ?? {})) names.add(name);
    for (const name of rule.then.exclude ?? []) names.add(name);
  }
  return [...names];
}
