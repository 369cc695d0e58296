import { existsSync } from "node:fs";
import { readFile, readdir, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXAMPLES, expectUserFailure, isolatedEnv, runCli, startCli, tempDir } from "./helpers/cli.js";

describe("news-moe report (real process)", () => {
  it("refuses a file that is not analyze's output with exit 2, naming the entry", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "not-results.json"), JSON.stringify([{ id: "a", analyses: {} }, 42]));
    const result = await runCli(["report", "not-results.json", "-o", "r.html"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("news-moe: not-results.json: entry 1 is not an analysis record (expected the output of news-moe analyze)\n");
  });

  it("writes one file whose data are the records' own (headlines, sentiments), with the script inlined", async () => {
    const dir = await tempDir();
    await runCli(["analyze", EXAMPLES, "-o", "results.jsonl", "--format", "jsonl", "--experts", "embedded", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    const result = await runCli(["report", "results.jsonl", "-o", "r.html"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code).toBe(0);
    const html = await readFile(join(dir, "r.html"), "utf8");
    // The page and Chart.js are what a report of no record weighs; each record adds the rest.
    const emptyDir = await tempDir();
    await writeFile(join(emptyDir, "results.jsonl"), "");
    expect((await runCli(["report", "results.jsonl", "-o", "r.html"], { cwd: emptyDir, env: isolatedEnv(emptyDir) })).code).toBe(0);
    const fixed = (await readFile(join(emptyDir, "r.html"))).length;
    const bytes = Buffer.byteLength(html);
    expect(result.stderr).toBe(
      `news-moe: wrote ${join(dir, "r.html")}: 16 records, ${bytes} bytes (${fixed} bytes of page and Chart.js, ${Math.round((bytes - fixed) / 16)} bytes per record)\n`,
    );
    // A small report is mostly page: the size per record is far below the size over the records.
    expect(Math.round((bytes - fixed) / 16)).toBeLessThan(bytes / 16 / 10);
    const rows = JSON.parse(/<script type="application\/json" id="rows-data">(.*?)<\/script>/s.exec(html)?.[1] ?? "null") as unknown[][];
    const records = (await readFile(join(dir, "results.jsonl"), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l) as { id: string; headline: string | null; analyses: Record<string, { sentiment_label?: string; skipped?: boolean }> });
    // An item without a headline is listed by its id.
    expect(rows.map((r) => r[0])).toEqual(records.map((r) => r.headline ?? r.id));
    // A sentiment the gate skipped (the Spanish item) says so.
    const sentimentOf = (r: (typeof records)[number]) =>
      Object.values(r.analyses).find((a) => a.sentiment_label)?.sentiment_label ?? (r.analyses.SentimentAnalysisLLMExpert?.skipped ? "skipped" : "");
    expect(rows.map((r) => r[3])).toEqual(records.map(sentimentOf));
    expect(rows.filter((r) => r[3] === "skipped")).toHaveLength(1);
    // No external script or stylesheet: everything the page runs is in the file.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+rel="stylesheet"/);
  });

  it.skipIf(process.platform !== "linux")("stopped while it reads the results: 130, says it was interrupted (not 'before it started'), writes nothing", async () => {
    const dir = await tempDir();
    const analyzed = await runCli(["analyze", EXAMPLES, "-o", "small.json", "--experts", "embedded", "--quiet"], { cwd: dir, env: isolatedEnv(dir) });
    expect(analyzed.code).toBe(1); // the example's empty item
    const small = JSON.parse(await readFile(join(dir, "small.json"), "utf8")) as Array<{ id: string }>;
    // Enough records that reading and rendering them takes seconds.
    const many = Array.from({ length: 40_000 }, (_, i) => ({ ...small[i % small.length]!, id: `r${i}` }));
    const results = join(dir, "results.json");
    await writeFile(results, JSON.stringify(many));
    const run = startCli(["report", "results.json", "-o", "r.html"], { cwd: dir, env: isolatedEnv(dir) });
    // Signalled once the command is at work: it has the results file open (/proc/PID/fd).
    const deadline = Date.now() + 30_000;
    const reading = async () => {
      const fds = await readdir(`/proc/${run.child.pid}/fd`).catch(() => [] as string[]);
      const targets = await Promise.all(fds.map((fd) => readlink(`/proc/${run.child.pid}/fd/${fd}`).catch(() => "")));
      return targets.includes(results);
    };
    while (!(await reading()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    run.child.kill("SIGTERM");
    const result = await run.done;
    expectUserFailure(result, 130, "news-moe report: interrupted before it finished; nothing was written\n");
    expect(existsSync(join(dir, "r.html"))).toBe(false);
  }, 60_000);
});
