#!/usr/bin/env node
// Chooses the lexicon sentiment expert's NEUTRAL band (and the weight of sentiment-free sentences)
// on text the team wrote: test/fixtures/sentiment/team-labelled-news.json and the English items of
// examples/news-data.json with the labels below. Prints macro-F1 over NEGATIVE/NEUTRAL/POSITIVE for
// each setting. Needs `npm run build` first. Never point it at a held-out set: that is what the
// held-out figure is for.
//
//   node scripts/calibrate-sentiment.mjs [--json]
import { readFileSync } from "node:fs";
import { LexiconSentimentExpert, labelForCompound, isSportItem, scoreSentence } from "../dist/experts/embedded/index.js";

const root = new URL("..", import.meta.url);
const team = JSON.parse(readFileSync(new URL("test/fixtures/sentiment/team-labelled-news.json", root), "utf8")).items;
const examples = JSON.parse(readFileSync(new URL("examples/news-data.json", root), "utf8"));
/** The writer's labels for the bundled example's English items (the Spanish and the empty one left out). */
export const EXAMPLE_LABELS = {
  c4xr9m2kq7vo: "POSITIVE", cj3w8ex1n5lo: "NEGATIVE", cq5d7zy2mg8o: "NEUTRAL", c0l8rpk4t2xo: "POSITIVE",
  c9en2v7dwkqo: "NEGATIVE", cvg4y1z8p03o: "POSITIVE", c7k2nmw5xr9o: "NEGATIVE", c2y6hj8rvd1o: "NEUTRAL",
  cx8p4q9lzk2o: "NEUTRAL", cl7w3gzq9n2o: "POSITIVE", cr2v9xk6m1do: "NEUTRAL", cz6q1b8ld5wo: "POSITIVE",
  ce4n7p2gqx8o: "NEGATIVE", ck9d3w6vj1yo: "NEUTRAL",
};
const sets = {
  team: team.map((t) => ({ label: t.label, text: t.text, sport: false })),
  examples: examples
    .filter((e) => e.id in EXAMPLE_LABELS)
    .map((e) => ({ label: EXAMPLE_LABELS[e.id], text: e.content, sport: isSportItem(e) })),
};

export function macroF1(gold, predicted) {
  let sum = 0;
  for (const c of ["NEGATIVE", "NEUTRAL", "POSITIVE"]) {
    let tp = 0, fp = 0, fn = 0;
    gold.forEach((g, i) => {
      const p = predicted[i];
      if (p === c && g === c) tp++;
      else if (p === c) fp++;
      else if (g === c) fn++;
    });
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
    sum += precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  }
  return sum / 3;
}

const negatives = [1, 1.5, 2, 3];
const bands = [0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3];
const rows = [];
for (const k of negatives) {
  const expert = new LexiconSentimentExpert({ negativeWeight: k });
  const compounds = Object.fromEntries(
    Object.entries(sets).map(([name, items]) => [name, items.map((it) => expert.scoreText(it.text, it.sport).compound)]),
  );
  for (const band of bands) {
    const row = { negativeWeight: k, band };
    let all = { gold: [], predicted: [] };
    for (const [name, items] of Object.entries(sets)) {
      const gold = items.map((it) => it.label);
      const predicted = compounds[name].map((c) => labelForCompound(c, band));
      row[name] = macroF1(gold, predicted);
      all.gold.push(...gold);
      all.predicted.push(...predicted);
    }
    row.both = macroF1(all.gold, all.predicted);
    rows.push(row);
  }
}
// For comparison: plain VADER (our implementation, no news adaptations) on each whole text, its
// usual ±0.05 band, as the issue scored VADER on the held-out sets.
const plain = { negativeWeight: "plain VADER on the whole text", band: 0.05 };
{
  const all = { gold: [], predicted: [] };
  for (const [name, items] of Object.entries(sets)) {
    const gold = items.map((it) => it.label);
    const predicted = items.map((it) => labelForCompound(scoreSentence(it.text).compound, 0.05));
    plain[name] = macroF1(gold, predicted);
    all.gold.push(...gold);
    all.predicted.push(...predicted);
  }
  plain.both = macroF1(all.gold, all.predicted);
  rows.push(plain);
}
if (process.argv.includes("--show")) {
  const expert = new LexiconSentimentExpert();
  for (const e of examples.filter((x) => x.id in EXAMPLE_LABELS)) {
    const out = expert.scoreText(e.content, isSportItem(e));
    console.log(`${e.id} gold ${EXAMPLE_LABELS[e.id].padEnd(8)} got ${out.sentiment_label.padEnd(8)} ${out.sentiment_score.toFixed(2)} compound ${out.compound.toFixed(3)}  ${e.headline ?? ""}`);
  }
} else if (process.argv.includes("--json")) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  console.log(`items: team ${sets.team.length}, examples ${sets.examples.length}; macro-F1 (NEGATIVE/NEUTRAL/POSITIVE)`);
  console.log("negative-sentence weight      | band  | team  | examples | both");
  for (const r of rows) {
    console.log(
      `${String(r.negativeWeight).padEnd(29)} | ${r.band.toFixed(3)} | ${r.team.toFixed(3)} | ${r.examples.toFixed(3).padEnd(8)} | ${r.both.toFixed(3)}`,
    );
  }
}
