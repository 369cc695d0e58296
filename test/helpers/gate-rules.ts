import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./cli.js";

/** The part of a generated item the rules read. */
export interface GeneratedItem {
  id: string;
  content: string;
  headline: string;
  topics: string[];
  images: unknown[];
  publication_date: string;
}

const SUMMARY_NEURAL = "NewsSummarizationLLMExpert";
const SUMMARY_CHEAP = "ExtractiveSummarizerExpert";
const SENTIMENT_NEURAL = "SentimentAnalysisLLMExpert";
const SENTIMENT_CHEAP = "LexiconSentimentExpert";

/** Words as a person counts them: whitespace-separated (what `wc -w` says). */
const words = (item: GeneratedItem) => item.content.split(/\s+/).filter((w) => w !== "").length;
const mentions = (item: GeneratedItem, phrase: string) => item.content.toLowerCase().includes(phrase);
const hasTopic = (item: GeneratedItem, topic: string) => item.topics.includes(topic);

/**
 * Rules a user might want learned, each as a task of its own (the gate trains one model per task,
 * whatever its name): thresholds at values the features were never built around, a phrase that
 * sits anywhere in articles of up to 900 words, a topic, metadata fields, and combinations.
 */
export const RULES: Record<string, (item: GeneratedItem) => string | null> = {
  // The two real tasks carry the rules the issue was filed with, so analyze can route by them.
  summarization: (item) => (words(item) >= 400 ? SUMMARY_NEURAL : SUMMARY_CHEAP),
  sentiment: (item) => (mentions(item, "accreditation") || hasTopic(item, "Tennis") ? SENTIMENT_NEURAL : SENTIMENT_CHEAP),
  characters: (item) => ([...item.content].length >= 2500 ? SUMMARY_NEURAL : SUMMARY_CHEAP),
  phrase: (item) => (mentions(item, "wrist injury") ? SENTIMENT_NEURAL : SENTIMENT_CHEAP),
  topic: (item) => (hasTopic(item, "Cricket") ? null : hasTopic(item, "Tennis") ? SENTIMENT_NEURAL : SENTIMENT_CHEAP),
  images: (item) => (item.images.length >= 2 ? SUMMARY_NEURAL : SUMMARY_CHEAP),
  published: (item) => (item.publication_date >= "2024-10-01" ? SENTIMENT_NEURAL : SENTIMENT_CHEAP),
  and: (item) => (hasTopic(item, "Football") && words(item) < 300 ? SUMMARY_NEURAL : SUMMARY_CHEAP),
};

/** The metadata fields the rules above read, for `gate train --field`. */
export const RULE_FIELDS = ["images", "publication_date"];

/** Tasks whose labels are flipped for 5% of the items (to the other class), with the rule they copy. */
export const NOISY: Record<string, string> = { "noisy-summarization": "summarization", "noisy-sentiment": "sentiment" };
export const FLIP_SHARE = 0.05;

const OTHER: Record<string, string> = {
  [SUMMARY_NEURAL]: SUMMARY_CHEAP,
  [SUMMARY_CHEAP]: SUMMARY_NEURAL,
  [SENTIMENT_NEURAL]: SENTIMENT_CHEAP,
  [SENTIMENT_CHEAP]: SENTIMENT_NEURAL,
};

/** A fixed pseudo-random draw in [0, 1) per item and task (FNV-1a of both), so flips are reproducible. */
function draw(id: string, task: string): number {
  let h = 0x811c9dc5;
  for (const c of `${task}:${id}`) {
    h ^= c.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 13;
  h = Math.imul(h, 0x5bd1e995);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296;
}

/**
 * Every item's route by every rule; for each noisy task, exactly 5% of the items (those with the
 * lowest draw) get the other class, so a set of 1,000 has 50 wrong labels, no more, no fewer.
 */
export function labelItems<T extends GeneratedItem>(items: readonly T[]): Array<T & { route: Record<string, string | null> }> {
  const labelled = items.map((item) => {
    const route: Record<string, string | null> = {};
    for (const [task, rule] of Object.entries(RULES)) route[task] = rule(item);
    return { ...item, route };
  });
  for (const [task, copied] of Object.entries(NOISY)) {
    const flipped = new Set(
      labelled
        .map((item, i) => ({ i, d: draw(item.id, task) }))
        .sort((a, b) => a.d - b.d)
        .slice(0, Math.round(FLIP_SHARE * labelled.length))
        .map(({ i }) => i),
    );
    labelled.forEach(({ route }, i) => {
      const label = route[copied] as string;
      route[task] = flipped.has(i) ? (OTHER[label] as string) : label;
    });
  }
  return labelled;
}

/**
 * `count` items from the project's seeded generator (40 to 900 words each), each with its route by
 * every rule (or only the `tasks` named); written as one JSON array (`.json`) or JSON Lines
 * (`.jsonl`), as `name` ends.
 */
export async function writeRuleItems(
  dir: string,
  name: string,
  count: number,
  seed: number,
  tasks?: readonly string[],
): Promise<{ path: string; items: Array<GeneratedItem & { route: Record<string, string | null> }> }> {
  const raw = join(dir, `${name}.raw.jsonl`);
  await promisify(execFile)(process.execPath, [
    join(REPO_ROOT, "scripts/generate-news.mjs"), "--count", String(count), "--out", raw, "--seed", String(seed),
    "--min-words", "40", "--max-words", "900", "--quiet",
  ]);
  const lines = (await readFile(raw, "utf8")).split("\n").filter((l) => l.trim() !== "");
  const items = labelItems(lines.map((line) => JSON.parse(line) as GeneratedItem)).map((item) =>
    tasks ? { ...item, route: Object.fromEntries(tasks.map((task) => [task, item.route[task] ?? null])) } : item,
  );
  const path = join(dir, name);
  await writeFile(path, name.endsWith(".jsonl") ? items.map((i) => JSON.stringify(i)).join("\n") + "\n" : JSON.stringify(items));
  return { path, items };
}
