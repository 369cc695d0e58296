import { mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  defaultHubCacheDir,
  hubEndpoint,
  hubTimeoutsFromEnv,
  hubToken,
  isTruthyEnv,
  offlineEnvVar,
} from "../src/models/hub-env.js";
import {
  inferModelKind,
  inspectModelDir,
  missingFromPlan,
  modelFilePlan,
  planPaths,
} from "../src/models/model-files.js";
import { InvalidModelSpecError, isCommitHash, parseModelSpec } from "../src/models/model-spec.js";
import { writeFakeModelRepo } from "./helpers/fake-model-repo.js";

let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "news-moe-files-"));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("modelFilePlan", () => {
  it("plans a classifier: tokenizer files and one graph per dtype", () => {
    expect(modelFilePlan("classifier", "fp32")).toEqual({
      kind: "classifier",
      dtype: "fp32",
      required: ["config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model.onnx"],
      optional: ["special_tokens_map.json"],
      alternatives: {},
    });
    expect(modelFilePlan("classifier", "q8").required).toContain("onnx/model_quantized.onnx");
  });

  it("plans distilbart fp32: config, generation config, tokenizer files, the encoder and the merged decoder only", () => {
    const plan = modelFilePlan("seq2seq", "fp32");
    expect(plan.required).toEqual([
      "config.json",
      "tokenizer.json",
      "tokenizer_config.json",
      "onnx/encoder_model.onnx",
      "onnx/decoder_model_merged.onnx",
    ]);
    expect(plan.optional).toEqual(["generation_config.json", "special_tokens_map.json"]);
    // The split pair is never downloaded: it only stands in for the merged graph in a directory that has it.
    expect(planPaths(plan).filter((path) => /decoder_model\.onnx|decoder_with_past/.test(path))).toEqual([]);
    expect(plan.alternatives).toEqual({ "onnx/decoder_model_merged.onnx": ["onnx/decoder_model.onnx", "onnx/decoder_with_past_model.onnx"] });
  });

  it("plans distilbart q8: the same files with the _quantized graphs", () => {
    const plan = modelFilePlan("seq2seq", "q8");
    expect(planPaths(plan)).toEqual([
      "config.json",
      "tokenizer.json",
      "tokenizer_config.json",
      "onnx/encoder_model_quantized.onnx",
      "onnx/decoder_model_merged_quantized.onnx",
      "generation_config.json",
      "special_tokens_map.json",
    ]);
  });

  it("says what is missing, naming the split decoder pair as the merged decoder's stand-in", () => {
    const plan = modelFilePlan("seq2seq", "fp32");
    // Half of the split pair does not stand in for the merged decoder.
    const present = new Set(["config.json", "tokenizer.json", "onnx/decoder_model.onnx"]);
    expect(missingFromPlan(plan, present)).toEqual([
      "tokenizer_config.json",
      "onnx/encoder_model.onnx",
      "onnx/decoder_model_merged.onnx (or onnx/decoder_model.onnx with onnx/decoder_with_past_model.onnx)",
    ]);
    // The whole pair does (a directory from an exporter that writes no merged graph).
    present.add("onnx/decoder_with_past_model.onnx");
    expect(missingFromPlan(plan, present)).toEqual(["tokenizer_config.json", "onnx/encoder_model.onnx"]);
  });
});

describe("inspectModelDir", () => {
  it("returns absolute paths of a complete seq2seq dir, the encoder and the merged decoder", async () => {
    await writeFakeModelRepo(work, { kind: "seq2seq", dtypes: ["q8"] });
    const inspection = await inspectModelDir(work, modelFilePlan("seq2seq", "q8"));
    expect(inspection.missing).toEqual([]);
    expect(inspection.files).toEqual({
      kind: "seq2seq",
      dtype: "q8",
      dir: work,
      config: join(work, "config.json"),
      tokenizer: join(work, "tokenizer.json"),
      tokenizerConfig: join(work, "tokenizer_config.json"),
      generationConfig: join(work, "generation_config.json"),
      specialTokensMap: join(work, "special_tokens_map.json"),
      encoder: join(work, "onnx", "encoder_model_quantized.onnx"),
      decoderMerged: join(work, "onnx", "decoder_model_merged_quantized.onnx"),
    });
  });

  it("leaves absent optional files out of the object, and needs no split pair", async () => {
    await writeFakeModelRepo(work, { kind: "seq2seq", dtypes: ["fp32"], generationConfig: false });
    await rm(join(work, "special_tokens_map.json"));
    await rm(join(work, "onnx", "decoder_with_past_model.onnx"));
    await rm(join(work, "onnx", "decoder_model.onnx"));
    const { files } = await inspectModelDir(work, modelFilePlan("seq2seq", "fp32"));
    expect(files).toBeDefined();
    expect(files && "generationConfig" in files).toBe(false);
    expect(files && "specialTokensMap" in files).toBe(false);
    expect(files?.kind === "seq2seq" ? files.decoderMerged : undefined).toBe(join(work, "onnx", "decoder_model_merged.onnx"));
  });

  it("accepts a seq2seq dir with the split decoder pair instead of the merged decoder", async () => {
    await writeFakeModelRepo(work, { kind: "seq2seq", dtypes: ["fp32"], mergedDecoder: false });
    const { files, missing } = await inspectModelDir(work, modelFilePlan("seq2seq", "fp32"));
    expect(missing).toEqual([]);
    expect(files?.kind === "seq2seq" ? files.splitDecoder : undefined).toEqual({
      decoder: join(work, "onnx", "decoder_model.onnx"),
      decoderWithPast: join(work, "onnx", "decoder_with_past_model.onnx"),
    });
    expect(files && "decoderMerged" in files).toBe(false);
  });

  it("counts a dangling symlink (blob deleted) as missing", async () => {
    await writeFakeModelRepo(work, { kind: "classifier", dtypes: ["q8"] });
    await rm(join(work, "onnx", "model_quantized.onnx"));
    await symlink("../../blobs/gone", join(work, "onnx", "model_quantized.onnx"));
    const inspection = await inspectModelDir(work, modelFilePlan("classifier", "q8"));
    expect(inspection.files).toBeUndefined();
    expect(inspection.missing).toEqual(["onnx/model_quantized.onnx"]);
  });

  it("does not take a directory named like a file for the file", async () => {
    await writeFakeModelRepo(work, { kind: "classifier", dtypes: ["fp32"] });
    await rm(join(work, "tokenizer.json"));
    await mkdir(join(work, "tokenizer.json"));
    expect((await inspectModelDir(work, modelFilePlan("classifier", "fp32"))).missing).toEqual(["tokenizer.json"]);
  });
});

describe("inferModelKind", () => {
  it("reads the kind from real-world-shaped configs", () => {
    expect(inferModelKind({ model_type: "bart", is_encoder_decoder: true })).toBe("seq2seq");
    expect(inferModelKind({ architectures: ["T5ForConditionalGeneration"] })).toBe("seq2seq");
    expect(inferModelKind({ architectures: ["DistilBertForSequenceClassification"] })).toBe("classifier");
    expect(inferModelKind({ model_type: "distilbert", id2label: { 0: "NEGATIVE", 1: "POSITIVE" } })).toBe("classifier");
    expect(inferModelKind({ model_type: "gpt2" })).toBeUndefined();
    expect(inferModelKind("nonsense")).toBeUndefined();
  });
});

describe("parseModelSpec", () => {
  it("reads hub ids with and without a revision", () => {
    expect(parseModelSpec("Xenova/distilbart-cnn-6-6", work)).toEqual({
      type: "hub",
      spec: "Xenova/distilbart-cnn-6-6",
      repoId: "Xenova/distilbart-cnn-6-6",
      revision: "main",
      revisionGiven: false,
    });
    expect(parseModelSpec("gpt2@v1.0", work)).toMatchObject({ type: "hub", repoId: "gpt2", revision: "v1.0" });
    expect(parseModelSpec("a/b@refs/pr/1", work)).toMatchObject({ repoId: "a/b", revision: "refs/pr/1" });
  });

  it("treats path-shaped specs as local even when missing, and existing relative paths as local", async () => {
    expect(parseModelSpec("./models/bart", work)).toEqual({ type: "local", spec: "./models/bart", path: join(work, "models/bart") });
    expect(parseModelSpec("../bart", work)).toMatchObject({ type: "local" });
    expect(parseModelSpec("/opt/models/bart", work)).toMatchObject({ type: "local", path: "/opt/models/bart" });
    expect(parseModelSpec("~/models/bart", work)).toMatchObject({ type: "local", path: join(homedir(), "models/bart") });
    await mkdir(join(work, "Xenova", "distilbart-cnn-6-6"), { recursive: true });
    expect(parseModelSpec("Xenova/distilbart-cnn-6-6", work)).toMatchObject({
      type: "local",
      path: join(work, "Xenova", "distilbart-cnn-6-6"),
    });
  });

  it("rejects what is neither", () => {
    for (const bad of ["", "a/b/c", "has space/x", "a--b/c", "a/b@", "a/b@../x", "-a/b"]) {
      expect(() => parseModelSpec(bad, work), bad).toThrow(InvalidModelSpecError);
    }
  });

  it("knows a full commit hash from a branch", () => {
    expect(isCommitHash("0123456789abcdef0123456789abcdef01234567")).toBe(true);
    expect(isCommitHash("main")).toBe(false);
    expect(isCommitHash("0123456")).toBe(false);
  });
});

describe("hub environment", () => {
  it("finds the cache the way huggingface_hub does", () => {
    expect(defaultHubCacheDir({ HF_HUB_CACHE: "/x/hub", HF_HOME: "/y" })).toBe("/x/hub");
    expect(defaultHubCacheDir({ HUGGINGFACE_HUB_CACHE: "/legacy" })).toBe("/legacy");
    expect(defaultHubCacheDir({ HF_HOME: "/y" })).toBe("/y/hub");
    expect(defaultHubCacheDir({ XDG_CACHE_HOME: "/xdg" })).toBe("/xdg/huggingface/hub");
    expect(defaultHubCacheDir({})).toBe(join(homedir(), ".cache", "huggingface", "hub"));
    expect(defaultHubCacheDir({ HF_HOME: "~/hf" })).toBe(join(homedir(), "hf", "hub"));
  });

  it("reads endpoint, token and offline switches", () => {
    expect(hubEndpoint({})).toBe("https://huggingface.co");
    expect(hubEndpoint({ HF_ENDPOINT: "https://hf-mirror.com/" })).toBe("https://hf-mirror.com");
    expect(hubToken({ HF_TOKEN: " hf_abc\n" })).toBe("hf_abc");
    expect(hubToken({ HUGGING_FACE_HUB_TOKEN: "hf_old" })).toBe("hf_old");
    expect(hubToken({ HF_TOKEN: "" })).toBeUndefined();
    expect(offlineEnvVar({ HF_HUB_OFFLINE: "true" })).toBe("HF_HUB_OFFLINE");
    expect(offlineEnvVar({ TRANSFORMERS_OFFLINE: "1" })).toBe("TRANSFORMERS_OFFLINE");
    expect(offlineEnvVar({ HF_HUB_OFFLINE: "0" })).toBeUndefined();
    expect(isTruthyEnv("Yes")).toBe(true);
    expect(isTruthyEnv("no")).toBe(false);
    expect(hubTimeoutsFromEnv({ HF_HUB_ETAG_TIMEOUT: "2.5", HF_HUB_DOWNLOAD_TIMEOUT: "60" })).toEqual({
      timeoutMs: 2_500,
      stallTimeoutMs: 60_000,
    });
    expect(hubTimeoutsFromEnv({ HF_HUB_ETAG_TIMEOUT: "soon" })).toEqual({});
  });
});

describe("fake model repo helper", () => {
  it("writes the published layout with deterministic bytes", async () => {
    const paths = await writeFakeModelRepo(work, { kind: "classifier", dtypes: ["q8"], graphBytes: 4_000 });
    expect(paths).toContain("onnx/model_quantized.onnx");
    const again = join(work, "again");
    await writeFakeModelRepo(again, { kind: "classifier", dtypes: ["q8"], graphBytes: 4_000 });
    expect(await readFile(join(again, "onnx", "model_quantized.onnx"))).toEqual(
      await readFile(join(work, "onnx", "model_quantized.onnx")),
    );
  });
});
