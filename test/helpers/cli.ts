import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect } from "vitest";

export const REPO_ROOT = resolve(new URL("../..", import.meta.url).pathname);
export const CLI = join(REPO_ROOT, "dist/cli/main.js");
export const EXAMPLES = join(REPO_ROOT, "examples/news-data.json");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export async function tempDir(prefix = "news-moe-cli-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * The environment of a user with an empty model cache who is offline: the neural experts cannot
 * load, so runs exercise the fallback to the embedded experts, whatever this machine has cached.
 */
export function isolatedEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HF_HOME: join(home, "hf"),
    HF_HUB_OFFLINE: "1",
    NO_COLOR: "1",
    ...extra,
  };
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  /** Run as this user (the tests of file permissions, when the tests run as root; see helpers/fs-faults.ts). */
  user?: { uid: number; gid: number };
  /** RLIMIT_FSIZE in 1 KiB blocks (`ulimit -f`): a write past it fails with EFBIG, as on a full disk. */
  fileSizeLimitKiB?: number;
}

export function startCli(args: string[], options: CliOptions = {}): {
  child: ChildProcess;
  done: Promise<CliResult>;
} {
  const [command, commandArgs] =
    options.fileSizeLimitKiB === undefined
      ? [process.execPath, [CLI, ...args]]
      : ["/bin/sh", ["-c", `ulimit -f ${options.fileSizeLimitKiB} && exec "$0" "$@"`, process.execPath, CLI, ...args]];
  const child = spawn(command, commandArgs, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    stdio: ["pipe", "pipe", "pipe"],
    ...(options.user ?? {}),
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  else child.stdin?.end();
  const done = new Promise<CliResult>((resolveDone) => {
    child.on("close", (code, signal) => resolveDone({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/**
 * A failure the user caused or met (bad input, an unreachable Redis, an output path that cannot be
 * written, a stop signal): the documented exit status and a clear message naming the problem, never
 * `internal error` (the CLI's words for a bug in news-moe) nor a stack trace. Every test of such a
 * failure goes through this, so `grep -rn expectUserFailure test/` lists them.
 */
export function expectUserFailure(result: CliResult, code: number, message: string | RegExp): void {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stderr).not.toMatch(/internal error/);
  expect(result.stderr, "a stack trace").not.toMatch(/^\s+at .+[:(]/m);
  if (typeof message === "string") expect(result.stderr).toContain(message);
  else expect(result.stderr).toMatch(message);
}
