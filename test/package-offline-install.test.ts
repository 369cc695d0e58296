/**
 * Issue 9, item 3: `npm pack`, then `npm install ./news-moe-*.tgz` in an empty project without
 * internet succeeds with no extra environment variable; the neural experts then say why they
 * cannot run and the embedded ones take over.
 *
 * "Without internet" is made in two parts: npm itself runs `--offline` from a cache primed
 * beforehand (priming is the only step that talks to the registry), and every proxy variable of
 * the install points at a closed local port, so onnxruntime-node's postinstall cannot reach its
 * CUDA feed (it honours HTTPS_PROXY through global-agent), as on a machine with no network.
 */
import { execFile } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { EXAMPLES, REPO_ROOT, tempDir } from "./helpers/cli.js";

const run = promisify(execFile);
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const DEAD = "http://127.0.0.1:9";

async function emptyProject(dir: string): Promise<void> {
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
}

describe("the packed package installed into another project", () => {
  it("installs without internet and falls back to the embedded experts, saying why", async () => {
    const work = await tempDir("news-moe-pack-");
    // dist/ is built by `npm test`; pack what is there.
    await run(NPM, ["pack", "--ignore-scripts", "--pack-destination", work], { cwd: REPO_ROOT });
    const tarball = join(work, (await readdir(work)).find((name) => name.endsWith(".tgz"))!);
    const cache = join(work, "npm-cache");
    const quiet = ["--no-audit", "--no-fund", "--cache", cache];

    // Online, once: fill a private cache with every dependency (no scripts, nothing built).
    const primer = join(work, "primer");
    await run("mkdir", [primer]);
    await emptyProject(primer);
    await run(NPM, ["install", "--ignore-scripts", ...quiet, tarball], { cwd: primer, maxBuffer: 1 << 24 });

    // Offline: an empty project, npm limited to that cache, the network unreachable for scripts.
    const project = join(work, "project");
    await run("mkdir", [project]);
    await emptyProject(project);
    const offlineEnv: NodeJS.ProcessEnv = {
      ...process.env,
      HTTPS_PROXY: DEAD, HTTP_PROXY: DEAD, https_proxy: DEAD, http_proxy: DEAD,
      GLOBAL_AGENT_HTTPS_PROXY: DEAD, GLOBAL_AGENT_HTTP_PROXY: DEAD,
    };
    // "No extra environment variable": nothing of this repository's .npmrc (which `npm test` passes
    // down as NODE_OPTIONS and npm_config_node_options, preloading a module that sets
    // ONNXRUNTIME_NODE_INSTALL=skip) may reach the user's install.
    for (const [key, value] of Object.entries(offlineEnv)) {
      if (/onnxruntime.node.install/i.test(key) || /ONNXRUNTIME_NODE_INSTALL/.test(value ?? "")) delete offlineEnv[key];
    }
    const installed = await run(NPM, ["install", "--offline", ...quiet, tarball], { cwd: project, env: offlineEnv, maxBuffer: 1 << 24 });
    expect(installed.stdout).toMatch(/added \d+ packages/);
    expect(existsSync(join(project, "node_modules/news-moe/dist/cli/main.js"))).toBe(true);

    // The CLI runs: the neural experts say why they cannot, the embedded ones do the work.
    const env = { ...process.env, HF_HOME: join(work, "hf") };
    const analyzed = await run(process.execPath, [join(project, "node_modules/news-moe/dist/cli/main.js"), "analyze", EXAMPLES, "-o", "out.json"], {
      cwd: project,
      env,
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect((analyzed as { code?: number }).code ?? 0).toBe(1); // the example's empty-content item
    const stderr = (analyzed as { stderr: string }).stderr;
    if (!existsSync(join(project, "node_modules/onnxruntime-node"))) {
      expect(stderr).toMatch(/NewsSummarizationLLMExpert is unavailable, so its summarization work goes to ExtractiveSummarizerExpert\.\n\s+Why: onnxruntime-node is not installed/);
    }
    const records = JSON.parse(await readFile(join(project, "out.json"), "utf8")) as Array<{ analyses: Record<string, { expert?: string }> }>;
    expect(records).toHaveLength(16);
    expect(records[0]?.analyses.NewsSummarizationLLMExpert?.expert).toBe("ExtractiveSummarizerExpert");

    // The library imports too (it would not if the runtime were imported eagerly).
    const library = await run(process.execPath, ["--input-type=module", "-e", "const m = await import('news-moe'); console.log(typeof m.analyze)"], { cwd: project });
    expect(library.stdout.trim()).toBe("function");
  }, 180_000);
});
