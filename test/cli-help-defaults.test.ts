/**
 * Help that states a default states the code's: every option whose description names a number as
 * its default (rather than commander's own "(default: X)", which is the value it passes) is matched
 * here against the constant the code uses. And `npx news-moe` in this repository prints no npm
 * warning, while npm still hands onnxruntime-node's install script the skip of its CUDA download.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { DEFAULT_NEUTRAL_THRESHOLD, DEFAULT_SUMMARY_STATE_MIB, TUTORIAL_MAX_LENGTH, TUTORIAL_MIN_LENGTH } from "../src/experts/neural/index.js";
import { DEFAULT_TIMEOUT_MS } from "../src/models/hub-download.js";
import { DEFAULT_ATTEMPTS, DEFAULT_CHUNK_SIZE } from "../src/queue/index.js";
import { REPO_ROOT, runCli } from "./helpers/cli.js";

/** The defaults help writes out in words, by flag, from the code's constants. */
const STATED: Record<string, number> = {
  "--summary-memory": DEFAULT_SUMMARY_STATE_MIB,
  "--max-length": TUTORIAL_MAX_LENGTH,
  "--min-length": TUTORIAL_MIN_LENGTH,
  "--neutral-threshold": DEFAULT_NEUTRAL_THRESHOLD,
  "--chunk-size": DEFAULT_CHUNK_SIZE,
  "--attempts": DEFAULT_ATTEMPTS,
  "--timeout": DEFAULT_TIMEOUT_MS / 1000,
};

const COMMANDS = [
  ["analyze"], ["worker"], ["serve"], ["submit"], ["status"], ["collect"], ["report"], ["experts"],
  ["models", "pull"], ["models", "list"], ["models", "path"], ["gate", "train"], ["gate", "eval"], ["gate", "distill"],
];

/** Each option of a help text with its description (continuation lines joined). */
function options(help: string): Array<{ flag: string; text: string }> {
  const found: Array<{ flag: string; text: string }> = [];
  for (const line of help.split("\n")) {
    const start = /^\s{2}(?:-\w, )?(--[\w-]+)\b(.*)$/.exec(line);
    if (start) found.push({ flag: start[1] as string, text: start[2] as string });
    else if (/^\s{10,}\S/.test(line) && found.length > 0) found[found.length - 1]!.text += ` ${line.trim()}`;
  }
  return found;
}

describe("help defaults", () => {
  it("every default a description states is the code's constant", async () => {
    const seen = new Set<string>();
    const helps = await Promise.all(COMMANDS.map((command) => runCli([...command, "--help"])));
    for (const [i, command] of COMMANDS.entries()) {
      const result = helps[i]!;
      expect(result.code, command.join(" ")).toBe(0);
      for (const { flag, text } of options(result.stdout)) {
        // commander's own "(default: 8080)" at the end is the JSON of the value it passes; the rest is prose.
        const prose = text.replace(/\((?:choices: [^()]*, )?default: (?:-?\d[\d.]*|"[^"]*"|true|false|\[\])\)\s*$/, "");
        for (const match of prose.matchAll(/default[^;)]*?(?<![\w.])(\d+(?:\.\d+)?)(?![\w.])/g)) {
          const where = `${command.join(" ")} ${flag}: "${text.trim()}"`;
          expect(STATED[flag], `${where} states a default no constant backs`).toBeDefined();
          expect(Number(match[1]), where).toBe(STATED[flag]);
          seen.add(flag);
        }
      }
    }
    // Each of them was found somewhere (a flag renamed or its default dropped from help shows here).
    expect([...seen].sort()).toEqual(Object.keys(STATED).sort());
    // The one that had drifted: the summariser's decoder state is 1024 MiB unless told otherwise.
    expect(DEFAULT_SUMMARY_STATE_MIB).toBe(1024);
  }, 120_000);
});

describe("npx news-moe in this repository", () => {
  it("prints no npm warning, and npm still sets the CUDA-download skip for install scripts", async () => {
    const run = promisify(execFile);
    const npx = await run("npx", ["--no", "news-moe", "--version"], { cwd: REPO_ROOT });
    expect(npx.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(npx.stderr).not.toMatch(/npm warn|Unknown project config/);
    // What onnxruntime-node's postinstall reads (script/install-utils.js), in a process npm starts here.
    const probe = await run("npm", ["exec", "--no", "--", "node", "-e", "process.stdout.write(String(process.env.ONNXRUNTIME_NODE_INSTALL))"], {
      cwd: REPO_ROOT,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "", NODE_OPTIONS: "" },
    });
    expect(probe.stdout).toBe("skip");
    expect(probe.stderr).not.toMatch(/npm warn/);
  }, 60_000);
});
