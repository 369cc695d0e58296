import { z } from "zod";
import type { NewsItem } from "../core/news-item.js";
import type { ItemFeatures } from "../core/router.js";

const numberComparison = z
  .strictObject({
    lt: z.number().optional(),
    lte: z.number().optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    eq: z.number().optional(),
  })
  .refine((value) => Object.keys(value).length > 0, "give at least one of lt, lte, gt, gte, eq");

const stringSet = z.union([
  z.string(),
  z
    .strictObject({ in: z.array(z.string()).optional(), notIn: z.array(z.string()).optional() })
    .refine((value) => value.in !== undefined || value.notIn !== undefined, "give in or notIn"),
]);

const topicsTest = z
  .strictObject({
    any: z.array(z.string()).optional(),
    all: z.array(z.string()).optional(),
    none: z.array(z.string()).optional(),
  })
  .refine((value) => Object.keys(value).length > 0, "give any, all or none");

const fieldTest = z.strictObject({
  field: z.string().min(1),
  exists: z.boolean().optional(),
  equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
  matches: z.string().optional(),
});

/**
 * A declarative test on an item. One key per object; combine with `all`, `any`, `not`.
 * Words and characters are of `content`; `language` is an ISO 639-3 code ("eng", "spa", "und").
 */
export type Condition =
  | { words: z.infer<typeof numberComparison> }
  | { chars: z.infer<typeof numberComparison> }
  | { language: z.infer<typeof stringSet> }
  | { hasHeadline: boolean }
  | { topics: z.infer<typeof topicsTest> }
  | z.infer<typeof fieldTest>
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ words: numberComparison }),
    z.strictObject({ chars: numberComparison }),
    z.strictObject({ language: stringSet }),
    z.strictObject({ hasHeadline: z.boolean() }),
    z.strictObject({ topics: topicsTest }),
    fieldTest,
    z.strictObject({ all: z.array(conditionSchema).min(1) }),
    z.strictObject({ any: z.array(conditionSchema).min(1) }),
    z.strictObject({ not: conditionSchema }),
  ]),
);

function compareNumber(value: number, test: z.infer<typeof numberComparison>): boolean {
  if (test.lt !== undefined && !(value < test.lt)) return false;
  if (test.lte !== undefined && !(value <= test.lte)) return false;
  if (test.gt !== undefined && !(value > test.gt)) return false;
  if (test.gte !== undefined && !(value >= test.gte)) return false;
  if (test.eq !== undefined && value !== test.eq) return false;
  return true;
}

function matchesStringSet(value: string, test: z.infer<typeof stringSet>): boolean {
  if (typeof test === "string") return value === test;
  if (test.in && !test.in.includes(value)) return false;
  if (test.notIn && test.notIn.includes(value)) return false;
  return true;
}

function readField(item: NewsItem, path: string): unknown {
  let current: unknown = item;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

// Regexes come from a rules file and are evaluated per item: compile each once.
const regexCache = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let regex = regexCache.get(pattern);
  if (!regex) {
    regex = new RegExp(pattern, "iu");
    regexCache.set(pattern, regex);
  }
  return regex;
}

export function evaluateCondition(condition: Condition, item: NewsItem, features: ItemFeatures): boolean {
  if ("all" in condition) return condition.all.every((c) => evaluateCondition(c, item, features));
  if ("any" in condition) return condition.any.some((c) => evaluateCondition(c, item, features));
  if ("not" in condition) return !evaluateCondition(condition.not, item, features);
  if ("words" in condition) return compareNumber(features.words, condition.words);
  if ("chars" in condition) return compareNumber(features.chars, condition.chars);
  if ("language" in condition) return matchesStringSet(features.language, condition.language);
  if ("hasHeadline" in condition) return features.hasHeadline === condition.hasHeadline;
  if ("topics" in condition) {
    const have = new Set(features.topics.map((t) => t.toLowerCase()));
    const { any, all, none } = condition.topics;
    if (any && !any.some((t) => have.has(t.toLowerCase()))) return false;
    if (all && !all.every((t) => have.has(t.toLowerCase()))) return false;
    if (none && none.some((t) => have.has(t.toLowerCase()))) return false;
    return true;
  }
  const value = readField(item, condition.field);
  if (condition.exists !== undefined && (value !== undefined && value !== null) !== condition.exists) return false;
  if (condition.equals !== undefined && value !== condition.equals) return false;
  if (condition.matches !== undefined && !(typeof value === "string" && compiled(condition.matches).test(value))) {
    return false;
  }
  return true;
}

/** A short human-readable rendering, used in routing reasons. */
export function describeCondition(condition: Condition): string {
  if ("all" in condition) return condition.all.map(describeCondition).join(" and ");
  if ("any" in condition) return `(${condition.any.map(describeCondition).join(" or ")})`;
  if ("not" in condition) return `not ${describeCondition(condition.not)}`;
  const cmp = (name: string, t: z.infer<typeof numberComparison>) =>
    Object.entries(t)
      .map(([op, v]) => `${name} ${{ lt: "<", lte: "<=", gt: ">", gte: ">=", eq: "=" }[op] ?? op} ${v}`)
      .join(", ");
  if ("words" in condition) return cmp("words", condition.words);
  if ("chars" in condition) return cmp("chars", condition.chars);
  if ("language" in condition) {
    const t = condition.language;
    if (typeof t === "string") return `language = ${t}`;
    return [t.in ? `language in [${t.in.join(", ")}]` : "", t.notIn ? `language not in [${t.notIn.join(", ")}]` : ""]
      .filter(Boolean)
      .join(", ");
  }
  if ("hasHeadline" in condition) return condition.hasHeadline ? "has headline" : "no headline";
  if ("topics" in condition) {
    const { any, all, none } = condition.topics;
    return [
      any ? `topics any of [${any.join(", ")}]` : "",
      all ? `topics all of [${all.join(", ")}]` : "",
      none ? `topics none of [${none.join(", ")}]` : "",
    ]
      .filter(Boolean)
      .join(", ");
  }
  const parts = [condition.field];
  if (condition.exists !== undefined) parts.push(condition.exists ? "exists" : "is missing");
  if (condition.equals !== undefined) parts.push(`= ${JSON.stringify(condition.equals)}`);
  if (condition.matches !== undefined) parts.push(`matches /${condition.matches}/`);
  return parts.join(" ");
}
