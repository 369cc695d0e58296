#!/usr/bin/env node
// How often language detection takes short English text for another language: every pair of
// consecutive sentences (the first six of each item) of a generated news file, plus the team's
// labelled snippets. Routing skips tasks by language, so this should print 0 misses.
// Needs `npm run build` and a file from scripts/generate-news.mjs.
//
//   node scripts/generate-news.mjs --count 10000 --out /tmp/n10k.json
//   node scripts/check-english-detection.mjs /tmp/n10k.json
import { readFileSync } from "node:fs";
import { detectLanguage, splitSentences } from "../dist/text/index.js";

const file = process.argv[2];
if (!file) {
  console.error("usage: node scripts/check-english-detection.mjs GENERATED_NEWS.json");
  process.exit(2);
}
const passages = [];
for (const item of JSON.parse(readFileSync(file, "utf8"))) {
  const sentences = splitSentences(item.content).slice(0, 6).map((s) => s.text);
  for (let i = 0; i + 1 < sentences.length; i += 2) passages.push(`${sentences[i]} ${sentences[i + 1]}`);
}
const team = JSON.parse(readFileSync(new URL("../test/fixtures/sentiment/team-labelled-news.json", import.meta.url), "utf8"));
passages.push(...team.items.map((it) => it.text));

const counts = {};
const misses = [];
const started = performance.now();
for (const text of passages) {
  const { language } = detectLanguage(text);
  counts[language] = (counts[language] ?? 0) + 1;
  if (language !== "eng" && misses.length < 10) misses.push(`${language}: ${text}`);
}
const ms = performance.now() - started;
console.log(`${passages.length} two-sentence English passages: ${JSON.stringify(counts)}; ${(ms / passages.length).toFixed(3)} ms each`);
for (const miss of misses) console.log(`  ${miss}`);
