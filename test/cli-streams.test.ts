import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/core/analysis-record.js";
import { CLI, isolatedEnv, REPO_ROOT, runCli, tempDir } from "./helpers/cli.js";

const JSONL = join(REPO_ROOT, "examples/news-data.jsonl");

describe("stdin and stdout streaming", () => {
  it("reads JSON Lines from stdin and streams JSON Lines to stdout, in input order", async () => {
    const dir = await tempDir();
    const text = await readFile(JSONL, "utf8");
    const ids = text.trim().split("\n").map((line) => (JSON.parse(line) as { id: string }).id);
    const result = await runCli(["analyze", "-", "-o", "-", "--experts", "embedded", "--quiet"], {
      cwd: dir,
      env: isolatedEnv(dir),
      stdin: text,
    });
    expect(result.code).toBe(1); // the example's empty-content item
    const lines = result.stdout.trim().split("\n");
    const records = lines.map((line) => JSON.parse(line) as AnalysisRecord);
    expect(records.map((r) => r.id)).toEqual(ids);
    expect(records[0]?.analyses.ExtractiveSummarizerExpert).toHaveProperty("summary");
  });

  it("reads a JSON array from stdin too", async () => {
    const dir = await tempDir();
    const text = await readFile(join(REPO_ROOT, "examples/news-data.json"), "utf8");
    const result = await runCli(["analyze", "-", "-o", "-", "--experts", "LexiconSentimentExpert", "--quiet"], {
      cwd: dir,
      env: isolatedEnv(dir),
      stdin: text,
    });
    expect(result.stdout.trim().split("\n")).toHaveLength((JSON.parse(text) as unknown[]).length);
  });

  it("stops quietly when the reader of stdout goes away (| head -n 1)", async () => {
    const dir = await tempDir();
    const shell = spawn(
      "bash",
      ["-c", `cat "${JSONL}" "${JSONL}" "${JSONL}" | "${process.execPath}" "${CLI}" analyze - -o - --experts embedded --quiet | head -n 1`],
      { cwd: dir, env: isolatedEnv(dir) },
    );
    let stdout = "";
    let stderr = "";
    shell.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    shell.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => shell.on("close", resolve));
    expect(code).toBe(0);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    expect(stderr).not.toMatch(/EPIPE|Error/);
  });

  it("prints help into a pipe whose reader has already gone without an EPIPE crash", async () => {
    const dir = await tempDir();
    // `true` reads nothing and exits at once, so the help is written into a closed pipe.
    const shell = spawn("bash", ["-c", `set -o pipefail; "${process.execPath}" "${CLI}" analyze --help | true`], { cwd: dir, env: isolatedEnv(dir) });
    let stderr = "";
    shell.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => shell.on("close", resolve));
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  });
});
