import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/core/analysis-record.js";
import { EXAMPLES, isolatedEnv, REPO_ROOT, runCli, tempDir } from "./helpers/cli.js";

interface ExampleItem {
  id: string;
  headline?: string;
  url: string;
  content: string;
}

let examples: ExampleItem[];
beforeAll(async () => {
  examples = JSON.parse(await readFile(EXAMPLES, "utf8")) as ExampleItem[];
});

function hasOutputOrError(value: unknown, field: string): boolean {
  return typeof value === "object" && value !== null && (field in value || "error" in value);
}

describe("news-moe analyze (real process, embedded experts through fallback)", () => {
  it("analyses the bundled example: one entry per item, each with a summary and a sentiment or an explicit error, plus routing", async () => {
    const dir = await tempDir();
    const result = await runCli(["analyze", EXAMPLES, "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    // The example has an item with empty content: its experts report errors, so the exit code is 1.
    expect(result.stderr).toMatch(/NewsSummarizationLLMExpert is unavailable, so its summarization work goes to ExtractiveSummarizerExpert\.\n  Why: Model Xenova\/distilbart-cnn-6-6/);
    expect(result.code).toBe(1);
    const output = join(dir, "analyzed_news_data.json");
    const records = JSON.parse(await readFile(output, "utf8")) as AnalysisRecord[];
    expect(records.map((r) => r.id)).toEqual(examples.map((e) => e.id));
    for (const [i, record] of records.entries()) {
      expect(record.headline).toBe(examples[i]?.headline ?? null);
      expect(record.url).toBe(examples[i]?.url);
      const analyses = Object.values(record.analyses);
      expect(analyses.some((a) => hasOutputOrError(a, "summary"))).toBe(true);
      // Sentiment, or its error, or (the Spanish item: both sentiment experts are English-only) the
      // task skipped with the reason.
      const sentimentSkipped = record.routing?.skipped?.find((s) => s.task === "sentiment");
      expect(analyses.some((a) => hasOutputOrError(a, "sentiment_label")) || sentimentSkipped !== undefined).toBe(true);
      if (sentimentSkipped) expect(sentimentSkipped.reason).toMatch(/^language "spa" \(detected\) is not handled by any sentiment expert/);
      expect(record.routing?.experts.length).toBeGreaterThan(0);
    }
    expect(records.filter((r) => r.routing?.skipped !== undefined).map((r) => r.id)).toEqual(["cn5t2r8ve4jo"]);
    const empty = records.find((r) => r.id === examples.find((e) => e.content === "")?.id);
    expect(Object.values(empty?.analyses ?? {}).every((a) => "error" in a)).toBe(true);
    // The journal is gone once the output is complete, and no temporary file is left behind.
    expect(existsSync(`${output}.journal`)).toBe(false);
    expect((await readFile(output, "utf8")).startsWith('[\n    {\n        "id": ')).toBe(true);
  });

  it("exits 0 when every item succeeds, and writes JSON Lines with --format jsonl", async () => {
    const dir = await tempDir();
    const good = examples.filter((e) => e.content.trim().length > 0);
    const input = join(dir, "good.json");
    await writeFile(input, JSON.stringify(good));
    const result = await runCli(["analyze", input, "-o", "out.jsonl", "--format", "jsonl", "--experts", "embedded", "--quiet"], {
      cwd: dir,
      env: isolatedEnv(dir),
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = (await readFile(join(dir, "out.jsonl"), "utf8")).trim().split("\n");
    expect(lines.map((l) => (JSON.parse(l) as AnalysisRecord).id)).toEqual(good.map((g) => g.id));
  });

  it("cleans scraped HTML and boilerplate before the experts and records what it removed; --no-clean does not", async () => {
    const dir = await tempDir();
    const content =
      "<p>Northbridge beat Eastmoor by six wickets at the County Ground to go top of the table &amp; stay there.</p>" +
      "<script>window.ads = [];</script><p>Opener Sam Okafor made an unbeaten 88 as the hosts chased down their target.</p>" +
      "Advertisement <p>Eastmoor captain Ravi Menon said his side had been outplayed on a slow pitch.</p>";
    await writeFile(join(dir, "in.json"), JSON.stringify([{ id: "h1", url: "https://example.com/a", content }]));
    const run = async (extra: string[]) => {
      const result = await runCli(["analyze", "in.json", "-o", "out.json", "--experts", "embedded", "--quiet", "--overwrite", ...extra], {
        cwd: dir,
        env: isolatedEnv(dir),
      });
      expect(result.code).toBe(0);
      return (JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as AnalysisRecord[])[0] as AnalysisRecord;
    };
    const cleaned = await run([]);
    expect(cleaned.cleaning).toEqual({ html_tags: 7, html_entities: 1, boilerplate: ["Advertisement"] });
    const summary = (cleaned.analyses.ExtractiveSummarizerExpert as { summary: string }).summary;
    expect(summary).not.toMatch(/<|&amp;|window\.ads|Advertisement/);
    expect(Object.keys(cleaned)).toEqual(["id", "headline", "url", "analyses", "routing", "cleaning"]);
    const raw = await run(["--no-clean"]);
    expect(raw.cleaning).toBeUndefined();
    expect((raw.analyses.ExtractiveSummarizerExpert as { summary: string }).summary).toContain("<");
  });

  it("turns schema errors into entries naming the item and the problem, and goes on (exit 1)", async () => {
    const dir = await tempDir();
    const input = join(dir, "mixed.jsonl");
    await writeFile(
      input,
      [
        JSON.stringify({ id: "ok-1", headline: "Fine", content: "The league confirmed the fixture list for the new season on Monday." }),
        JSON.stringify({ id: "bad-content", headline: "Broken", content: 42 }),
        JSON.stringify({ headline: "No id at all", content: "Some text." }),
        JSON.stringify({ id: "bad-headline", headline: { text: "object" }, content: "Text here." }),
        JSON.stringify({ id: "ok-2", content: "The final will be played in June at the national stadium." }),
      ].join("\n"),
    );
    const result = await runCli(["analyze", input, "-o", "out.json", "--experts", "embedded", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code).toBe(1);
    const records = JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as AnalysisRecord[];
    expect(records.map((r) => r.id)).toEqual(["ok-1", "bad-content", null, "bad-headline", "ok-2"]);
    expect(records[1]?.error).toMatch(/item 1 \(id "bad-content"\): content: expected a string, got number/);
    expect(records[2]?.error).toMatch(/item 2: id: /);
    expect(records[3]?.error).toMatch(/headline/);
    // No expert ran; the tutorial's keys carry the item's error, as the tutorial records a failure.
    expect(records[1]?.analyses).toEqual({
      NewsSummarizationLLMExpert: { error: records[1]?.error },
      SentimentAnalysisLLMExpert: { error: records[1]?.error },
    });
    expect(records[4]?.analyses.ExtractiveSummarizerExpert).toHaveProperty("summary");
  });

  it("summarises a 50,000-word article with the embedded experts", async () => {
    const dir = await tempDir();
    const sentences = [
      "The visitors pressed high from the first whistle and forced a string of early corners.",
      "Their captain, back from a long injury, organised the defence with calm authority.",
      "A deflected shot from distance gave the home side a lead they barely deserved.",
      "After the break the pattern continued, with chance after chance going begging.",
      "The equaliser finally arrived when a low cross was turned in at the near post.",
      "Supporters in the away end sang for the last twenty minutes as the rain fell.",
    ];
    const words: string[] = [];
    let n = 0;
    while (words.length < 50_000) words.push(...(sentences[n++ % sentences.length] ?? "").split(" "));
    const content = words.join(" ");
    const input = join(dir, "long.json");
    await writeFile(input, JSON.stringify([{ id: "long-read", headline: "A very long match report", content }]));
    const result = await runCli(["analyze", input, "-o", "out.json", "--experts", "embedded", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const [record] = JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as AnalysisRecord[];
    const summary = record?.analyses.ExtractiveSummarizerExpert as { summary: string; sentences: number };
    expect(summary.sentences).toBeGreaterThanOrEqual(2);
    expect(summary.sentences).toBeLessThanOrEqual(4);
    expect(summary.summary.length).toBeLessThan(1000);
    expect(record?.analyses.LexiconSentimentExpert).toHaveProperty("sentiment_label");
  });

  it("mixes two sentiment experts when the rules ask for it", async () => {
    const dir = await tempDir();
    const rules = join(dir, "rules.json");
    await writeFile(rules, JSON.stringify({ topK: { sentiment: 2 }, priors: { LexiconSentimentExpert: 1 } }));
    const plugin = join(dir, "second-opinion.mjs");
    await writeFile(
      plugin,
      `export default {
        name: "AlwaysNeutral", task: "sentiment", description: "test", requires: "nothing", maxBatchSize: 8,
        async load() {},
        async analyze(items) { return items.map(() => ({ sentiment_label: "NEUTRAL", sentiment_score: 1, probabilities: { NEUTRAL: 1 } })); },
      };`,
    );
    const result = await runCli(
      ["analyze", EXAMPLES, "-o", "out.json", "--plugin", plugin, "--rules", rules, "--experts", "embedded,AlwaysNeutral", "--quiet"],
      { cwd: dir, env: isolatedEnv(dir) },
    );
    expect(result.code).toBe(1);
    const records = JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as AnalysisRecord[];
    const record = records.find((r) => r.id === examples[0]?.id);
    const mixture = record?.mixture?.sentiment as { weights: Record<string, number>; probabilities: Record<string, number> };
    const w = 1 / (1 + Math.exp(-1));
    expect(mixture.weights.LexiconSentimentExpert).toBeCloseTo(w, 9);
    expect(mixture.weights.AlwaysNeutral).toBeCloseTo(1 - w, 9);
    const lexicon = record?.analyses.LexiconSentimentExpert as { probabilities: Record<string, number> };
    expect(mixture.probabilities.POSITIVE).toBeCloseTo(w * (lexicon.probabilities.POSITIVE ?? 0), 9);
    expect(mixture.probabilities.NEUTRAL).toBeCloseTo(w * (lexicon.probabilities.NEUTRAL ?? 0) + (1 - w), 9);
  });
});

describe("exit codes and messages for fatal problems", () => {
  it("exits 2 naming the file and position of malformed JSON, keeping the finished items for --resume", async () => {
    const dir = await tempDir();
    const input = join(dir, "broken.json");
    await writeFile(
      input,
      '[\n  {"id": "a1", "content": "The match ended level after a late equaliser."},\n  {"id": "a2", "content": }\n]\n',
    );
    const result = await runCli(["analyze", input, "-o", "out.json", "--experts", "embedded", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("broken.json:3:27:");
    expect(result.stderr).toMatch(/1 finished items are kept in .*out\.json\.journal; fix the input and rerun with --resume/);
    expect(existsSync(join(dir, "out.json"))).toBe(false);
  });

  it("exits 2 for a missing input, an unknown option, an unknown expert and a bad rules file", async () => {
    const dir = await tempDir();
    const env = isolatedEnv(dir);
    const missing = await runCli(["analyze", join(dir, "nope.json")], { cwd: dir, env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json/);
    const badOption = await runCli(["analyze", EXAMPLES, "--frobnicate"], { cwd: dir, env });
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/unknown option '--frobnicate'/);
    const badExpert = await runCli(["analyze", EXAMPLES, "--experts", "Oracle"], { cwd: dir, env });
    expect(badExpert.code).toBe(2);
    expect(badExpert.stderr).toMatch(/unknown expert "Oracle"; choose from: .*LexiconSentimentExpert/);
    await writeFile(join(dir, "rules.json"), JSON.stringify({ rules: [{ name: "r", when: { wordz: 1 }, then: { skip: ["x"] } }] }));
    const badRules = await runCli(["analyze", EXAMPLES, "--rules", "rules.json"], { cwd: dir, env });
    expect(badRules.code).toBe(2);
    expect(badRules.stderr).toMatch(/rules\.json: invalid routing rules\n\s+at rules\[0\]\.when: unknown condition "wordz" \(known: words, chars/);
  });

  it("refuses to silently discard an interrupted run's journal", async () => {
    const dir = await tempDir();
    const journal = join(dir, "analyzed_news_data.json.journal");
    await writeFile(
      journal,
      `${JSON.stringify({ newsMoeJournal: 1, input: EXAMPLES, startedAt: new Date().toISOString() })}\n` +
        `${JSON.stringify({ id: "x", headline: null, url: null, analyses: {}, routing: null })}\n`,
    );
    const result = await runCli(["analyze", EXAMPLES, "--experts", "embedded", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/holds 1 finished item from an interrupted run; pass --resume .* or --overwrite/);
  });

  it("prints help and version with exit 0", async () => {
    const help = await runCli(["analyze", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--resume");
    expect(help.stdout).toContain("Exit status: 0 all items done, 1 done but some items or experts failed, 2 bad usage or input");
    const version = await runCli(["--version"]);
    expect(version.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    expect(version.stdout.trim()).toBe(manifest.version);
  });

  it("lists the experts with their availability", async () => {
    const dir = await tempDir();
    const result = await runCli(["experts", "--json"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as Array<{ name: string; task: string; status: string }>;
    expect(rows.map((r) => r.name)).toEqual([
      "NewsSummarizationLLMExpert",
      "ExtractiveSummarizerExpert",
      "SentimentAnalysisLLMExpert",
      "LexiconSentimentExpert",
    ]);
    expect(rows.find((r) => r.name === "LexiconSentimentExpert")?.status).toBe("ready");
    expect(rows.find((r) => r.name === "NewsSummarizationLLMExpert")?.status).toMatch(/^unavailable: .*distilbart-cnn-6-6/);
  });
});
