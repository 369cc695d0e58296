/**
 * Help that states a default states the code's. Every engine flag (analyze, serve, worker) is a
 * catalogue setting: its help shows commander's "(default: X)", which must be the JSON of its
 * schema's default, and no number in prose. Every other option whose description names a number as
 * its default is matched against the constant the code uses. And `npx news-moe` in this repository
 * prints no npm warning, while npm still hands onnxruntime-node's install script the skip of its
 * CUDA download.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { builtInCatalogue } from "../src/catalogue/catalogue.js";
import { FLAG_SPELLINGS, settingDefault } from "../src/catalogue/setting.js";
import { DEFAULT_TIMEOUT_MS } from "../src/models/hub-download.js";
import { DEFAULT_ATTEMPTS, DEFAULT_CHUNK_SIZE } from "../src/queue/index.js";
import { REPO_ROOT, runCli } from "./helpers/cli.js";

/** The defaults help writes out in words, by flag, from the code's constants (options that are not catalogue settings). */
const STATED: Record<string, number> = {
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

/** commander's "(default: X)" at the end of a description: the JSON of the value it passes. */
const COMMANDER_DEFAULT = /\((?:choices: [^()]*, )?default: ((?:-?\d[\d.]*|"[^"]*"|true|false|\[\]))\)\s*$/;

describe("engine flags: help defaults are the catalogue schema's", () => {
  it("every setting's flag shows its schema's default, once, in analyze, serve and worker", async () => {
    const settings = Object.entries(builtInCatalogue().settings()).flatMap(([name, schema]) => {
      const spelling = FLAG_SPELLINGS.get(schema);
      return spelling ? [{ name, flag: spelling.flag.split(" ")[0] as string, fallback: settingDefault(schema) }] : [];
    });
    // Hand-checked anchors: the tutorial's call (max_length=300, min_length=30), 512 MiB of decoder state, 0.75.
    const byFlag = Object.fromEntries(settings.map((s) => [s.flag, s.fallback]));
    expect(byFlag).toMatchObject({ "--summary-memory": 512, "--max-length": 300, "--min-length": 30, "--neutral-threshold": 0.75, "--dtype": "fp32" });
    const helps = await Promise.all(["analyze", "serve", "worker"].map((command) => runCli([command, "--help"])));
    for (const [i, command] of ["analyze", "serve", "worker"].entries()) {
      const help = helps[i]!;
      expect(help.code, command).toBe(0);
      const shown = new Map(options(help.stdout).map(({ flag, text }) => [flag, text.trim()]));
      for (const { name, flag, fallback } of settings) {
        if (command === "serve" && name === "dryRun") {
          expect(shown.has(flag), "serve has no --dry-run").toBe(false);
          continue;
        }
        const text = shown.get(flag);
        expect(text, `${command} ${flag}`).toBeDefined();
        const stated = COMMANDER_DEFAULT.exec(text!)?.[1];
        // A --no-X flag's default (true) is commander's own and not printed; every other default is.
        const expected = flag.startsWith("--no-") || fallback === undefined ? undefined : JSON.stringify(fallback);
        expect(stated, `${command} ${flag}: "${text}"`).toBe(expected);
        // No second default in the prose that could drift from the schema's.
        const prose = text!.replace(COMMANDER_DEFAULT, "");
        expect(prose, `${command} ${flag}`).not.toMatch(/default[^;)]*?(?<![\w.])\d+(?:\.\d+)?(?![\w.])/);
      }
    }
  }, 120_000);
});

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
