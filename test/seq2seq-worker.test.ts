/**
 * The summariser's generation runs in a worker thread: the main thread stays free while a batch decodes
 * (timers keep firing), progress arrives during the batch, an abort stops it between steps, and the
 * results are the same tokens as HF's generate().
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSeq2SeqModel, type Seq2SeqRunner } from "../src/experts/neural/seq2seq-loader.js";
import type { Seq2SeqModelFiles } from "../src/models/model-store.js";
import { calls, MODEL_DIR } from "./helpers/summarization-references.js";

let dir: string;
let runner: Seq2SeqRunner;
const notices: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "news-moe-worker-"));
  // Without compilations other tests left beside the fixture.
  cpSync(MODEL_DIR, dir, { recursive: true, filter: (source) => !source.includes(".news-moe-c") });
  const files = {
    kind: "seq2seq",
    config: join(dir, "config.json"),
    generationConfig: join(dir, "generation_config.json"),
    tokenizer: join(dir, "tokenizer.json"),
    tokenizerConfig: join(dir, "tokenizer_config.json"),
    encoder: join(dir, "onnx", "encoder_model.onnx"),
    decoderMerged: join(dir, "onnx", "decoder_model_merged.onnx"),
  } as Seq2SeqModelFiles;
  const json = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  runner = await loadSeq2SeqModel(files, json(files.config), json(join(dir, "generation_config.json")), {
    threads: 1,
    cacheDir: join(dir, "cache"),
    onNotice: (message) => notices.push(message),
  });
});

afterAll(async () => {
  await runner?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("generation in a worker thread", () => {
  it("compiled the decoder once, said so, and runs it", () => {
    expect(runner.engine).toBe("compiled");
    expect(notices.filter((n) => n.startsWith("compiling the summariser's decoder"))).toHaveLength(1);
  });

  it("gives HF's tokens while the main thread keeps running, with progress during the batch", async () => {
    const call = calls.find((c) => c.name === "pipeline_tutorial_football")!;
    // A batch long enough to take seconds: the same article many times, plus the reference.
    const inputs = [call.inputIds[0]!, ...Array.from({ length: 15 }, () => call.inputIds[0]!)];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const progress: number[] = [];
    const started = performance.now();
    const { sequences } = await runner.generate(inputs, { maxLength: 300, minLength: 30 }, undefined, (p) => progress.push(p.steps));
    const elapsed = performance.now() - started;
    clearInterval(timer);
    expect(sequences[0]).toEqual(call.sequences[0]);
    expect(sequences.every((s) => JSON.stringify(s) === JSON.stringify(call.sequences[0]))).toBe(true);
    // The event loop was not blocked: timers fired during the batch (on the main thread, a blocking
    // ONNX run would let none through until the whole batch was done).
    if (elapsed > 500) expect(ticks).toBeGreaterThanOrEqual(3);
    if (elapsed > 1500) expect(progress.length).toBeGreaterThan(0);
    const timing = runner.timing();
    expect(timing.steps).toBeGreaterThan(0);
    expect(timing.decodeMs).toBeGreaterThan(0);
    expect(timing.totalMs).toBeGreaterThanOrEqual(timing.decodeMs + timing.encodeMs);
  });

  it("stops between steps when aborted, and stays usable", async () => {
    const call = calls.find((c) => c.name === "pipeline_tutorial_cricket")!;
    const inputs = Array.from({ length: 24 }, () => call.inputIds[0]!);
    const controller = new AbortController();
    const reason = new Error("stop now");
    const pending = runner.generate(inputs, { maxLength: 300, minLength: 30 }, controller.signal);
    setTimeout(() => controller.abort(reason), 100);
    await expect(pending).rejects.toBe(reason);
    const { sequences } = await runner.generate([call.inputIds[0]!], { maxLength: 300, minLength: 30 });
    expect(sequences[0]).toEqual(call.sequences[0]);
  });
});
