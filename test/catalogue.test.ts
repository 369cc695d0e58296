/**
 * The catalogue: an expert is one file plus one catalogue entry, and everything else follows from
 * the entry. A toy expert (test/fixtures/catalogue/toy-expert.mjs, an ExpertEntry like the
 * built-ins' in src/catalogue/catalogue.ts) is loaded by the real CLI with --plugin: its settings
 * are flags with their schema defaults in --help, it is in the registry with its group and worker
 * kind, and `analyze` runs it with the flag's value and the schema's default.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { builtInCatalogue, EXPERTS } from "../src/catalogue/catalogue.js";
import { SettingConflictError, WORKER_KINDS } from "../src/catalogue/entries.js";
import { setting } from "../src/catalogue/setting.js";
import type { AnalysisRecord } from "../src/core/analysis-record.js";
import { loadPlugins } from "../src/engine/plugins.js";
import { EXAMPLES, isolatedEnv, REPO_ROOT, runCli, tempDir } from "./helpers/cli.js";

const TOY = join(REPO_ROOT, "test/fixtures/catalogue/toy-expert.mjs");

/** The description of `flag` in a help text, continuation lines joined. */
function helpOf(help: string, flag: string): string | undefined {
  const lines = help.split("\n");
  const start = lines.findIndex((line) => line.trimStart().startsWith(flag));
  if (start < 0) return undefined;
  let text = lines[start]!.trim().replace(/\s+/g, " ");
  for (const line of lines.slice(start + 1)) {
    if (!/^\s{10,}\S/.test(line)) break;
    text += ` ${line.trim()}`;
  }
  return text;
}

describe("a toy expert added as one file with one catalogue entry", () => {
  it("gets flags with its schema's defaults in --help, a registry entry with group and worker kind, and runs through analyze", async () => {
    const dir = await tempDir();
    const env = isolatedEnv(dir);
    const [help, listed, analysed, refused] = await Promise.all([
      runCli(["analyze", "--plugin", TOY, "--help"], { cwd: dir, env }),
      runCli(["experts", "--plugin", TOY, "--json", "--offline"], { cwd: dir, env }),
      runCli(["analyze", EXAMPLES, "--plugin", TOY, "--experts", "toy", "--toy-tag", "hello", "-o", "out.json", "--quiet"], { cwd: dir, env }),
      runCli(["analyze", EXAMPLES, "--plugin", TOY, "--toy-repeat", "0", "-o", "never.json"], { cwd: dir, env }),
    ]);

    expect(help.code).toBe(0);
    // The defaults the fixture's schema gives, as written in the fixture.
    expect(helpOf(help.stdout, "--toy-tag <word>")).toBe('--toy-tag <word> toy expert: the word it tags each item with (default: "toy")');
    expect(helpOf(help.stdout, "--toy-repeat <n>")).toBe("--toy-repeat <n> toy expert: how many times it writes the word (default: 2)");

    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(rows.find((row) => row.name === "ToyTagger")).toMatchObject({ task: "tagging", group: "toy", worker: "main-thread", status: "ready" });
    // The built-ins' worker kinds come from their entries too.
    expect(rows.find((row) => row.name === "LexiconSentimentExpert")).toMatchObject({ group: "embedded", worker: "embedded-pool" });
    expect(rows.find((row) => row.name === "NewsSummarizationLLMExpert")).toMatchObject({ group: "neural", worker: "seq2seq-worker" });

    // --experts toy: the group the entry names; the tag from the flag, repeated twice by the schema's default.
    expect(analysed.stderr).toBe("");
    expect(analysed.code).toBe(0);
    const records = JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as AnalysisRecord[];
    expect(records).toHaveLength(16);
    for (const record of records) {
      expect(record.analyses).toEqual({ ToyTagger: { tag: "hello hello" } });
      expect(record.routing?.experts).toEqual([expect.objectContaining({ expert: "ToyTagger", task: "tagging" })]);
    }

    // Its schema refuses a bad value with the flag's name, as the built-ins' do.
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--toy-repeat must be a whole number ≥ 1/);
  }, 60_000);

  it("joins a catalogue, where groups, settings and the registry include it; the built-in one stays as it was", async () => {
    const catalogue = builtInCatalogue();
    expect(await loadPlugins([TOY], catalogue)).toEqual({ experts: ["ToyTagger"], routers: [], sinks: [] });
    expect(catalogue.groups()).toEqual({
      neural: ["NewsSummarizationLLMExpert", "SentimentAnalysisLLMExpert"],
      embedded: ["ExtractiveSummarizerExpert", "LexiconSentimentExpert"],
      toy: ["ToyTagger"],
    });
    expect(Object.keys(catalogue.settings())).toEqual(expect.arrayContaining(["toyTag", "toyRepeat", "summaryMemoryMib"]));
    expect(catalogue.createRegistry({ toyRepeat: 3 }).names()).toEqual([
      "NewsSummarizationLLMExpert",
      "ExtractiveSummarizerExpert",
      "SentimentAnalysisLLMExpert",
      "LexiconSentimentExpert",
      "ToyTagger",
    ]);
    expect(builtInCatalogue().groups()).not.toHaveProperty("toy");
  });

  it("refuses an entry that gives a setting's name another meaning", () => {
    const catalogue = builtInCatalogue();
    const clash = { ...EXPERTS[1]!, name: "Clash", options: z.object({ dtype: setting("--dtype <d>", z.string(), "another dtype") }) };
    expect(() => catalogue.add(clash)).toThrow(SettingConflictError);
    expect(() => catalogue.add(clash)).toThrow(/Clash: its setting "dtype" is already declared/);
  });

  it("the built-in experts: one entry each, in fallback order, each with a known worker kind and the neural ones preferred", () => {
    expect(EXPERTS.map((e) => [e.name, e.task, e.group, e.workerKind, e.prior])).toEqual([
      ["NewsSummarizationLLMExpert", "summarization", "neural", "seq2seq-worker", 1],
      ["ExtractiveSummarizerExpert", "summarization", "embedded", "embedded-pool", 0],
      ["SentimentAnalysisLLMExpert", "sentiment", "neural", "main-thread", 1],
      ["LexiconSentimentExpert", "sentiment", "embedded", "embedded-pool", 0],
    ]);
    for (const entry of EXPERTS) expect(WORKER_KINDS).toContain(entry.workerKind);
    expect(builtInCatalogue().priors()).toEqual({ NewsSummarizationLLMExpert: 1, SentimentAnalysisLLMExpert: 1 });
    expect(builtInCatalogue().routers().map((r) => r.name)).toEqual(["auto", "all", "rules", "learned"]);
    expect(builtInCatalogue().sinks().map((s) => s.name)).toEqual(["file", "stream", "journal"]);
  });
});
