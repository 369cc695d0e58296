/**
 * A local summariser directory with the split decoder pair only (`decoder_model.onnx` +
 * `decoder_with_past_model.onnx`, no merged graph: what several exporters write) is a usable model:
 * the compiler reads `decoder_model.onnx`, which holds the merged graph's weights, so the summaries
 * are the ones the complete fixture gives. Through the real CLI, offline.
 */
import { cp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/io/output-record.js";
import { EXAMPLES, REPO_ROOT, isolatedEnv, runCli, tempDir } from "./helpers/cli.js";

const FIXTURE = join(REPO_ROOT, "test/fixtures/models/tiny-distilbart-cnn-6-6");

describe("a summariser directory with the split decoder pair only", () => {
  it("is accepted, and summarises as the same model with its merged decoder does", async () => {
    const dir = await tempDir("news-moe-split-");
    const split = join(dir, "split-model");
    // The fixture's published files only (not what an earlier run compiled beside them), minus every merged decoder.
    await cp(FIXTURE, split, { recursive: true, filter: (source) => !/news-moe|decoder_model_merged/.test(source) });
    expect((await readdir(join(split, "onnx"))).filter((name) => name.startsWith("decoder"))).toEqual([
      "decoder_model.onnx",
      "decoder_model_quantized.onnx",
      "decoder_with_past_model.onnx",
      "decoder_with_past_model_quantized.onnx",
    ]);
    const examples = JSON.parse(await readFile(EXAMPLES, "utf8")) as Array<{ content: string }>;
    await writeFile(join(dir, "news.json"), JSON.stringify(examples.filter((e) => e.content.trim() !== "").slice(0, 3)));
    const args = (model: string, out: string) => [
      "analyze", "news.json", "-o", out, "--summarizer-model", model, "--experts", "NewsSummarizationLLMExpert",
      "--offline", "--quiet", "--max-length", "20", "--min-length", "5",
    ];
    const env = isolatedEnv(dir);

    const fromSplit = await runCli(args(split, "split.json"), { cwd: dir, env });
    expect(fromSplit.stderr).not.toMatch(/unavailable|lacks files|Missing:/);
    expect(fromSplit.code, fromSplit.stderr).toBe(0);
    const reference = await runCli(args(FIXTURE, "merged.json"), { cwd: dir, env });
    expect(reference.code, reference.stderr).toBe(0);

    const summaries = async (file: string) =>
      (JSON.parse(await readFile(join(dir, file), "utf8")) as AnalysisRecord[]).map((r) => r.analyses["NewsSummarizationLLMExpert"] as { summary?: string; expert?: string });
    const split3 = await summaries("split.json");
    expect(split3).toHaveLength(3);
    for (const s of split3) {
      expect(s.expert).toBe("NewsSummarizationLLMExpert");
      expect(typeof s.summary).toBe("string");
    }
    expect(split3).toEqual(await summaries("merged.json"));
    // The compiled decoder was built from decoder_model.onnx, beside it (the folder is writable).
    expect((await readdir(join(split, "onnx"))).some((name) => /^decoder_model\.news-moe-c\d+\.step\.onnx$/.test(name))).toBe(true);

    // Half of the pair is not a model: one message naming what is missing, and the stand-in.
    await rm(join(split, "onnx", "decoder_with_past_model.onnx"));
    const half = await runCli(args(split, "half.json"), { cwd: dir, env });
    expect(half.stderr).toContain("onnx/decoder_model_merged.onnx (or onnx/decoder_model.onnx with onnx/decoder_with_past_model.onnx)");
  }, 180_000);
});
