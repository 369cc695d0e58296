import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeHub } from "./fake-hub.js";

const HUB_VARIABLES = [
  "HF_ENDPOINT",
  "HF_HOME",
  "HF_HUB_CACHE",
  "HUGGINGFACE_HUB_CACHE",
  "HF_HUB_OFFLINE",
  "TRANSFORMERS_OFFLINE",
  "HF_TOKEN",
  "HUGGING_FACE_HUB_TOKEN",
  "XDG_CACHE_HOME",
  "HF_HUB_ETAG_TIMEOUT",
  "HF_HUB_DOWNLOAD_TIMEOUT",
];

export interface ModelStoreSandbox {
  hub: FakeHub;
  /** Scratch dir for the test: repos to publish, local model dirs. */
  work: string;
  /** `$HF_HOME`; the hub cache is `${hfHome}/hub`. */
  hfHome: string;
  hubCache: string;
  dispose(): Promise<void>;
}

/**
 * A fake hub on localhost plus a private HF_HOME, with every Hugging Face variable of the outer
 * environment cleared so a developer's own cache or token can never leak into a test.
 */
export async function createModelStoreSandbox(): Promise<ModelStoreSandbox> {
  const saved = new Map(HUB_VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of HUB_VARIABLES) delete process.env[name];
  const work = await mkdtemp(join(tmpdir(), "news-moe-models-"));
  const hub = await FakeHub.start();
  const hfHome = join(work, "hf-home");
  process.env["HF_ENDPOINT"] = hub.url;
  process.env["HF_HOME"] = hfHome;
  return {
    hub,
    work,
    hfHome,
    hubCache: join(hfHome, "hub"),
    async dispose() {
      await hub.close();
      await rm(work, { recursive: true, force: true });
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    },
  };
}
