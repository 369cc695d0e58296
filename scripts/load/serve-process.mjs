// `news-moe serve` as a child process on a free loopback port, for the load scripts.
import { spawn } from "node:child_process";
import { join } from "node:path";

/**
 * Starts `node CLI serve --host 127.0.0.1 --port 0 --quiet ...args` with `dir` as its working
 * directory and HF cache, and resolves once /readyz answers 200 (models loaded). Rejects with the
 * server's stderr if it exits first, or after `readyTimeoutMs`.
 */
export async function startServer(cli, args, dir, { readyTimeoutMs = 15 * 60_000 } = {}) {
  const child = spawn(process.execPath, [cli, "serve", "--host", "127.0.0.1", "--port", "0", "--quiet", ...args], {
    cwd: dir,
    env: { ...process.env, HF_HOME: join(dir, "hf"), HF_HUB_OFFLINE: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
  let exitCode;
  const exited = new Promise((resolveExit) =>
    child.on("close", (code) => {
      exitCode = code;
      resolveExit(code);
    }),
  );
  const failure = () => new Error(`serve ${args.join(" ")} exited (${exitCode}):\n${stderr}`);
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearInterval(timer);
        resolveUrl(match[1]);
      }
    }, 20);
    exited.then(() => {
      clearInterval(timer);
      reject(failure());
    });
  });
  const giveUpAt = performance.now() + readyTimeoutMs;
  for (;;) {
    if (exitCode !== undefined) throw failure();
    const ready = await fetch(`${url}/readyz`).catch(() => undefined);
    if (ready?.status === 200) break;
    if (performance.now() > giveUpAt) {
      child.kill("SIGKILL");
      throw new Error(`serve was not ready after ${readyTimeoutMs / 1000} s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    stderr: () => stderr,
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}
