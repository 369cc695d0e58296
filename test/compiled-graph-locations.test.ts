/**
 * The compiled graphs (summariser's decoder and encoder, sentiment classifier) load wherever a user's
 * models are kept, through the real CLI process:
 *   - downloaded into the Hugging Face cache, whose snapshot files are symbolic links into blobs/
 *     (ONNX Runtime refuses external data whose path, links resolved, leaves the graph's folder: before
 *     the fix every downloaded model ran the published decoder and the sentiment expert was unavailable);
 *   - a model folder the user cannot write, whose compiled graphs go to the cache's compiled/ folder
 *     (run as `nobody` when the tests run as root, since root writes anywhere);
 *   - models compiled where they are (as `models pull` does when an image is built), then run where
 *     nothing can be written: the compilation beside them is used (it was looked for only in the
 *     folder a new one would be written to, so the published graphs ran).
 */
import { lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/core/analysis-record.js";
import { FakeHub, onlineUserEnv } from "./helpers/fake-hub.js";
import { REPO_ROOT, isolatedEnv, runCli, tempDir, type CliResult } from "./helpers/cli.js";
import { CLI_USER, handOver, makeReadOnly } from "./helpers/fs-faults.js";

const SUMMARIZER_DIR = join(REPO_ROOT, "test/fixtures/models/tiny-distilbart-cnn-6-6");
const SENTIMENT_DIR = join(REPO_ROOT, "test/fixtures/models/tiny-distilbert-sst2");
const NEURAL = ["--experts", "NewsSummarizationLLMExpert,SentimentAnalysisLLMExpert", "--max-length", "12", "--min-length", "2"];
const CONTENT =
  "The home side won the derby on Saturday after a late goal. Their manager praised the defence and said the squad " +
  "had earned the result after weeks of hard training. Supporters sang long after the final whistle at the ground.";

/** Both neural experts ran on their compiled graphs: no fallback notice, no unavailable expert, both outputs there. */
async function expectCompiledRun(result: CliResult, output: string): Promise<void> {
  expect(result.stderr).not.toMatch(/not available|unavailable|published decoder graph runs|External data/);
  // ONNX Runtime's own warnings (a home folder it cannot write, for one) are not the user's business.
  expect(result.stderr).not.toMatch(/\[W:onnxruntime/);
  expect(result.code, result.stderr).toBe(0);
  const [record] = JSON.parse(await readFile(output, "utf8")) as AnalysisRecord[];
  expect(typeof (record?.analyses["NewsSummarizationLLMExpert"] as { summary?: unknown }).summary).toBe("string");
  expect((record?.analyses["SentimentAnalysisLLMExpert"] as { sentiment_label?: unknown }).sentiment_label).toMatch(/^(POSITIVE|NEGATIVE)$/);
}

/** Every compiled graph file under `dir`, and whether a symbolic link sits beside it. */
async function compiledFiles(dir: string): Promise<{ graphs: string[]; links: string[] }> {
  const graphs: string[] = [];
  const links: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (!entry.name.includes(".news-moe-")) continue;
    if (entry.name.endsWith(".onnx") && !entry.name.includes(".source.")) graphs.push(entry.name);
    if ((await lstat(path)).isSymbolicLink()) links.push(entry.name);
  }
  return { graphs: graphs.sort(), links };
}

let hub: FakeHub;
beforeAll(async () => {
  hub = await FakeHub.start();
  await hub.publish("Xenova/distilbart-cnn-6-6", SUMMARIZER_DIR);
  await hub.publish("Xenova/distilbert-base-uncased-finetuned-sst-2-english", SENTIMENT_DIR);
});
afterAll(async () => {
  await hub.close();
});

describe("compiled graphs of the models where users keep them", () => {
  it("downloaded into the Hugging Face cache (snapshot files are links into blobs/): compiled on the first run, reused on the next", async () => {
    const dir = await tempDir("news-moe-hub-compiled-");
    const input = join(dir, "news.json");
    await writeFile(input, JSON.stringify([{ id: "a", content: CONTENT }]));
    const env = onlineUserEnv(hub, dir);

    const first = await runCli(["analyze", input, "-o", "first.json", ...NEURAL], { cwd: dir, env });
    expect(first.stderr).toContain("compiling the summariser's decoder");
    await expectCompiledRun(first, join(dir, "first.json"));
    const { graphs, links } = await compiledFiles(join(dir, "hf", "hub"));
    // Decoder (step, cross), encoder, and the classifier without its token table.
    expect(graphs.filter((name) => /\.news-moe-c\d+\.step\.onnx$/.test(name))).toHaveLength(1);
    expect(graphs.filter((name) => /\.news-moe-e\d+\.encoder\.onnx$/.test(name))).toHaveLength(1);
    expect(graphs.filter((name) => /^model\.news-moe-t\d+\.model\.onnx$/.test(name))).toHaveLength(1);
    expect(links).toEqual([]);

    const second = await runCli(["analyze", input, "-o", "second.json", ...NEURAL, "--offline"], { cwd: dir, env });
    expect(second.stderr).not.toContain("compiling");
    await expectCompiledRun(second, join(dir, "second.json"));
    expect(await readFile(join(dir, "second.json"), "utf8")).toBe(await readFile(join(dir, "first.json"), "utf8"));

    // int8: the quantized graphs are other files of the same snapshots, compiled the same way.
    const int8 = await runCli(["analyze", input, "-o", "int8.json", ...NEURAL, "--dtype", "q8"], { cwd: dir, env });
    expect(int8.stderr).toContain("compiling the summariser's decoder");
    await expectCompiledRun(int8, join(dir, "int8.json"));
    expect((await compiledFiles(join(dir, "hf", "hub"))).links).toEqual([]);
  }, 180_000);

  it("in a folder the user cannot write: compiled into the cache's compiled/ folder, and loaded from there", async () => {
    const dir = await tempDir("news-moe-readonly-compiled-");
    const models = join(dir, "models");
    const summarizer = join(models, "summarizer");
    const sentiment = join(models, "sentiment");
    cpSync(SUMMARIZER_DIR, summarizer, { recursive: true, filter: (source) => !source.includes(".news-moe-") });
    cpSync(SENTIMENT_DIR, sentiment, { recursive: true, filter: (source) => !source.includes(".news-moe-") });
    await writeFile(join(dir, "news.json"), JSON.stringify([{ id: "a", content: CONTENT }]));
    // The user owns the cache and the output folder, not the models.
    await handOver(dir);
    for (const folder of [summarizer, join(summarizer, "onnx"), sentiment, join(sentiment, "onnx")]) await makeReadOnly(folder);
    const env = isolatedEnv(dir);
    const args = ["analyze", join(dir, "news.json"), "--summarizer-model", summarizer, "--sentiment-model", sentiment, "--offline", ...NEURAL];
    const asUser = CLI_USER ? { user: CLI_USER } : {};

    const first = await runCli([...args, "-o", join(dir, "first.json")], { cwd: dir, env, ...asUser });
    await expectCompiledRun(first, join(dir, "first.json"));
    expect((await readdir(join(summarizer, "onnx"))).filter((name) => name.includes(".news-moe-"))).toEqual([]);
    const cache = env["HF_HOME"] ?? join(dir, "hf");
    const { graphs, links } = await compiledFiles(cache);
    expect(graphs.length).toBeGreaterThanOrEqual(3);
    expect(links).toEqual([]);

    const second = await runCli([...args, "-o", join(dir, "second.json")], { cwd: dir, env, ...asUser });
    expect(second.stderr).not.toContain("compiling");
    await expectCompiledRun(second, join(dir, "second.json"));
  }, 120_000);

  it("compiled beside the models, then run where nothing can be written: the compilation is used", async () => {
    const dir = await tempDir("news-moe-prebuilt-compiled-");
    const summarizer = join(dir, "models", "summarizer");
    const sentiment = join(dir, "models", "sentiment");
    cpSync(SUMMARIZER_DIR, summarizer, { recursive: true, filter: (source) => !source.includes(".news-moe-") });
    cpSync(SENTIMENT_DIR, sentiment, { recursive: true, filter: (source) => !source.includes(".news-moe-") });
    await writeFile(join(dir, "news.json"), JSON.stringify([{ id: "a", content: CONTENT }]));
    const args = ["analyze", join(dir, "news.json"), "--summarizer-model", summarizer, "--sentiment-model", sentiment, "--offline", ...NEURAL];
    const env = isolatedEnv(dir);
    // The image build: compiled in place, by a user who may write there.
    const build = await runCli([...args, "-o", join(dir, "build.json")], { cwd: dir, env });
    expect(build.stderr).toContain("compiling the summariser's decoder");
    await expectCompiledRun(build, join(dir, "build.json"));

    // Run time: the models and the cache read-only, only the output folder writable.
    const out = join(dir, "out");
    await mkdir(out);
    await handOver(out);
    for (const folder of [dir, join(dir, "models"), summarizer, join(summarizer, "onnx"), sentiment, join(sentiment, "onnx")]) await makeReadOnly(folder);
    const asUser = CLI_USER ? { user: CLI_USER } : {};
    const run = await runCli([...args, "-o", join(out, "run.json")], { cwd: out, env, ...asUser });
    expect(run.stderr).not.toContain("compiling");
    await expectCompiledRun(run, join(out, "run.json"));
    expect(await readFile(join(out, "run.json"), "utf8")).toBe(await readFile(join(dir, "build.json"), "utf8"));
  }, 120_000);

  it("nothing compiled and nothing writable: the published graphs run, and the notice says how to get the compiled ones", async () => {
    const dir = await tempDir("news-moe-unwritable-compiled-");
    const summarizer = join(dir, "models", "summarizer");
    cpSync(SUMMARIZER_DIR, summarizer, { recursive: true, filter: (source) => !source.includes(".news-moe-") });
    await writeFile(join(dir, "news.json"), JSON.stringify([{ id: "a", content: CONTENT }]));
    const out = join(dir, "out");
    await mkdir(out);
    await handOver(out);
    for (const folder of [dir, join(dir, "models"), summarizer, join(summarizer, "onnx")]) await makeReadOnly(folder);
    const asUser = CLI_USER ? { user: CLI_USER } : {};
    const args = ["analyze", join(dir, "news.json"), "-o", join(out, "run.json"), "--summarizer-model", summarizer, "--offline", "--experts", "NewsSummarizationLLMExpert", "--max-length", "12", "--min-length", "2"];
    const run = await runCli(args, { cwd: out, env: isolatedEnv(dir), ...asUser });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/the compiled decoder is not available, so the published decoder graph runs \(slower\): neither .* nor .* can be written \(EACCES\); .*run `news-moe models pull` where the model cache can be written/);
    const [record] = JSON.parse(await readFile(join(out, "run.json"), "utf8")) as AnalysisRecord[];
    expect(typeof (record?.analyses["NewsSummarizationLLMExpert"] as { summary?: unknown }).summary).toBe("string");
  }, 120_000);
});
