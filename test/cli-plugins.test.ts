/**
 * The three example plugins (examples/plugins/): an expert, a router and a sink, each one file,
 * registered with --plugin and run through the real CLI.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/core/analysis-record.js";
import { EXAMPLES, expectUserFailure, isolatedEnv, REPO_ROOT, runCli, tempDir } from "./helpers/cli.js";

const PLUGINS = join(REPO_ROOT, "examples/plugins");
const examples = JSON.parse(await readFile(EXAMPLES, "utf8")) as Array<{ id: string; headline?: string; content: string }>;

describe("example plugins through the CLI", () => {
  it("an expert: --plugin keyword-expert.mjs adds a task of its own next to the built-ins", async () => {
    const dir = await tempDir();
    const result = await runCli(
      ["analyze", EXAMPLES, "-o", "out.json", "--plugin", join(PLUGINS, "keyword-expert.mjs"), "--experts", "embedded,KeywordExpert", "--quiet"],
      { cwd: dir, env: isolatedEnv(dir) },
    );
    expect(result.code).toBe(1); // the empty-content item, as without the plugin
    const records = JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as AnalysisRecord[];
    expect(records.map((r) => r.id)).toEqual(examples.map((e) => e.id));
    const first = records[0]!;
    expect(first.analyses.KeywordExpert).toEqual({ keywords: expect.any(Array) });
    expect((first.analyses.KeywordExpert as { keywords: string[] }).keywords.length).toBeGreaterThan(0);
    expect(first.routing?.experts.find((c) => c.task === "keywords")).toMatchObject({ expert: "KeywordExpert", weight: 1 });
    expect(first.analyses.ExtractiveSummarizerExpert).toHaveProperty("summary");
  });

  it("a router: --plugin language-router.mjs --router first-speaker routes every item", async () => {
    const dir = await tempDir();
    const result = await runCli(
      ["analyze", EXAMPLES, "-o", "out.json", "--plugin", join(PLUGINS, "language-router.mjs"), "--router", "first-speaker", "--experts", "embedded", "--quiet"],
      { cwd: dir, env: isolatedEnv(dir) },
    );
    expect(result.code).toBe(1);
    const records = JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as AnalysisRecord[];
    expect(records).toHaveLength(examples.length);
    for (const record of records) {
      expect(record.routing?.router).toBe("first-speaker");
      expect(record.routing?.experts.map((c) => c.expert)).toContain("ExtractiveSummarizerExpert");
      expect(record.routing?.experts[0]?.reason).toMatch(/^first available summarization expert for language "/);
    }
    // LexiconSentimentExpert declares English: the Spanish item gets no sentiment from this router.
    const spanish = records.find((r) => r.routing?.experts[0]?.reason.includes('"spa"'));
    expect(spanish?.routing?.experts.map((c) => c.task)).toEqual(["summarization"]);

    const unknown = await runCli(["analyze", EXAMPLES, "-o", "x.json", "--router", "first-speaker", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--router first-speaker: no such router; choose from: auto, all, rules');
  });

  it("a sink: --plugin csv-sink.mjs writes a CSV beside the JSON output, one row per item", async () => {
    const dir = await tempDir();
    const csv = join(dir, "sentiment.csv");
    const result = await runCli(
      ["analyze", EXAMPLES, "-o", "out.json", "--plugin", join(PLUGINS, "csv-sink.mjs"), "--experts", "embedded", "--quiet"],
      { cwd: dir, env: isolatedEnv(dir, { NEWS_MOE_CSV: csv }) },
    );
    expect(result.code).toBe(1);
    const rows = (await readFile(csv, "utf8")).trim().split("\n");
    expect(rows[0]).toBe("id,headline,sentiment");
    expect(rows).toHaveLength(examples.length + 1);
    expect(rows[1]).toMatch(new RegExp(`^"${examples[0]!.id}",".*","(POSITIVE|NEGATIVE|NEUTRAL)"$`));
    expect(existsSync(join(dir, "out.json"))).toBe(true);
  });

  it("a module that exports none of the three is refused with exit 2, naming --plugin", async () => {
    const dir = await tempDir();
    const result = await runCli(["analyze", EXAMPLES, "--plugin", join(REPO_ROOT, "package.json"), "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--plugin .*package\.json: /);
  });

  it("an expert with only what the README asks (name, task, load, analyze) runs in batches of the default size; a bad maxBatchSize is refused", async () => {
    const dir = await tempDir();
    const minimal = join(dir, "minimal-expert.mjs");
    // Records the size of every analyze() call, so the test sees the batches the engine made.
    await writeFile(
      minimal,
      `const sizes = [];
export default {
  name: "Minimal", task: "length",
  async load() {},
  async analyze(items) { sizes.push(items.length); return items.map((item) => ({ chars: item.content.length, calls: sizes })); },
};
`,
    );
    const input = join(dir, "news.json");
    const items = Array.from({ length: 40 }, (_, i) => ({ id: String(i), headline: `h${i}`, content: "word ".repeat(i + 1) }));
    await writeFile(input, JSON.stringify(items));
    const result = await runCli(["analyze", input, "-o", "out.json", "--plugin", minimal, "--experts", "Minimal", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code, result.stderr).toBe(0);
    const records = JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as Array<{ analyses: Record<string, { chars: number; calls: number[] }> }>;
    expect(records.map((r) => r.analyses["Minimal"]?.chars)).toEqual(items.map((item) => item.content.length));
    const calls = records.at(-1)!.analyses["Minimal"]!.calls;
    // 40 items, at most 16 (DEFAULT_EXPERT_BATCH_SIZE) a call: three calls at least, none larger.
    expect(calls.reduce((a, b) => a + b, 0)).toBe(40);
    expect(Math.max(...calls)).toBeLessThanOrEqual(16);
    expect(calls.length).toBeGreaterThanOrEqual(3);

    const listed = await runCli(["experts", "--plugin", minimal], { cwd: dir, env: isolatedEnv(dir) });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/Minimal {2}\[length\].*\n {4}\(no description\)\n {4}needs: not stated/);

    const bad = join(dir, "bad-batch.mjs");
    await writeFile(bad, `export default { name: "Bad", task: "length", maxBatchSize: 0, async load() {}, async analyze(items) { return items.map(() => ({})); } };\n`);
    const refused = await runCli(["analyze", input, "--plugin", bad, "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expectUserFailure(refused, 2, /--plugin .*bad-batch\.mjs: expert "Bad": maxBatchSize must be a whole number of at least 1, or left out; got 0/);
  });
});
