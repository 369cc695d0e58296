import { describeModelNotAvailable } from "../src/cli/model-messages.js";
import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DownloadProgress } from "../src/models/hub-download.js";
import { ModelNotAvailableError, type ResolveModelOptions, resolveModel } from "../src/models/model-store.js";
import { closedPortUrl, startSilentServer } from "./helpers/fake-hub.js";
import { writeFakeModelRepo } from "./helpers/fake-model-repo.js";
import { createModelStoreSandbox, type ModelStoreSandbox } from "./helpers/model-store-env.js";

const SUMMARIZER = "Xenova/distilbart-cnn-6-6";
const CLASSIFIER = "Xenova/distilbert-base-uncased-finetuned-sst-2-english";
const FAST: ResolveModelOptions["hub"] = { retryDelayMs: 5 };

let box: ModelStoreSandbox;

beforeEach(async () => {
  box = await createModelStoreSandbox();
});

afterEach(async () => {
  await box.dispose();
});

async function publish(repoId: string, options: Parameters<typeof writeFakeModelRepo>[1], seed = "v1") {
  const dir = join(box.work, "origin", repoId, seed);
  await writeFakeModelRepo(dir, { ...options, seed });
  const commit = await box.hub.publish(repoId, dir);
  return { dir, commit };
}

function sha256(buffer: Buffer): string {
  return createHash("sha256").update(buffer).digest("hex");
}

function cacheRepoDir(repoId: string): string {
  return join(box.hubCache, `models--${repoId.replace("/", "--")}`);
}

async function expectNotAvailable(promise: Promise<unknown>): Promise<ModelNotAvailableError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ModelNotAvailableError);
  return error as ModelNotAvailableError;
}

describe("resolveModel: a fresh download", () => {
  it("fills the Hugging Face cache layout, and the snapshot works as a local model dir", async () => {
    const origin = await publish(SUMMARIZER, { kind: "seq2seq" });
    const progress: DownloadProgress[] = [];

    const model = await resolveModel(SUMMARIZER, {
      kind: "seq2seq",
      dtype: "q8",
      hub: FAST,
      onProgress: (p) => progress.push(p),
    });

    expect(model.source).toBe("download");
    expect(model.commit).toBe(origin.commit);
    expect(model.revision).toBe("main");
    const repoDir = cacheRepoDir(SUMMARIZER);
    expect(model.dir).toBe(join(repoDir, "snapshots", origin.commit));
    expect((await readFile(join(repoDir, "refs", "main"), "utf8")).trim()).toBe(origin.commit);

    // Every graph is a relative symlink to a blob named by its sha256, with identical bytes.
    if (model.files.kind !== "seq2seq") throw new Error("expected seq2seq files");
    const encoder = model.files.encoder;
    expect(relative(model.dir, encoder)).toBe(join("onnx", "encoder_model_quantized.onnx"));
    expect((await lstat(encoder)).isSymbolicLink()).toBe(true);
    const target = await readlink(encoder);
    expect(target.startsWith("../../../blobs/")).toBe(true);
    const originalEncoder = await readFile(join(origin.dir, "onnx", "encoder_model_quantized.onnx"));
    expect(target).toBe(`../../../blobs/${sha256(originalEncoder)}`);
    expect(Buffer.compare(await readFile(encoder), originalEncoder)).toBe(0);
    // Small files are named by their git blob sha1, as the hub's ETag gives it.
    const configLink = await readlink(model.files.config);
    expect(configLink).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{40}$/);

    expect(model.files.decoderMerged).toBeDefined();
    expect(model.files.generationConfig).toBeDefined();
    expect(model.files.specialTokensMap).toBeDefined();

    // Only the q8 graphs the runtime opens moved (encoder, merged decoder): no fp32 graph and no
    // split decoder pair was ever requested, though the repo has them.
    expect(box.hub.count({ method: "GET", fragment: "/cdn/" })).toBe(2);
    expect(box.hub.requests.some((r) => /decoder_(model|with_past_model)(_quantized)?\.onnx/.test(r.url))).toBe(false);
    expect(box.hub.requests.some((r) => /encoder_model\.onnx/.test(r.url))).toBe(false);
    const blobs = (await readdir(join(repoDir, "blobs"))).sort();
    expect(blobs.every((name) => /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(name))).toBe(true);
    expect(blobs).toHaveLength(7); // 5 small files + 2 q8 graphs (encoder, merged decoder)

    // Progress: every file ends "done", bytes add up.
    const done = progress.filter((p) => p.status === "done");
    expect(done.map((p) => p.file).sort()).toEqual(
      [
        "config.json",
        "generation_config.json",
        "onnx/decoder_model_merged_quantized.onnx",
        "onnx/encoder_model_quantized.onnx",
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
      ].sort(),
    );
    const encoderDone = done.find((p) => p.file === "onnx/encoder_model_quantized.onnx");
    expect(encoderDone?.bytesDone).toBe(originalEncoder.length);
    expect(encoderDone?.bytesTotal).toBe(originalEncoder.length);

    const local = await resolveModel(model.dir, { kind: "seq2seq", dtype: "q8" });
    expect(local.source).toBe("local");
    expect(local.files).toEqual(model.files);
  });

  it("infers the kind from config.json when asked for auto", async () => {
    await publish(CLASSIFIER, { kind: "classifier" });
    const model = await resolveModel(CLASSIFIER, { kind: "auto", dtype: "fp32", hub: FAST });
    expect(model.files.kind).toBe("classifier");
    if (model.files.kind !== "classifier") throw new Error("expected classifier files");
    expect(model.files.model.endsWith(join("onnx", "model.onnx"))).toBe(true);
  });

  it("keeps fp32 and q8 of the same commit side by side in one snapshot", async () => {
    const origin = await publish(CLASSIFIER, { kind: "classifier" });
    const q8 = await resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", hub: FAST });
    const fp32 = await resolveModel(CLASSIFIER, { kind: "classifier", dtype: "fp32", hub: FAST });
    expect(fp32.dir).toBe(q8.dir);
    if (q8.files.kind !== "classifier" || fp32.files.kind !== "classifier") throw new Error("expected classifiers");
    expect(q8.files.model.endsWith("model_quantized.onnx")).toBe(true);
    expect(fp32.files.model.endsWith(join("onnx", "model.onnx"))).toBe(true);
    expect((await stat(fp32.files.model)).size).toBe((await stat(join(origin.dir, "onnx", "model.onnx"))).size);
    expect((await stat(q8.files.model)).size).toBeLessThan((await stat(fp32.files.model)).size);
    // The shared small files were not fetched twice.
    expect(box.hub.count({ method: "GET", fragment: "tokenizer.json" })).toBe(1);
  });

  it("follows the hub's relative redirect for a renamed repo, caching under the requested id", async () => {
    await publish("distilbert/sst2", { kind: "classifier" });
    box.hub.rename("old-owner/sst2", "distilbert/sst2");
    const model = await resolveModel("old-owner/sst2", { kind: "classifier", dtype: "q8", hub: FAST });
    expect(model.dir.startsWith(cacheRepoDir("old-owner/sst2"))).toBe(true);
  });
});

describe("resolveModel: the cache", () => {
  it("serves a second resolve from the cache: one HEAD to check main, no downloads", async () => {
    await publish(SUMMARIZER, { kind: "seq2seq" });
    const first = await resolveModel(SUMMARIZER, { kind: "seq2seq", dtype: "q8", hub: FAST });
    box.hub.resetLog();

    const second = await resolveModel(SUMMARIZER, { kind: "seq2seq", dtype: "q8", hub: FAST });

    expect(second.source).toBe("cache");
    expect(second.dir).toBe(first.dir);
    expect(second.files).toEqual(first.files);
    expect(box.hub.count({ method: "GET" })).toBe(0);
    expect(box.hub.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `HEAD /${SUMMARIZER}/resolve/main/config.json`,
    ]);
  });

  it("makes no request at all for a commit-pinned revision that is cached", async () => {
    const { commit } = await publish(SUMMARIZER, { kind: "seq2seq" });
    await resolveModel(`${SUMMARIZER}@${commit}`, { kind: "seq2seq", dtype: "q8", hub: FAST });
    // Pinned by commit: no ref is written, the snapshot is found by its name.
    await expect(stat(join(cacheRepoDir(SUMMARIZER), "refs", "main"))).rejects.toThrow();
    box.hub.resetLog();

    const again = await resolveModel(`${SUMMARIZER}@${commit}`, { kind: "seq2seq", dtype: "q8", hub: FAST });

    expect(again.source).toBe("cache");
    expect(again.commit).toBe(commit);
    expect(box.hub.requests).toHaveLength(0);
  });

  it("moves to the new commit when main moved, re-downloading only changed files", async () => {
    const v1 = await publish(CLASSIFIER, { kind: "classifier" });
    await resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", hub: FAST });
    // v2 changes config.json and tokenizer.json (they embed the seed) but keeps v1's graphs.
    const v2dir = join(box.work, "origin", "v2");
    await writeFakeModelRepo(v2dir, { kind: "classifier", seed: "v2" });
    await rm(join(v2dir, "onnx"), { recursive: true });
    await mkdir(join(v2dir, "onnx"));
    for (const name of await readdir(join(v1.dir, "onnx"))) {
      await writeFile(join(v2dir, "onnx", name), await readFile(join(v1.dir, "onnx", name)));
    }
    const v2 = await box.hub.publish(CLASSIFIER, v2dir);
    box.hub.resetLog();

    const model = await resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", hub: FAST });

    expect(model.commit).toBe(v2);
    expect(model.source).toBe("download");
    expect((await readFile(join(cacheRepoDir(CLASSIFIER), "refs", "main"), "utf8")).trim()).toBe(v2);
    expect(box.hub.count({ method: "GET", fragment: "/cdn/" })).toBe(0); // the graph's blob was reused
    expect(box.hub.count({ method: "GET", fragment: "/config.json" })).toBe(1);
    // The old snapshot stays, for anyone pinned to it.
    await expect(stat(join(cacheRepoDir(CLASSIFIER), "snapshots", v1.commit))).resolves.toBeDefined();
  });

  it("falls back to the cached commit, with a warning, when the hub cannot be reached", async () => {
    await publish(CLASSIFIER, { kind: "classifier" });
    const first = await resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", hub: FAST });
    const warnings: string[] = [];
    const model = await resolveModel(CLASSIFIER, {
      kind: "classifier",
      dtype: "q8",
      hub: { ...FAST, endpoint: await closedPortUrl() },
      warn: (message) => warnings.push(message),
    });
    expect(model.source).toBe("cache");
    expect(model.commit).toBe(first.commit);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("could not check");
    expect(warnings[0]).toContain(first.commit);
  });

  it("reads a transformers.js cache ({cacheDir}/{owner}/{name}) without asking the hub", async () => {
    const cacheDir = join(box.work, "transformers-cache");
    await writeFakeModelRepo(join(cacheDir, "Xenova", "distilbart-cnn-6-6"), { kind: "seq2seq", dtypes: ["q8"] });
    const model = await resolveModel(SUMMARIZER, { kind: "seq2seq", dtype: "q8", cacheDir, hub: FAST });
    expect(model.source).toBe("cache");
    expect(model.dir).toBe(join(cacheDir, "Xenova", "distilbart-cnn-6-6"));
    expect(model.commit).toBeUndefined();
    expect(box.hub.requests).toHaveLength(0);
  });

  it("records optional files the repo lacks, and does not ask for them again", async () => {
    const origin = await publish(CLASSIFIER, { kind: "classifier" });
    await rm(join(origin.dir, "special_tokens_map.json"));
    const commit = await box.hub.publish(CLASSIFIER, origin.dir);

    const model = await resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", hub: FAST });
    expect(model.files.specialTokensMap).toBeUndefined();
    const marker = join(cacheRepoDir(CLASSIFIER), ".no_exist", commit, "special_tokens_map.json");
    await expect(stat(marker)).resolves.toBeDefined();
    box.hub.resetLog();

    const again = await resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", hub: FAST });
    expect(again.source).toBe("cache");
    expect(box.hub.count({ fragment: "special_tokens_map" })).toBe(0);
    expect(box.hub.requests).toHaveLength(1); // the HEAD on main
  });

  it("accepts a seq2seq repo with only the merged decoder, and names it as missing from one with only the split pair", async () => {
    await publish("a/merged-only", { kind: "seq2seq", splitDecoder: false, dtypes: ["q8"] });
    const merged = await resolveModel("a/merged-only", { kind: "seq2seq", dtype: "q8", hub: FAST });
    if (merged.files.kind !== "seq2seq") throw new Error("expected seq2seq");
    expect(merged.files.decoderMerged?.endsWith("decoder_model_merged_quantized.onnx")).toBe(true);

    await publish("a/split-only", { kind: "seq2seq", mergedDecoder: false, dtypes: ["q8"] });
    const error = await expectNotAvailable(resolveModel("a/split-only", { kind: "seq2seq", dtype: "q8", hub: FAST }));
    expect(error.message).toContain("onnx/decoder_model_merged_quantized.onnx");
  });

  it("fails naming the file when the repo lacks a required one (no q8 graphs)", async () => {
    await publish(CLASSIFIER, { kind: "classifier", dtypes: ["fp32"] });
    const error = await expectNotAvailable(resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", hub: FAST }));
    expect(error.message).toContain("onnx/model_quantized.onnx");
    expect(error.message).toContain("not found (HTTP 404)");
    expect(describeModelNotAvailable(error)).toContain(`news-moe models pull ${CLASSIFIER} --dtype q8`);
    await expect(stat(join(cacheRepoDir(CLASSIFIER), "refs", "main"))).rejects.toThrow();
  });
});

describe("resolveModel: offline", () => {
  it("resolves from the cache with zero requests when HF_HUB_OFFLINE=1", async () => {
    await publish(SUMMARIZER, { kind: "seq2seq" });
    const online = await resolveModel(SUMMARIZER, { kind: "seq2seq", dtype: "q8", hub: FAST });
    box.hub.resetLog();
    process.env["HF_HUB_OFFLINE"] = "1";

    const offline = await resolveModel(SUMMARIZER, { kind: "seq2seq", dtype: "q8", hub: FAST });

    expect(offline.source).toBe("cache");
    expect(offline.files).toEqual(online.files);
    expect(box.hub.requests).toHaveLength(0);
  });

  it("fails with a message naming the model, the paths looked at and how to get it", async () => {
    await publish(SUMMARIZER, { kind: "seq2seq" });
    process.env["TRANSFORMERS_OFFLINE"] = "1";

    const error = await expectNotAvailable(resolveModel(SUMMARIZER, { kind: "seq2seq", dtype: "q8", hub: FAST }));

    expect(box.hub.requests).toHaveLength(0);
    expect(error.message).toContain(`Model ${SUMMARIZER}`);
    expect(error.message).toContain("offline mode is on");
    expect(error.message).toContain(join(cacheRepoDir(SUMMARIZER), "refs", "main"));
    expect(error.message).toContain("onnx/encoder_model_quantized.onnx");
    expect(describeModelNotAvailable(error)).toContain(`news-moe models pull ${SUMMARIZER} --dtype q8`);
    expect(describeModelNotAvailable(error)).toContain("--summarizer-model DIR");
    expect(error.message).toContain("TRANSFORMERS_OFFLINE=1");
    expect(error.lookedIn).toContain(`${join(cacheRepoDir(SUMMARIZER), "refs", "main")} (no such ref)`);
  });

  it("names the incomplete snapshot and its missing files when only fp32 is cached", async () => {
    await publish(CLASSIFIER, { kind: "classifier" });
    const fp32 = await resolveModel(CLASSIFIER, { kind: "classifier", dtype: "fp32", hub: FAST });
    box.hub.resetLog();

    const error = await expectNotAvailable(
      resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", offline: true, offlineLabel: "--offline", hub: FAST }),
    );

    expect(box.hub.requests).toHaveLength(0);
    expect(error.missing).toEqual(["onnx/model_quantized.onnx"]);
    expect(error.message).toContain(`${fp32.dir} (incomplete)`);
    expect(describeModelNotAvailable(error)).toContain("--sentiment-model DIR");
    expect(describeModelNotAvailable(error)).toContain("--offline");
  });
});

describe("resolveModel: failures on the wire", () => {
  it("resumes a transfer cut half-way with a Range request, and the result verifies", async () => {
    const origin = await publish(CLASSIFIER, { kind: "classifier" });
    box.hub.faults.cutHalfway.set("onnx/model_quantized.onnx", 1);

    const model = await resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", hub: FAST });

    if (model.files.kind !== "classifier") throw new Error("expected classifier");
    const original = await readFile(join(origin.dir, "onnx", "model_quantized.onnx"));
    expect(Buffer.compare(await readFile(model.files.model), original)).toBe(0);
    const cdnGets = box.hub.requests.filter((r) => r.method === "GET" && r.url.startsWith("/cdn/"));
    expect(cdnGets).toHaveLength(2);
    expect(cdnGets[0]?.range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(cdnGets[1]?.range ?? "")?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThan(original.length);
  });

  it("keeps resuming as long as each attempt advances, beyond the retry limit", async () => {
    const origin = await publish(CLASSIFIER, { kind: "classifier" });
    box.hub.faults.cutHalfway.set("onnx/model_quantized.onnx", 3);

    const model = await resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", hub: { ...FAST, maxRetries: 1 } });

    if (model.files.kind !== "classifier") throw new Error("expected classifier");
    const original = await readFile(join(origin.dir, "onnx", "model_quantized.onnx"));
    expect(Buffer.compare(await readFile(model.files.model), original)).toBe(0);
    const offsets = box.hub.requests
      .filter((r) => r.method === "GET" && r.url.startsWith("/cdn/"))
      .map((r) => Number(/^bytes=(\d+)-$/.exec(r.range ?? "bytes=0-")?.[1]));
    expect(offsets).toHaveLength(4);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b)); // every attempt started further on
  });

  it("resumes a partial file left by an earlier run that gave up", async () => {
    const origin = await publish(CLASSIFIER, { kind: "classifier" });
    box.hub.faults.cutHalfway.set("onnx/model_quantized.onnx", 1);
    const original = await readFile(join(origin.dir, "onnx", "model_quantized.onnx"));
    const etag = sha256(original);

    const error = await expectNotAvailable(
      resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", hub: { ...FAST, maxRetries: 0 } }),
    );
    expect(error.message).toContain("connection");
    const partial = join(cacheRepoDir(CLASSIFIER), "blobs", `${etag}.incomplete`);
    const partialSize = (await stat(partial)).size;
    expect(partialSize).toBeGreaterThan(0);
    expect(partialSize).toBeLessThan(original.length);
    box.hub.resetLog();

    const model = await resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", hub: FAST });

    expect(box.hub.requests.find((r) => r.url === `/cdn/${etag}`)?.range).toBe(`bytes=${partialSize}-`);
    if (model.files.kind !== "classifier") throw new Error("expected classifier");
    expect(sha256(await readFile(model.files.model))).toBe(etag);
    await expect(stat(partial)).rejects.toThrow();
  });

  it("resumes a transfer that stalls half-way, once the stall timeout passes", async () => {
    const origin = await publish(CLASSIFIER, { kind: "classifier" });
    box.hub.faults.stallHalfway.set("onnx/model_quantized.onnx", 1);
    const started = Date.now();

    const model = await resolveModel(CLASSIFIER, {
      kind: "classifier",
      dtype: "q8",
      hub: { ...FAST, stallTimeoutMs: 300 },
    });

    expect(Date.now() - started).toBeLessThan(5_000);
    if (model.files.kind !== "classifier") throw new Error("expected classifier");
    const original = await readFile(join(origin.dir, "onnx", "model_quantized.onnx"));
    expect(Buffer.compare(await readFile(model.files.model), original)).toBe(0);
    const cdnGets = box.hub.requests.filter((r) => r.method === "GET" && r.url.startsWith("/cdn/"));
    expect(cdnGets.map((r) => r.range === undefined)).toEqual([true, false]);
  });

  it("starts over when the server ignores Range and sends the whole file", async () => {
    const origin = await publish(CLASSIFIER, { kind: "classifier" });
    box.hub.faults.cutHalfway.set("onnx/model_quantized.onnx", 1);
    box.hub.faults.ignoreRange.add("onnx/model_quantized.onnx");

    const model = await resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", hub: FAST });

    if (model.files.kind !== "classifier") throw new Error("expected classifier");
    const original = await readFile(join(origin.dir, "onnx", "model_quantized.onnx"));
    expect(Buffer.compare(await readFile(model.files.model), original)).toBe(0);
    const cdnGets = box.hub.requests.filter((r) => r.method === "GET" && r.url.startsWith("/cdn/"));
    expect(cdnGets).toHaveLength(2);
    expect(cdnGets[1]?.range).toMatch(/^bytes=\d+-$/); // asked to resume, got the whole file, kept it whole
  });

  it("rejects bytes whose sha256 does not match, storing nothing", async () => {
    const origin = await publish(CLASSIFIER, { kind: "classifier" });
    box.hub.faults.corrupt.add("onnx/model_quantized.onnx");
    const etag = sha256(await readFile(join(origin.dir, "onnx", "model_quantized.onnx")));

    const error = await expectNotAvailable(resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", hub: FAST }));

    expect(error.message).toContain("sha256");
    expect(error.message).toContain(etag);
    const blobs = await readdir(join(cacheRepoDir(CLASSIFIER), "blobs"));
    expect(blobs.filter((name) => name.startsWith(etag))).toEqual([]);
    await expect(stat(join(cacheRepoDir(CLASSIFIER), "refs", "main"))).rejects.toThrow();
  });

  it("retries 503s with backoff and then succeeds", async () => {
    await publish(CLASSIFIER, { kind: "classifier" });
    box.hub.faults.unavailable.set("*", 2);
    const model = await resolveModel(CLASSIFIER, { kind: "classifier", dtype: "q8", hub: FAST });
    expect(model.source).toBe("download");
    expect(box.hub.count({ method: "HEAD", fragment: "/config.json" })).toBe(3);
  });

  it("fails fast and clearly when the endpoint refuses connections", async () => {
    process.env["HF_ENDPOINT"] = await closedPortUrl();
    const started = Date.now();
    const error = await expectNotAvailable(resolveModel(SUMMARIZER, { kind: "seq2seq", dtype: "q8" }));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(error.message).toContain("cannot reach 127.0.0.1");
    expect(error.message).toContain("ECONNREFUSED");
    expect(describeModelNotAvailable(error)).toContain(`news-moe models pull ${SUMMARIZER}`);
  });

  it("gives up on a hub that accepts connections but never answers, within the timeout", async () => {
    const silent = await startSilentServer();
    try {
      const started = Date.now();
      const error = await expectNotAvailable(
        resolveModel(SUMMARIZER, { kind: "seq2seq", dtype: "q8", hub: { endpoint: silent.url, timeoutMs: 500 } }),
      );
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(error.message).toContain("no answer from 127.0.0.1");
      expect(error.message).toContain("within 0.5 s");
    } finally {
      await silent.close();
    }
  });

  it("takes the answer deadline from HF_HUB_ETAG_TIMEOUT", async () => {
    const silent = await startSilentServer();
    try {
      process.env["HF_ENDPOINT"] = silent.url;
      process.env["HF_HUB_ETAG_TIMEOUT"] = "0.3";
      const started = Date.now();
      const error = await expectNotAvailable(resolveModel(SUMMARIZER, { kind: "seq2seq", dtype: "q8" }));
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(error.message).toContain("within 0.3 s");
    } finally {
      delete process.env["HF_HUB_ETAG_TIMEOUT"];
      await silent.close();
    }
  });

  it("explains gated repos and HF_TOKEN, and downloads once the token is set", async () => {
    const dir = join(box.work, "gated");
    await writeFakeModelRepo(dir, { kind: "classifier", dtypes: ["q8"] });
    await box.hub.publish("meta/gated-model", dir, { gatedToken: "hf_secret" });

    const denied = await expectNotAvailable(resolveModel("meta/gated-model", { kind: "classifier", dtype: "q8", hub: FAST }));
    expect(denied.message).toContain("HTTP 401");
    expect(denied.message).toContain("gated");
    expect(denied.message).toContain("no HF_TOKEN is set");
    expect(box.hub.requests).toHaveLength(1); // 401 is not retried

    process.env["HF_TOKEN"] = "hf_wrong";
    const wrong = await expectNotAvailable(resolveModel("meta/gated-model", { kind: "classifier", dtype: "q8", hub: FAST }));
    expect(wrong.message).toContain("HTTP 403");
    expect(wrong.message).toContain("HF_TOKEN is set, but its account has no access");

    process.env["HF_TOKEN"] = "hf_secret";
    const model = await resolveModel("meta/gated-model", { kind: "classifier", dtype: "q8", hub: FAST });
    expect(model.source).toBe("download");
    expect(box.hub.requests.at(-1)?.authorization).toBe("Bearer hf_secret");
  });

  it("says the repository does not exist (or is private) for an unknown id", async () => {
    const error = await expectNotAvailable(resolveModel("nobody/nothing", { kind: "classifier", dtype: "q8", hub: FAST }));
    expect(error.message).toContain("does not exist, or it is private or gated");
    expect(error.message).toContain("Repository not found");
  });

  it("downloads each blob once when two resolves of the same model race", async () => {
    await publish(SUMMARIZER, { kind: "seq2seq" });
    const [a, b] = await Promise.all([
      resolveModel(SUMMARIZER, { kind: "seq2seq", dtype: "q8", hub: FAST }),
      resolveModel(SUMMARIZER, { kind: "seq2seq", dtype: "q8", hub: FAST }),
    ]);
    expect(a.files).toEqual(b.files);
    const gets = box.hub.requests.filter((r) => r.method === "GET" && r.url.startsWith("/cdn/")).map((r) => r.url);
    // The two graphs of the plan (encoder, merged decoder), each fetched once.
    expect(new Set(gets).size).toBe(2);
    expect(gets).toHaveLength(2);
  });

  it("stops on abort with the abort reason, not a model error", async () => {
    await publish(SUMMARIZER, { kind: "seq2seq" });
    const controller = new AbortController();
    const promise = resolveModel(SUMMARIZER, {
      kind: "seq2seq",
      dtype: "q8",
      hub: FAST,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.status === "downloading" && p.file.endsWith(".onnx")) controller.abort(new Error("user pressed Ctrl-C"));
      },
    });
    await expect(promise).rejects.toThrow("user pressed Ctrl-C");
  });
});

describe("resolveModel: local directories", () => {
  it("accepts absolute, ./relative and bare existing paths", async () => {
    const dir = join(box.work, "models", "sst2");
    await writeFakeModelRepo(dir, { kind: "classifier", dtypes: ["q8"] });
    const absolute = await resolveModel(dir, { kind: "classifier", dtype: "q8" });
    expect(absolute.source).toBe("local");
    expect(absolute.dir).toBe(dir);
    const dotted = await resolveModel("./models/sst2", { kind: "classifier", dtype: "q8", cwd: box.work });
    expect(dotted.dir).toBe(dir);
    const bare = await resolveModel("models/sst2", { kind: "auto", dtype: "q8", cwd: box.work });
    expect(bare.dir).toBe(dir);
    expect(box.hub.requests).toHaveLength(0);
  });

  it("reports a missing directory, and the missing files of an incomplete one", async () => {
    const missing = await expectNotAvailable(resolveModel("./no/such/dir", { kind: "seq2seq", dtype: "q8", cwd: box.work }));
    expect(missing.message).toContain("that directory does not exist");
    expect(missing.message).toContain(resolve(box.work, "no/such/dir"));

    const dir = join(box.work, "partial");
    await writeFakeModelRepo(dir, { kind: "seq2seq", dtypes: ["fp32"], mergedDecoder: false, splitDecoder: false });
    // No decoder at all: the merged one is missing, or the split pair in its place.
    const incomplete = await expectNotAvailable(resolveModel(dir, { kind: "seq2seq", dtype: "fp32" }));
    expect(incomplete.missing).toEqual(["onnx/decoder_model_merged.onnx (or onnx/decoder_model.onnx with onnx/decoder_with_past_model.onnx)"]);
    expect(incomplete.message).toContain(dir);
    expect(box.hub.requests).toHaveLength(0);
  });

  it("rejects a spec that is neither a directory nor a hub id", async () => {
    const error = await expectNotAvailable(resolveModel("not a/valid/id", { kind: "seq2seq", dtype: "q8", cwd: box.work }));
    expect(error.message).toContain("neither an existing directory nor a hub id");
  });
});
