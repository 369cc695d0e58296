import { Command, CommanderError } from "commander";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createProgressView, formatBytes, registerModelsCommand } from "../src/cli/models-command.js";
import { writeFakeModelRepo } from "./helpers/fake-model-repo.js";
import { createModelStoreSandbox, type ModelStoreSandbox } from "./helpers/model-store-env.js";

const SUMMARIZER = "Xenova/distilbart-cnn-6-6";
const CLASSIFIER = "Xenova/distilbert-base-uncased-finetuned-sst-2-english";

class Capture extends Writable {
  text = "";
  isTTY?: boolean;
  override _write(chunk: Buffer | string, _encoding: string, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

interface CliRun {
  stdout: string;
  stderr: string;
  exitCode: number | undefined;
  error?: unknown;
}

/** Runs `news-moe models ...` in-process through a real commander program, as main.ts wires it. */
async function runModels(args: string[], options: { tty?: boolean } = {}): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  if (options.tty) Object.assign(stderr, { isTTY: true, columns: 120 });
  const program = new Command().name("news-moe").exitOverride();
  program.configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) });
  registerModelsCommand(program, { stdout, stderr });
  process.exitCode = undefined;
  let error: unknown;
  try {
    await program.parseAsync(["node", "news-moe", "models", ...args]);
  } catch (thrown) {
    error = thrown;
  }
  const exitCode = typeof process.exitCode === "number" ? process.exitCode : undefined;
  process.exitCode = undefined;
  return { stdout: stdout.text, stderr: stderr.text, exitCode, error };
}

let box: ModelStoreSandbox;

async function publishDefaults(): Promise<{ summarizer: string; classifier: string }> {
  await writeFakeModelRepo(join(box.work, "bart"), { kind: "seq2seq", graphBytes: 40_000 });
  await writeFakeModelRepo(join(box.work, "sst2"), { kind: "classifier", graphBytes: 40_000 });
  return {
    summarizer: await box.hub.publish(SUMMARIZER, join(box.work, "bart")),
    classifier: await box.hub.publish(CLASSIFIER, join(box.work, "sst2")),
  };
}

beforeEach(async () => {
  box = await createModelStoreSandbox();
});

afterEach(async () => {
  process.exitCode = undefined;
  await box.dispose();
});

describe("news-moe models pull", () => {
  it("pulls the two default models when given no spec, then finds them cached", async () => {
    const commits = await publishDefaults();

    const first = await runModels(["pull"]);

    expect(first.error).toBeUndefined();
    expect(first.exitCode).toBe(0);
    const snapshots = join(box.hubCache, "models--Xenova--distilbart-cnn-6-6", "snapshots", commits.summarizer);
    // fp32 by default, the precision `analyze` uses by default.
    expect(first.stdout).toContain(`${SUMMARIZER} (seq2seq, fp32): downloaded ${snapshots}`);
    expect(first.stdout).toContain(`${CLASSIFIER} (classifier, fp32): downloaded`);
    // Not a TTY: plain lines on stderr, one when a file starts and one when it is stored.
    expect(first.stderr).toMatch(new RegExp(`downloading ${SUMMARIZER}/onnx/encoder_model\\.onnx \\([0-9.]+ kB\\)`));
    expect(first.stderr).toMatch(new RegExp(`stored ${SUMMARIZER}/onnx/encoder_model\\.onnx \\([0-9.]+ kB\\)`));
    expect(first.stderr).not.toContain("_quantized.onnx");
    expect(first.stderr).not.toContain("\u001b[");

    const second = await runModels(["pull"]);
    // The fake repo's graphs are random bytes: compiling the decoder fails, which pull reports and survives.
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain(`${SUMMARIZER} (seq2seq, fp32): already cached`);
    expect(second.stderr).toBe(
      "warning: the decoder was not compiled (analyze will run the published graph, slower): config.json has no numeric d_model\n",
    );
  });

  it("compiles the summariser's decoder right after pulling it, once", async () => {
    const repo = join(box.work, "real-bart");
    cpSync(new URL("./fixtures/models/tiny-distilbart-cnn-6-6/", import.meta.url).pathname, repo, {
      recursive: true,
      filter: (source) => !/\.news-moe-[ce]\d/.test(source),
    });
    await box.hub.publish("someone/tiny-bart", repo);
    const first = await runModels(["pull", "someone/tiny-bart", "--kind", "seq2seq"]);
    expect(first.exitCode).toBe(0);
    expect(first.stderr).toContain("compiling the decoder for beam search...");
    expect(first.stdout).toMatch(/compiled decoder: .*decoder_model_merged\.news-moe-c\d+\.step\.onnx/);
    expect(first.stderr).toContain("compiling the encoder with fused attention...");
    expect(first.stdout).toMatch(/compiled encoder: .*encoder_model\.news-moe-e\d+\.encoder\.onnx/);
    const second = await runModels(["pull", "someone/tiny-bart", "--kind", "seq2seq"]);
    expect(second.stdout).toMatch(/compiled decoder: /);
    expect(second.stderr).not.toContain("compiling");
  });

  it("compiles a classifier without its token table right after pulling it", async () => {
    const repo = join(box.work, "real-sst2");
    cpSync(new URL("./fixtures/models/tiny-distilbert-sst2/", import.meta.url).pathname, repo, {
      recursive: true,
      filter: (source) => !/\.news-moe-t\d/.test(source),
    });
    await box.hub.publish("someone/tiny-sst2", repo);
    const run = await runModels(["pull", "someone/tiny-sst2", "--kind", "classifier"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/compiled classifier: .*model\.news-moe-t\d+\.model\.onnx/);
  });

  it("pulls both precisions with --dtype all, inferring the kind of a non-default id", async () => {
    await writeFakeModelRepo(join(box.work, "other"), { kind: "classifier", graphBytes: 20_000 });
    await box.hub.publish("someone/other-sst2", join(box.work, "other"));

    const run = await runModels(["pull", "someone/other-sst2", "--dtype", "all"]);

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("someone/other-sst2 (classifier, fp32): downloaded");
    expect(run.stdout).toContain("someone/other-sst2 (classifier, q8): downloaded");
  });

  it("draws progress bars on a TTY", async () => {
    await publishDefaults();
    const run = await runModels(["pull", CLASSIFIER, "--dtype", "q8"], { tty: true });
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toMatch(/onnx\/model_quantized\.onnx +\|█+\| 100% 10\.0 kB\/10\.0 kB/);
    expect(run.stderr).not.toContain("downloading "); // no plain lines on a TTY
  });

  it("exits 1 with the model's error when one of several cannot be had, still pulling the others", async () => {
    await publishDefaults();

    const run = await runModels(["pull", "nobody/nothing", CLASSIFIER]);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("Model nobody/nothing");
    expect(run.stderr).toContain("does not exist, or it is private or gated");
    expect(run.stdout).toContain(`${CLASSIFIER} (classifier, fp32): downloaded`);
  });

  it("with --offline only checks the cache, making no request", async () => {
    await publishDefaults();
    const run = await runModels(["pull", "--offline"]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`Model ${SUMMARIZER}`);
    expect(run.stderr).toContain("offline mode is on (--offline)");
    expect(box.hub.requests).toHaveLength(0);
  });

  it("leaves bad usage to commander (main maps it to exit 2)", async () => {
    const run = await runModels(["pull", "--dtype", "fp16"]);
    expect(run.error).toBeInstanceOf(CommanderError);
    expect((run.error as CommanderError).code).toBe("commander.invalidArgument");
    expect(run.stderr).toContain("fp16");
    const timeout = await runModels(["pull", "--timeout", "soon"]);
    expect((timeout.error as Error).name).toBe("UsageError");
    expect(box.hub.requests).toHaveLength(0);
  });
});

describe("news-moe models list", () => {
  it("shows ids, refs and commits, precisions, files and sizes", async () => {
    const commits = await publishDefaults();
    await runModels(["pull", SUMMARIZER, "--dtype", "all"]);
    await runModels(["pull", CLASSIFIER]);

    const run = await runModels(["list"]);

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`Models in ${box.hubCache}:`);
    expect(run.stdout).toContain(`main → commit ${commits.summarizer.slice(0, 12)}  (fp32, q8)`);
    expect(run.stdout).toContain(`main → commit ${commits.classifier.slice(0, 12)}  (fp32)`);
    expect(run.stdout).toMatch(/onnx\/encoder_model_quantized\.onnx\s+10\.0 kB/);

    const json = JSON.parse((await runModels(["list", "--json"])).stdout) as {
      cacheDir: string;
      models: Array<{ repoId: string; sizeOnDisk: number; snapshots: Array<{ id: string; refs: string[]; dtypeVariants: string[] }> }>;
    };
    expect(json.cacheDir).toBe(box.hubCache);
    expect(json.models.map((m) => m.repoId)).toEqual([CLASSIFIER, SUMMARIZER].sort());
    const bart = json.models.find((m) => m.repoId === SUMMARIZER);
    expect(bart?.snapshots).toEqual([
      expect.objectContaining({ id: commits.summarizer, refs: ["main"], dtypeVariants: ["fp32", "q8"] }),
    ]);
    // Per dtype, two 40 kB graphs (encoder, merged decoder; the split pair is not fetched) and small files.
    expect(bart?.sizeOnDisk).toBeGreaterThan(4 * 20_000);
  });

  it("says how to get models when the cache is empty, and lists a transformers.js cache given with --cache-dir", async () => {
    const empty = await runModels(["list"]);
    expect(empty.stdout).toContain("No models in");
    expect(empty.stdout).toContain("news-moe models pull");

    const cacheDir = join(box.work, "tjs-cache");
    await writeFakeModelRepo(join(cacheDir, "Xenova", "distilbart-cnn-6-6"), { kind: "seq2seq", dtypes: ["q8"], graphBytes: 8_000 });
    const run = await runModels(["list", "--cache-dir", cacheDir]);
    expect(run.stdout).toContain(`${SUMMARIZER}  `);
    expect(run.stdout).toContain("[transformers.js layout]");
    expect(run.stdout).toContain("main → revision main  (q8)");
  });
});

describe("news-moe models path", () => {
  it("prints the snapshot dir of a cached model without any request", async () => {
    const commits = await publishDefaults();
    await runModels(["pull", CLASSIFIER]);
    box.hub.resetLog();

    const run = await runModels(["path", CLASSIFIER]);

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(
      `${join(box.hubCache, "models--Xenova--distilbert-base-uncased-finetuned-sst-2-english", "snapshots", commits.classifier)}\n`,
    );
    expect(box.hub.requests).toHaveLength(0);
  });

  it("exits 1 with the clear error when the model is not there, and never downloads", async () => {
    await publishDefaults();

    const run = await runModels(["path", SUMMARIZER, "--dtype", "fp32"]);

    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`Model ${SUMMARIZER} (seq2seq, fp32) is not available: it is not in the cache`);
    expect(run.stderr).toContain("`news-moe models path` never downloads");
    expect(run.stderr).not.toContain("offline mode is on");
    expect(run.stderr).toContain("onnx/encoder_model.onnx");
    expect(run.stderr).toContain(`news-moe models pull ${SUMMARIZER} --dtype fp32`);
    expect(run.stderr).toContain(join(box.hubCache, "models--Xenova--distilbart-cnn-6-6", "refs", "main"));
    expect(box.hub.requests).toHaveLength(0);
  });
});

describe("plain progress lines", () => {
  it("prints start, periodic and stored lines, and formats sizes in SI units", () => {
    const stderr = new Capture();
    const view = createProgressView(stderr, 0);
    const file = { repoId: "a/b", file: "onnx/model.onnx", bytesTotal: 2_000_000 };
    view.onProgress({ ...file, bytesDone: 500_000, status: "downloading" });
    view.onProgress({ ...file, bytesDone: 1_500_000, status: "downloading" });
    view.onProgress({ ...file, bytesDone: 2_000_000, status: "done" });
    view.onProgress({ repoId: "a/b", file: "config.json", bytesDone: 0, bytesTotal: undefined, status: "cached" });
    view.stop();
    expect(stderr.text).toBe(
      [
        "downloading a/b/onnx/model.onnx (2.0 MB, resuming at 500.0 kB)",
        "  a/b/onnx/model.onnx: 75% 1.5 MB of 2.0 MB",
        "stored a/b/onnx/model.onnx (2.0 MB)",
        "",
      ].join("\n"),
    );
    expect([formatBytes(999), formatBytes(1_000), formatBytes(1_234_567_890)]).toEqual(["999 B", "1.0 kB", "1.2 GB"]);
  });
});
