import type { ChildProcess } from "node:child_process";
import { isolatedEnv, startCli, tempDir, type CliResult } from "./cli.js";

export interface ServerProcess {
  /** http://127.0.0.1:PORT */
  url: string;
  child: ChildProcess;
  done: Promise<CliResult>;
  stderr: () => string;
  /** SIGTERM, then waits for the exit (SIGKILL after 30 s, which then fails the test). */
  stop: () => Promise<CliResult>;
}

/**
 * Starts the real `news-moe serve` on a free loopback port (--port 0) and waits until it listens
 * and its models are loaded (/readyz 200).
 */
export async function startServer(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<ServerProcess> {
  const dir = await tempDir("news-moe-serve-");
  const { child, done } = startCli(["serve", "--port", "0", ...args], { cwd: dir, env: options.env ?? isolatedEnv(dir) });
  let stderr = "";
  child.stderr?.on("data", (chunk: string) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match?.[1]) {
        child.stderr?.off("data", check);
        resolve(match[1]);
      }
    };
    child.stderr?.on("data", check);
    void done.then((result) => reject(new Error(`serve exited (${result.code}) before listening:\n${result.stderr}`)));
  });
  for (let attempt = 0; ; attempt++) {
    const ready = await fetch(`${url}/readyz`).catch(() => undefined);
    if (ready?.status === 200) break;
    if (attempt > 600) throw new Error(`serve never got ready:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    try {
      return await done;
    } finally {
      clearTimeout(killer);
    }
  };
  return { url, child, done, stderr: () => stderr, stop };
}

/** The value of one sample in Prometheus text, summed over the series that match `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const matches = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (matches) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

export async function postItems(
  url: string,
  body: string,
  headers: Record<string, string> = { "Content-Type": "application/json" },
): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(`${url}/v1/analyze`, { method: "POST", headers, body });
  return { status: response.status, text: await response.text(), headers: response.headers };
}
