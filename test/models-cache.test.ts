import { spawn } from "node:child_process";
import { lstat, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { withFileLock } from "../src/models/file-lock.js";
import {
  HubCacheRepo,
  listCachedModels,
  onnxDtypeVariants,
  repoFolderName,
  repoIdFromFolderName,
  transformersJsModelDir,
} from "../src/models/hub-cache.js";

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "news-moe-cache-"));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const COMMIT = "a".repeat(40);

async function putBlob(repo: HubCacheRepo, etag: string, content: string): Promise<void> {
  await mkdir(repo.blobsDir, { recursive: true });
  await writeFile(repo.blobPath(etag), content);
}

describe("HubCacheRepo", () => {
  it("names folders as huggingface_hub does", () => {
    expect(repoFolderName("Xenova/distilbart-cnn-6-6")).toBe("models--Xenova--distilbart-cnn-6-6");
    expect(repoFolderName("gpt2")).toBe("models--gpt2");
    expect(repoIdFromFolderName("models--Xenova--distilbart-cnn-6-6")).toBe("Xenova/distilbart-cnn-6-6");
    expect(repoIdFromFolderName("datasets--x--y")).toBeUndefined();
    expect(new HubCacheRepo(root, "a/b").refPath("refs/pr/1")).toBe(join(root, "models--a--b", "refs", "refs", "pr", "1"));
  });

  it("links snapshot files relatively to their blob, replacing a dangling link", async () => {
    const repo = new HubCacheRepo(root, "a/b");
    await putBlob(repo, "e1", "graph bytes");
    expect(await repo.linkSnapshotFile(COMMIT, "onnx/model.onnx", "gone")).toBe("symlink"); // dangling
    expect(await repo.linkSnapshotFile(COMMIT, "onnx/model.onnx", "e1")).toBe("symlink");
    const pointer = repo.snapshotFile(COMMIT, "onnx/model.onnx");
    expect(await readFile(pointer, "utf8")).toBe("graph bytes");
  });

  it("copies the blob where the filesystem refuses symlinks", async () => {
    const repo = new HubCacheRepo(root, "a/b");
    await putBlob(repo, "e1", "graph bytes");
    const refuse = async () => {
      throw Object.assign(new Error("operation not permitted"), { code: "EPERM" });
    };
    expect(await repo.linkSnapshotFile(COMMIT, "config.json", "e1", { symlink: refuse })).toBe("copy");
    const pointer = repo.snapshotFile(COMMIT, "config.json");
    expect((await lstat(pointer)).isSymbolicLink()).toBe(false);
    expect(await readFile(pointer, "utf8")).toBe("graph bytes");
  });

  it("writes refs atomically and ignores refs that hold no commit", async () => {
    const repo = new HubCacheRepo(root, "a/b");
    expect(await repo.commitFor("main")).toBeUndefined();
    await repo.writeRef("main", COMMIT);
    expect(await repo.commitFor("main")).toBe(COMMIT);
    expect(await repo.commitFor(COMMIT)).toBe(COMMIT);
    await writeFile(repo.refPath("main"), "garbage");
    expect(await repo.readRef("main")).toBeUndefined();
  });

  it("marks files known to be absent upstream", async () => {
    const repo = new HubCacheRepo(root, "a/b");
    expect(await repo.isMarkedMissing(COMMIT, "onnx/decoder_model.onnx")).toBe(false);
    await repo.markMissing(COMMIT, "onnx/decoder_model.onnx");
    expect(await repo.isMarkedMissing(COMMIT, "onnx/decoder_model.onnx")).toBe(true);
    expect((await stat(join(root, "models--a--b", ".no_exist", COMMIT, "onnx", "decoder_model.onnx"))).size).toBe(0);
  });
});

describe("listCachedModels", () => {
  it("lists hub-layout repos with refs, files, sizes and precisions, counting shared blobs once", async () => {
    const repo = new HubCacheRepo(root, "Xenova/bart");
    await putBlob(repo, "c".repeat(40), "{}");
    await putBlob(repo, "d".repeat(64), "x".repeat(1000));
    await putBlob(repo, "f".repeat(64), "y".repeat(4000));
    await writeFile(`${repo.blobPath("9".repeat(64))}.incomplete`, "partial");
    const other = "b".repeat(40);
    for (const commit of [COMMIT, other]) {
      await repo.linkSnapshotFile(commit, "config.json", "c".repeat(40));
      await repo.linkSnapshotFile(commit, "onnx/encoder_model_quantized.onnx", "d".repeat(64));
    }
    await repo.linkSnapshotFile(COMMIT, "onnx/encoder_model.onnx", "f".repeat(64));
    await repo.writeRef("main", COMMIT);
    await mkdir(join(root, ".locks"), { recursive: true });

    const [model, ...rest] = await listCachedModels(root);

    expect(rest).toEqual([]);
    expect(model).toMatchObject({ repoId: "Xenova/bart", layout: "hub", sizeOnDisk: 2 + 1000 + 4000 });
    expect(model?.snapshots.map((s) => [s.id, s.refs, s.dtypeVariants])).toEqual([
      [COMMIT, ["main"], ["fp32", "q8"]],
      [other, [], ["q8"]],
    ]);
    expect(model?.snapshots[0]?.files).toEqual([
      { path: "config.json", size: 2 },
      { path: "onnx/encoder_model.onnx", size: 4000 },
      { path: "onnx/encoder_model_quantized.onnx", size: 1000 },
    ]);
  });

  it("lists transformers.js-layout models only when asked, owner-less ids and revisions included", async () => {
    await mkdir(join(root, "Xenova", "sst2", "onnx"), { recursive: true });
    await writeFile(join(root, "Xenova", "sst2", "config.json"), "{}");
    await writeFile(join(root, "Xenova", "sst2", "onnx", "model_fp16.onnx"), "zz");
    await mkdir(transformersJsModelDir(root, "Xenova/sst2", "v2"), { recursive: true });
    await writeFile(join(transformersJsModelDir(root, "Xenova/sst2", "v2"), "config.json"), "{}");
    await mkdir(join(root, "gpt2"), { recursive: true });
    await writeFile(join(root, "gpt2", "config.json"), "{}");

    expect(await listCachedModels(root)).toEqual([]);
    const models = await listCachedModels(root, true);
    expect(models.map((m) => [m.repoId, m.layout, m.snapshots.map((s) => s.id)])).toEqual([
      ["gpt2", "transformers.js", ["main"]],
      ["Xenova/sst2", "transformers.js", ["main", "v2"]],
    ]);
    expect(models[1]?.snapshots[0]?.files.map((f) => f.path)).toEqual(["config.json", "onnx/model_fp16.onnx"]);
    expect(models[1]?.snapshots[0]?.dtypeVariants).toEqual(["fp16"]);
  });

  it("names precision variants in the transformers.js naming", () => {
    expect(
      onnxDtypeVariants(["onnx/model_q4f16.onnx", "onnx/model_q4.onnx", "onnx/model.onnx", "config.json", "onnx/model_int8.onnx"]),
    ).toEqual(["fp32", "int8", "q4f16", "q4"]);
  });
});

describe("withFileLock", () => {
  it("runs holders one after the other within a process", async () => {
    const lock = join(root, ".locks", "x.lock");
    const events: string[] = [];
    const holder = (name: string) =>
      withFileLock(
        lock,
        async () => {
          events.push(`${name} in`);
          await new Promise((resolve) => setTimeout(resolve, 50));
          events.push(`${name} out`);
        },
        { pollMs: 10 },
      );
    await Promise.all([holder("a"), holder("b")]);
    // One holder at a time; which of the two racing callers gets the lock first is not promised.
    const first = events[0]?.startsWith("a") ? "a" : "b";
    const second = first === "a" ? "b" : "a";
    expect(events).toEqual([`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
    await expect(stat(lock)).rejects.toThrow();
  });

  it("takes over a lock whose owner process is dead", async () => {
    const lock = join(root, ".locks", "y.lock");
    // A real pid that is certainly gone: a child that has exited.
    const child = spawn(process.execPath, ["-e", ""]);
    const deadPid = await new Promise<number>((resolve) => child.on("exit", () => resolve(child.pid ?? -1)));
    await mkdir(join(root, ".locks"), { recursive: true });
    await writeFile(lock, `${deadPid}\n`);
    let waited = false;
    const result = await withFileLock(lock, async () => "ran", { pollMs: 10, onWait: () => (waited = true) });
    expect(result).toBe("ran");
    expect(waited).toBe(true);
  });

  it("waits for a live owner in another process", async () => {
    const lock = join(root, ".locks", "z.lock");
    await mkdir(join(root, ".locks"), { recursive: true });
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 400)"]);
    await writeFile(lock, `${child.pid}\n`);
    const released = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    // The owner "releases" by exiting; the lock is then stale and taken over.
    const started = Date.now();
    await withFileLock(lock, async () => undefined, { pollMs: 20 });
    await released;
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
