import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./cli.js";

/**
 * The routes a labelled item wants, by a rule visible only in its content (phrases): an injury
 * story needs the neural summariser, a celebration needs no summary, the rest the extractive one;
 * a crisis or a miserable day needs the neural sentiment model, the rest the lexicon.
 */
export function ruleRoute(content: string): { summarization: string | null; sentiment: string } {
  const text = content.toLowerCase();
  const summarization = text.includes("injury") ? "NewsSummarizationLLMExpert" : text.includes("celebrat") ? null : "ExtractiveSummarizerExpert";
  const sentiment = text.includes("crisis") || text.includes("miserable") ? "SentimentAnalysisLLMExpert" : "LexiconSentimentExpert";
  return { summarization, sentiment };
}

/** `count` news-like items from the seeded generator, each with its rule route, as JSON Lines. */
export async function writeLabelledNews(dir: string, name: string, count: number, seed: number): Promise<string> {
  const raw = join(dir, `${name}.raw.jsonl`);
  await promisify(execFile)(process.execPath, [
    join(REPO_ROOT, "scripts/generate-news.mjs"), "--count", String(count), "--out", raw, "--seed", String(seed),
    "--min-words", "40", "--max-words", "400", "--quiet",
  ]);
  const lines = (await readFile(raw, "utf8")).split("\n").filter((l) => l.trim() !== "");
  const labelled = lines.map((line) => {
    const item = JSON.parse(line) as { content: string };
    return JSON.stringify({ ...item, route: ruleRoute(item.content) });
  });
  const out = join(dir, `${name}.jsonl`);
  await writeFile(out, labelled.join("\n") + "\n");
  return out;
}
