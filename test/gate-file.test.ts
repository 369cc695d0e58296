/** A gate file is versioned and validated: bad or mismatched files and bad data are clear errors, exit 2. */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXAMPLES, isolatedEnv, runCli, tempDir } from "./helpers/cli.js";
import { writeRuleItems } from "./helpers/gate-rules.js";
import { GateFileError, parseGate } from "../src/learned-gate/gate-file.js";

let dir: string;
let gate: Record<string, unknown>;

beforeAll(async () => {
  dir = await tempDir("news-moe-gate-file-");
  const { path: data } = await writeRuleItems(dir, "small.jsonl", 60, 5, ["summarization", "sentiment"]);
  const result = await runCli(["gate", "train", data, "-o", join(dir, "gate.json")], { cwd: dir });
  expect(result.code).toBe(0);
  gate = JSON.parse(await readFile(join(dir, "gate.json"), "utf8")) as Record<string, unknown>;
}, 60_000);

async function analyzeWith(name: string, content: string, extra: string[] = []) {
  const file = join(dir, name);
  await writeFile(file, content);
  return runCli(["analyze", EXAMPLES, "--gate", file, "-o", join(dir, `${name}.out.json`), "--quiet", ...extra], { cwd: dir, env: isolatedEnv(dir) });
}

describe("gate file validation", () => {
  it("refuses another version, naming what to do", async () => {
    const result = await analyzeWith("v3.json", JSON.stringify({ ...gate, version: 3 }));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/v3\.json: gate file version 3 is not supported \(this news-moe reads version 2\); retrain/);
    // A gate from before the trees: what it was, and how to get a new one.
    const old = { format: "news-moe-gate", version: 1, features: { dim: 65536, fields: [], charPrefix: 300 }, tasks: { sentiment: { classes: ["LexiconSentimentExpert"], bias: [0], weights: [] } } };
    await writeFile(join(dir, "v1.json"), JSON.stringify(old));
    const v1 = await runCli(["gate", "eval", EXAMPLES, "--gate", join(dir, "v1.json")], { cwd: dir });
    expect(v1.code).toBe(2);
    expect(v1.stderr).toMatch(/v1\.json: gate file version 1 \(a linear gate over hashed features, from an older news-moe\) cannot be read by this news-moe, which reads version 2; retrain it from the same labelled items with "news-moe gate train"/);
  });

  it("refuses files that are not gates, not JSON, or inconsistent", async () => {
    const notGate = await analyzeWith("rules.json", JSON.stringify({ rules: [] }));
    expect(notGate.code).toBe(2);
    expect(notGate.stderr).toMatch(/not a news-moe gate file/);
    const broken = await analyzeWith("broken.json", "{ nope");
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broken\.json: not valid JSON/);
    const tasks = gate["tasks"] as Record<string, { base: number[]; trees: unknown[][][]; features: unknown[] }>;
    const badBase = { ...gate, tasks: { ...tasks, sentiment: { ...tasks["sentiment"], base: [1, 2] } } };
    const inconsistent = await analyzeWith("base.json", JSON.stringify(badBase));
    expect(inconsistent.code).toBe(2);
    expect(inconsistent.stderr).toMatch(/base\.json: tasks\.sentiment\.base: expected 1 finite number \(for 2 classes\)/);
    expect(inconsistent.stderr).not.toMatch(/internal error/);
  });

  it("refuses trees that read a feature the task does not list or loop back", () => {
    // The same checks as on load, called directly: a CLI run per broken tree would add nothing.
    const tasks = gate["tasks"] as Record<string, { features: unknown[] }>;
    const sentiment = tasks["sentiment"]!;
    const features = sentiment.features.length;
    const withTrees = (trees: unknown) => ({ ...gate, tasks: { ...tasks, sentiment: { ...sentiment, trees } } });
    expect(() => parseGate(withTrees([[[[features, 0.5, 1, 2, 0], [0], [0]]]]), "g.json")).toThrow(
      new GateFileError(`g.json: tasks.sentiment.trees[0][0][0]: feature ${features} is not one of the task's ${features} features`),
    );
    expect(() => parseGate(withTrees([[[[0, 0.5, 0, 1, 0], [0]]]]), "g.json")).toThrow(/g\.json: tasks\.sentiment\.trees\[0\]\[0\]\[0\]: child 0 is not a later node of this tree/);
    expect(() => parseGate(withTrees([[], []]), "g.json")).toThrow(/tasks\.sentiment\.trees: expected 1 list of trees \(for 2 classes\)/);
    // And the file as trained reads back.
    expect(Object.keys(parseGate(gate).tasks).sort()).toEqual(["sentiment", "summarization"]);
  });

  it("refuses a gate trained for experts this run does not have", async () => {
    const tasks = gate["tasks"] as Record<string, { classes: Array<string | null> }>;
    const renamed = { ...gate, tasks: { ...tasks, sentiment: { ...tasks["sentiment"], classes: ["LexiconSentimentExpert", "MyOldExpert"] } } };
    const result = await analyzeWith("renamed.json", JSON.stringify(renamed));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/was trained for experts this run does not have: MyOldExpert/);
  });

  it("needs a gate for the learned router, and a learned router for a budget", async () => {
    const noGate = await runCli(["analyze", EXAMPLES, "--router", "learned", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(noGate.code).toBe(2);
    expect(noGate.stderr).toMatch(/needs a trained gate: --gate GATE\.json/);
    const budget = await runCli(["analyze", EXAMPLES, "--budget", "0.3", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(budget.code).toBe(2);
    expect(budget.stderr).toMatch(/--budget needs the learned router/);
  });

  it("names the line of bad training data, or its place in a JSON array", async () => {
    const good = { id: "a", content: "text", route: { sentiment: null } };
    const bad = { id: "b", content: "text" };
    const data = join(dir, "bad.jsonl");
    await writeFile(data, `${JSON.stringify(good)}\n${JSON.stringify(bad)}\n`);
    const result = await runCli(["gate", "train", data, "-o", join(dir, "never.json")], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bad\.jsonl:2: expected "route"/);
    const array = join(dir, "bad.json");
    await writeFile(array, JSON.stringify([good, bad], null, 2));
    const fromArray = await runCli(["gate", "train", array, "-o", join(dir, "never.json")], { cwd: dir });
    expect(fromArray.code).toBe(2);
    expect(fromArray.stderr).toMatch(/bad\.json: item 2: expected "route"/);
    const evaluated = await runCli(["gate", "eval", data, "--gate", join(dir, "missing.json")], { cwd: dir });
    expect(evaluated.code).toBe(2);
    expect(evaluated.stderr).toMatch(/missing\.json: cannot read the gate file \(ENOENT\)/);
  });
});

describe("routing statistics", () => {
  it("are in the summary line and in --stats FILE for any router", async () => {
    const stats = join(dir, "auto-stats.json");
    const result = await runCli(["analyze", EXAMPLES, "-o", join(dir, "auto.json"), "--stats", stats], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code).toBe(1);
    const records = JSON.parse(await readFile(join(dir, "auto.json"), "utf8")) as Array<{
      routing: { experts: Array<{ expert: string; reason: string }>; skipped?: Array<{ task: string }> };
    }>;
    const choices = records.flatMap((r) => r.routing.experts);
    const fallbacks = choices.filter((c) => c.reason.startsWith("fallback: ")).length;
    expect(fallbacks).toBeGreaterThan(0); // no model in this cache: the neural experts' work goes to the embedded ones
    const n = records.length;
    // The counts the records themselves show: an item in a language no sentiment expert handles skips that task.
    const count = (expert: string) => choices.filter((c) => c.expert === expert).length;
    const summaries = count("ExtractiveSummarizerExpert");
    const sentiments = count("LexiconSentimentExpert");
    const skipped = records.flatMap((r) => r.routing.skipped ?? []).filter((s) => s.task === "sentiment").length;
    expect(sentiments + skipped).toBe(n);
    const share = (k: number) => ((100 * k) / n).toFixed(1);
    expect(result.stderr).toContain(
      `routing (auto, ${n} items): ExtractiveSummarizerExpert ${summaries} (${share(summaries)}%, mean weight 1.00), ` +
        `LexiconSentimentExpert ${sentiments} (${share(sentiments)}%, mean weight 1.00)` +
        (skipped > 0 ? `; skipped sentiment ${skipped}` : "") +
        `; ${fallbacks} fallbacks`,
    );
    const json = JSON.parse(await readFile(stats, "utf8")) as { router: string; routed: number; fallbacks: number; experts: Record<string, { activations: number; share: number }> };
    expect(json).toMatchObject({ router: "auto", routed: n, fallbacks });
    expect(json.experts["LexiconSentimentExpert"]).toMatchObject({ activations: sentiments, share: sentiments / n });
  });
});

describe("analyze --dry-run", () => {
  it("routes every item, runs no expert and writes the routing with empty analyses", async () => {
    const output = join(dir, "dry.json");
    const stats = join(dir, "dry-stats.json");
    const result = await runCli(["analyze", EXAMPLES, "--gate", join(dir, "gate.json"), "--budget", "0.2", "--dry-run", "-o", output, "--stats", stats], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/items routed \(dry run, no expert ran\)/);
    expect(result.stderr).not.toMatch(/: \d+ items in \d+ batches/);
    const records = JSON.parse(await readFile(output, "utf8")) as Array<{ analyses: object; routing: { router: string; experts: unknown[]; skipped?: unknown[] } }>;
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) {
      expect(record.analyses).toEqual({});
      expect(record.routing.router).toBe("learned");
      expect(record.routing.experts.length + (record.routing.skipped?.length ?? 0)).toBe(2);
    }
    const json = JSON.parse(await readFile(stats, "utf8")) as { routed: number };
    expect(json.routed).toBe(records.length);
  });
});
