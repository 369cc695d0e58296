import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/core/analysis-record.js";
import { isolatedEnv, REPO_ROOT, runCli, startCli, tempDir } from "./helpers/cli.js";

const PLUGIN = join(REPO_ROOT, "test/fixtures/plugins/slow-tagger.mjs");

function journalLines(text: string): number {
  return text.split("\n").filter((line) => line.trim().length > 0).length - 1;
}

describe("crash safety: kill -9 mid-run, then --resume", () => {
  it("ends with every input item exactly once, however often the run is killed", async () => {
    const dir = await tempDir("news-moe-resume-");
    const count = 240;
    // Duplicate ids and an id-less item are where "exactly once" is easiest to get wrong.
    const items = Array.from({ length: count }, (_, i) => {
      if (i === 100) return { headline: "no id", content: "An item without an id still gets an entry." };
      return { id: i % 50 === 7 ? "dup" : `item-${i}`, headline: `Item ${i}`, content: `Report number ${i} has a few words in it.` };
    });
    const input = join(dir, "news.json");
    await writeFile(input, JSON.stringify(items));
    const output = join(dir, "out.json");
    const args = ["analyze", input, "-o", output, "--plugin", PLUGIN, "--experts", "SlowTagger", "--quiet"];
    const env = isolatedEnv(dir, { SLOW_TAGGER_MS: "12" });

    const killedAt: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const run = startCli(attempt === 0 ? args : [...args, "--resume"], { env, cwd: dir });
      // Wait until this run has journaled something new, then kill it at a random moment after.
      const before = existsSync(`${output}.journal`) ? journalLines(await readFile(`${output}.journal`, "utf8")) : 0;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        await sleep(50);
        if (!existsSync(`${output}.journal`)) continue;
        if (journalLines(await readFile(`${output}.journal`, "utf8")) > before) break;
      }
      await sleep(Math.floor(Math.random() * 400));
      run.child.kill("SIGKILL");
      const result = await run.done;
      expect(result.signal).toBe("SIGKILL");
      killedAt.push(journalLines(await readFile(`${output}.journal`, "utf8")));
    }
    // Progress was made between kills, and the run was not finished when killed.
    expect(killedAt.at(-1)).toBeLessThan(count);
    expect(killedAt[0]).toBeGreaterThan(0);

    const final = await runCli([...args, "--resume"], { env, cwd: dir });
    expect(final.code).toBe(1); // the id-less item is invalid
    const records = JSON.parse(await readFile(output, "utf8")) as AnalysisRecord[];
    expect(records).toHaveLength(count);
    expect(records.map((r) => r.headline)).toEqual(items.map((item) => item.headline));
    expect(records.filter((r) => r.id === "dup")).toHaveLength(items.filter((item) => item.id === "dup").length);
    for (const record of records.filter((r) => r.id !== null)) {
      const n = Number(record.headline?.split(" ")[1]);
      expect(record.analyses.SlowTagger).toEqual({ words: 9 + String(n).length - String(n).length });
    }
    expect(existsSync(`${output}.journal`)).toBe(false);
    expect((await readdir(dir)).filter((name) => name.includes(".tmp-"))).toEqual([]);
  });

  // Issue 9, item 7: recomputing everything silently is not what --resume promises.
  it("resuming a finished run's output with no journal refuses, leaving the output as it was", async () => {
    const dir = await tempDir("news-moe-resume-");
    const input = join(dir, "one.json");
    await writeFile(input, JSON.stringify([{ id: "a", content: "A short report of a quiet match in the rain." }]));
    const env = isolatedEnv(dir);
    const first = await runCli(["analyze", input, "-o", "out.json", "--experts", "embedded", "--quiet"], { env, cwd: dir });
    expect(first.code).toBe(0);
    const second = await runCli(["analyze", input, "-o", "out.json", "--experts", "embedded", "--resume", "--quiet"], { env, cwd: dir });
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/nothing to resume: .*out\.json\.journal does not exist/);
    expect((JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as unknown[]).length).toBe(1);
  });
});

describe("Ctrl-C", () => {
  it("exits 130, says how many finished items the journal keeps, and --resume finishes the rest", async () => {
    const dir = await tempDir("news-moe-sigint-");
    const items = Array.from({ length: 120 }, (_, i) => ({ id: `item-${i}`, content: `Report ${i} in a few words.` }));
    const input = join(dir, "news.json");
    await writeFile(input, JSON.stringify(items));
    const output = join(dir, "out.json");
    const args = ["analyze", input, "-o", output, "--plugin", PLUGIN, "--experts", "SlowTagger", "--quiet"];
    const env = isolatedEnv(dir, { SLOW_TAGGER_MS: "15" });

    const run = startCli(args, { env, cwd: dir });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !(existsSync(`${output}.journal`) && journalLines(await readFile(`${output}.journal`, "utf8")) > 0)) {
      await sleep(50);
    }
    run.child.kill("SIGINT");
    const interrupted = await run.done;
    expect(interrupted.code).toBe(130);
    const kept = journalLines(await readFile(`${output}.journal`, "utf8"));
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(items.length);
    expect(interrupted.stderr).toContain(`interrupted; ${kept} finished items are kept in ${output}.journal; rerun with --resume`);
    expect(existsSync(output)).toBe(false);

    const resumed = await runCli([...args, "--resume"], { env, cwd: dir });
    expect(resumed.code).toBe(0);
    const records = JSON.parse(await readFile(output, "utf8")) as AnalysisRecord[];
    expect(records.map((r) => r.id)).toEqual(items.map((item) => item.id));
  });
});
