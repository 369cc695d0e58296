/**
 * Issue 25: every command the README shows is run, either here or by a named test, and every link
 * and repository path in the README and docs/ exists.
 *
 * A command is a line of a ```sh block (split at `&&`, comments dropped, `RUN=$(...)` unwrapped) or
 * an inline code span in the prose that starts with a program (`npx`, `news-moe`, `npm`, `node`,
 * `curl`). Each must have an entry in COVERAGE, and each entry says how it is run:
 *   - here: this file runs the README's exact command line through the built CLI (the quick start
 *     and the commands that are cheap on the bundled example);
 *   - ci: a line of .ci/run, which CI runs on a fresh clone (`npm ci`, `npm test`);
 *   - test: a test file that runs the same command: the file must contain each of `calls` verbatim,
 *     and those calls must name every subcommand and flag of the README's line, so a flag added to
 *     the README that no test passes fails here;
 *   - bench: a measurement: the results file quoted beside it must have been written by exactly this
 *     command, and every row of the README's table must be a row of that file (quoted: "table"), or
 *     every ratio of the paragraph that names the command must be a cell of that file ("paragraph").
 * A README command without an entry fails, as does an entry whose command left the README.
 * Every flag the README names must also be one the CLI's --help lists.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { symlink, readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { CLI, REPO_ROOT, isolatedEnv, runCli, tempDir, type CliResult } from "./helpers/cli.js";

type Coverage =
  | { here: string }
  | { ci: string }
  | { test: string[]; calls: string[] }
  | { bench: string; quoted: "table" | "paragraph" };

const QUEUE_FLAGS = 'const queue = ["--redis", redis.url, "--queue",';
const MODELS_PROGRAM = '["node", "news-moe", "models", ...args]';

/** Each README command and what runs it. Keep in step with README.md (the first test says where not). */
const COVERAGE: Record<string, Coverage> = {
  // Quick start: the first line here, the second by CI.
  "npm ci": { ci: "npm ci --no-audit --no-fund" },
  "npx news-moe analyze examples/news-data.json --experts embedded": { here: "the quick start" },
  "npm test": { ci: "npm test" },
  // Serving.
  "npx news-moe serve --port 8080": {
    test: ["test/helpers/server.ts", "test/server.test.ts"],
    calls: ['startCli(["serve", "--port", "0", ...args]', "await startServer("],
  },
  "curl -s localhost:8080/v1/analyze -H 'Content-Type: application/json' --data-binary @examples/news-data.json": {
    test: ["test/server.test.ts"],
    calls: ['postItems(server.url, JSON.stringify(items), { "Content-Type": "application/json"'],
  },
  "npx news-moe report analyzed_news_data.json --items examples/news-data.json -o report.html": { here: "the report of the quick start's output" },
  // The queue, on a real redis-server.
  "npx news-moe submit news.json --redis redis://queue-host:6379": { test: ["test/queue.test.ts"], calls: ['runCli(["submit", input, ...queue]', QUEUE_FLAGS] },
  "npx news-moe worker --redis redis://queue-host:6379": { test: ["test/queue.test.ts"], calls: ['startCli(["worker", "--redis", redis.url'] },
  "npx news-moe status $RUN --redis redis://queue-host:6379": { test: ["test/queue.test.ts"], calls: ['runCli(["status", runId, ...queue, "--json"]', QUEUE_FLAGS] },
  "npx news-moe collect $RUN --redis redis://queue-host:6379 -o analyzed.json --wait --delete": {
    test: ["test/queue.test.ts"],
    calls: ['runCli(["collect", runId, ...queue, "-o", "collected.json", "--wait", "--delete"]', QUEUE_FLAGS],
  },
  // Routing.
  "npx news-moe analyze examples/news-data.json --rules examples/rules.json": { here: "the example rules" },
  // The learned gate's chain, on the tiny fixture models.
  "npx news-moe analyze examples/news-data.json --router all -o teacher.json": {
    test: ["test/gate-distill.test.ts"],
    calls: ['runCli(["analyze", EXAMPLES, "--router", "all", ...MODELS, "-o", teacher]'],
  },
  "npx news-moe gate distill teacher.json --items examples/news-data.json -o labelled.jsonl": {
    test: ["test/gate-distill.test.ts"],
    calls: ['runCli(["gate", "distill", teacher, "--items", EXAMPLES, "-o", data]'],
  },
  "npx news-moe gate train labelled.jsonl -o gate.json": { test: ["test/gate-distill.test.ts"], calls: ['runCli(["gate", "train", data, "-o", gate]'] },
  "npx news-moe analyze examples/news-data.json --gate gate.json --budget 0.3 --stats stats.json": {
    test: ["test/gate-distill.test.ts"],
    calls: ['runCli(["analyze", EXAMPLES, "--router", "learned", "--gate", gate, "--budget", "0.3", ...MODELS, "-o", output, "--stats", statsFile]'],
  },
  // Plugins.
  "npx news-moe analyze examples/news-data.json --plugin examples/plugins/keyword-expert.mjs": {
    test: ["test/cli-plugins.test.ts"],
    calls: ['["analyze", EXAMPLES, "-o", "out.json", "--plugin", join(PLUGINS, "keyword-expert.mjs")'],
  },
  "npx news-moe analyze examples/news-data.json --plugin examples/plugins/language-router.mjs --router first-speaker": {
    test: ["test/cli-plugins.test.ts"],
    calls: ['["analyze", EXAMPLES, "-o", "out.json", "--plugin", join(PLUGINS, "language-router.mjs"), "--router", "first-speaker"'],
  },
  "NEWS_MOE_CSV=sentiment.csv npx news-moe analyze examples/news-data.json --plugin examples/plugins/csv-sink.mjs": {
    test: ["test/cli-plugins.test.ts"],
    calls: ['["analyze", EXAMPLES, "-o", "out.json", "--plugin", join(PLUGINS, "csv-sink.mjs")', "{ NEWS_MOE_CSV: csv }"],
  },
  // Models (a fake hub on loopback; the tiny fixture models from local directories).
  "npx news-moe models pull": { test: ["test/models-command.test.ts"], calls: ['runModels(["pull"])', MODELS_PROGRAM] },
  "npx news-moe models list": { test: ["test/models-command.test.ts"], calls: ['runModels(["list"])', MODELS_PROGRAM] },
  "npx news-moe experts": { test: ["test/cli-neural.test.ts"], calls: ['runCli(["experts"]'] },
  "npx news-moe analyze examples/news-data.json --offline": { test: ["test/cli-neural.test.ts"], calls: ['runCli(["analyze", EXAMPLES, "--offline", "--quiet"]'] },
  "npx news-moe analyze examples/news-data.json --summarizer-model ./my-bart-onnx --sentiment-model ./my-sst2-onnx": {
    test: ["test/cli-neural.test.ts"],
    calls: ['["analyze", EXAMPLES, "--summarizer-model", SUMMARIZER_DIR, "--sentiment-model", SENTIMENT_DIR'],
  },
  "npm install news-moe": { test: ["test/package-offline-install.test.ts"], calls: ['run(NPM, ["install", "--offline", ...quiet, tarball]'] },
  // Performance: the measurement the README's table is copied from.
  "npm run bench -- --workload realistic": { bench: "bench/results-realistic", quoted: "table" },
  "npm run bench -- --workload worst": { bench: "bench/results-worst", quoted: "paragraph" },
};

/** Flags the README's prose names that belong to another program (the bench). */
const OTHER_PROGRAMS_FLAGS = new Set(["--workload"]);

const README = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const COMMAND_SPAN = /^(?:[A-Z_]+=\S+ )*(?:npx |news-moe |npm |node |curl )/;

function fencedBlocks(markdown: string): Array<{ lang: string; body: string }> {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
}

/** The README's shell commands, in order of appearance, each once. */
function readmeCommands(markdown: string): string[] {
  const found = new Set<string>();
  for (const { lang, body } of fencedBlocks(markdown)) {
    if (!["sh", "bash", "shell"].includes(lang)) continue;
    for (const line of body.split("\n")) {
      const code = line.replace(/(^|\s)#.*$/, "").trim();
      if (!code) continue;
      for (const step of code.split("&&")) {
        found.add(step.trim().replace(/^[A-Z_]+=\$\((.*)\)$/, "$1").replace(/\s+/g, " "));
      }
    }
  }
  const prose = markdown.replace(/^```\w*\n[\s\S]*?^```$/gm, "");
  for (const [, span] of prose.matchAll(/`([^`\n]+)`/g)) if (COMMAND_SPAN.test(span!)) found.add(span!.replace(/\s+/g, " "));
  return [...found];
}

/** `news-moe` invocations: their subcommand words (`gate distill`) and their flags. */
function newsMoeParts(command: string): { subcommand: string[]; flags: string[] } | undefined {
  const match = /(?:^|\s)news-moe\s+(.*)$/.exec(command);
  if (!match) return undefined;
  const tokens = match[1]!.split(" ");
  const subcommand: string[] = [];
  for (const token of tokens) {
    if (!/^[a-z]+$/.test(token)) break;
    subcommand.push(token);
  }
  // Flags, also inside the synopsis' brackets (`[--resume | --overwrite]`), but not the hyphens of
  // values such as `redis://queue-host:6379`.
  return { subcommand, flags: [...match[1]!.matchAll(/(?<![\w-])--?[a-z][\w-]*/g)].map((m) => m[0]) };
}

/** The README's usage synopsis (a ```text block): each `news-moe` line with its continuation lines. */
function synopsisCommands(markdown: string): string[] {
  const commands: string[] = [];
  for (const { lang, body } of fencedBlocks(markdown)) {
    if (lang !== "text") continue;
    for (const line of body.split("\n")) {
      if (line.startsWith("news-moe ")) commands.push(line.split(/\s{2,}/)[0]!); // not its description
      else if (/^\s+\S/.test(line) && commands.length > 0) commands[commands.length - 1] += ` ${line.trim()}`;
    }
  }
  return commands.map((c) => c.replace(/\s+/g, " "));
}

/** Runs a README command line (`[VAR=value ...] npx news-moe ARGS`) with the built CLI in `cwd`. */
function runReadmeCommand(command: string, cwd: string): Promise<CliResult> {
  const tokens = command.split(" ");
  const env = isolatedEnv(cwd);
  while (/^[A-Z_]+=/.test(tokens[0]!)) {
    const [name, value] = tokens.shift()!.split("=") as [string, string];
    env[name] = value;
  }
  expect(tokens.slice(0, 2), command).toEqual(["npx", "news-moe"]);
  return runCli(tokens.slice(2), { cwd, env });
}

/**
 * The --help of each command, from one process instead of one each (CI's two cores): the built CLI's
 * program module parses process.argv when it is imported, so it is imported once per command under
 * a new URL, each time with that command's argv. Each help is preceded by a NUL and its command.
 */
async function helpTexts(commands: string[][]): Promise<Map<string, string>> {
  const script = `
    const program = ${JSON.stringify(pathToFileURL(join(REPO_ROOT, "dist/cli/program.js")).href)};
    for (const [i, command] of ${JSON.stringify(commands)}.entries()) {
      process.argv = [process.argv[0], "news-moe", ...command, "--help"];
      process.stdout.write("\\u0000" + command.join(" ") + "\\n");
      await import(program + "?" + i);
    }`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { cwd: REPO_ROOT });
  const helps = new Map<string, string>();
  for (const part of stdout.split("\u0000").slice(1)) {
    const newline = part.indexOf("\n");
    helps.set(part.slice(0, newline), part.slice(newline + 1));
  }
  expect([...helps.keys()]).toEqual(commands.map((c) => c.join(" ")));
  for (const [command, help] of helps) expect(help, command).toContain(`Usage: news-moe ${command}`);
  return helps;
}

/** A fresh directory that looks like the repository to the README's relative paths. */
async function exampleDir(): Promise<string> {
  const dir = await tempDir("news-moe-readme-");
  await symlink(join(REPO_ROOT, "examples"), join(dir, "examples"));
  return dir;
}

function commandFor(label: string): string {
  const entry = Object.entries(COVERAGE).find(([, coverage]) => "here" in coverage && coverage.here === label);
  if (!entry) throw new Error(`no README command is run here as "${label}"`);
  return entry[0];
}

type Entry = { summary?: string; sentiment_label?: string; error?: string; skipped?: boolean; expert?: string };
type Record_ = { id: string; error?: string; analyses: Record<string, Entry>; routing: { router: string; experts: Array<{ expert: string; task: string; reason: string }> } | null };

const EXAMPLE_ITEMS = JSON.parse(readFileSync(join(REPO_ROOT, "examples/news-data.json"), "utf8")) as Array<{ id: string; content: string }>;

describe("every command in the README is run", () => {
  it("each README command has an entry saying what runs it, and each entry is still in the README", () => {
    const commands = readmeCommands(README);
    expect(commands.filter((c) => !(c in COVERAGE)), "README commands that nothing runs: add them to COVERAGE").toEqual([]);
    expect(Object.keys(COVERAGE).filter((c) => !commands.includes(c)), "COVERAGE entries no longer in the README").toEqual([]);
  });

  it("CI runs the quick start's install and test commands", () => {
    const ciLines = readFileSync(join(REPO_ROOT, ".ci/run"), "utf8").split("\n").map((l) => l.trim());
    for (const [command, coverage] of Object.entries(COVERAGE)) if ("ci" in coverage) expect(ciLines, command).toContain(coverage.ci);
  });

  it("the tests named for a command run that command, with every flag the README gives it", () => {
    for (const [command, coverage] of Object.entries(COVERAGE)) {
      if (!("test" in coverage)) continue;
      const source = coverage.test.map((file) => readFileSync(join(REPO_ROOT, file), "utf8")).join("\n");
      for (const call of coverage.calls) expect(source.includes(call), `${coverage.test.join(", ")} runs ${call}`).toBe(true);
      const parts = newsMoeParts(command);
      if (!parts) continue;
      const calls = coverage.calls.join(" ");
      for (const word of [...parts.subcommand, ...parts.flags]) expect(calls, `${command}: ${word}`).toContain(`"${word}"`);
    }
  });

  it("the performance table is the measurement's, and the command beside it wrote that measurement", () => {
    for (const [command, coverage] of Object.entries(COVERAGE)) {
      if (!("bench" in coverage)) continue;
      const results = JSON.parse(readFileSync(join(REPO_ROOT, `${coverage.bench}.json`), "utf8")) as { command: string };
      expect(results.command).toBe(command);
      const measured = readFileSync(join(REPO_ROOT, `${coverage.bench}.md`), "utf8").split("\n");
      const section = README.slice(README.indexOf("\n## Performance"), README.indexOf("\n## ", README.indexOf("\n## Performance") + 1));
      expect(section).toContain(`${coverage.bench}.md`);
      if (coverage.quoted === "table") {
        const rows = section.split("\n").filter((l) => l.startsWith("| "));
        expect(rows.length).toBeGreaterThan(2);
        for (const row of rows) expect(measured, `README row not in ${coverage.bench}.md`).toContain(row);
      } else {
        const paragraph = section.split("\n\n").find((p) => p.includes(command)) ?? "";
        const ratios = [...paragraph.matchAll(/(\d+\.\d+)x/g)].map((m) => m[1]!);
        expect(ratios.length, `ratios quoted beside ${command}`).toBeGreaterThan(1);
        const cells = new Set(measured.filter((l) => l.startsWith("| ")).flatMap((l) => l.split("|").map((c) => c.trim())));
        for (const ratio of ratios) expect(cells.has(ratio), `${ratio}x is a cell of ${coverage.bench}.md`).toBe(true);
      }
    }
  });

  it("runs the quick start, the report of its output, and the example rules, as written", async () => {
    const quickDir = await exampleDir();
    const rulesDir = await exampleDir();
    const [quick, rules] = await Promise.all([
      runReadmeCommand(commandFor("the quick start"), quickDir),
      runReadmeCommand(commandFor("the example rules"), rulesDir),
    ]);

    // Quick start: exit 1 for the one item with empty content, whose tutorial keys carry the error;
    // every other item has a summary and, but for the Spanish one (skipped: no expert reads
    // Spanish), a sentiment.
    expect(quick.code, quick.stderr).toBe(1);
    const records = JSON.parse(await readFile(join(quickDir, "analyzed_news_data.json"), "utf8")) as Record_[];
    expect(records.map((r) => r.id)).toEqual(EXAMPLE_ITEMS.map((i) => i.id));
    const empty = EXAMPLE_ITEMS.filter((i) => i.content.trim() === "").map((i) => i.id);
    expect(empty).toHaveLength(1);
    for (const record of records) {
      const { NewsSummarizationLLMExpert: summary, SentimentAnalysisLLMExpert: sentiment } = record.analyses;
      if (empty.includes(record.id)) {
        expect(summary?.error, record.id).toMatch(/content is empty/);
        expect(sentiment?.error, record.id).toMatch(/content is empty/);
        continue;
      }
      expect(summary, record.id).toMatchObject({ summary: expect.any(String), expert: "ExtractiveSummarizerExpert" });
      if (sentiment?.skipped) expect(sentiment.error, record.id).toMatch(/^skipped: language "spa"/);
      else expect(sentiment, record.id).toMatchObject({ sentiment_label: expect.stringMatching(/^(POSITIVE|NEGATIVE|NEUTRAL)$/), expert: "LexiconSentimentExpert" });
    }
    expect(records.filter((r) => r.analyses.SentimentAnalysisLLMExpert?.skipped)).toHaveLength(1);

    const report = await runReadmeCommand(commandFor("the report of the quick start's output"), quickDir);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).toMatch(/wrote .*report\.html: 16 records/);
    expect(await readFile(join(quickDir, "report.html"), "utf8")).toMatch(/^<!doctype html>/i);

    // The example rules: the brief-article rule (under 60 words) picks the extractive summariser for
    // exactly the items under 60 words, counted here with a plain whitespace split.
    expect(rules.code, rules.stderr).toBe(1);
    const routed = JSON.parse(await readFile(join(rulesDir, "analyzed_news_data.json"), "utf8")) as Record_[];
    expect(routed.every((r) => r.routing?.router === "rules")).toBe(true);
    const brief = new Set(EXAMPLE_ITEMS.filter((i) => i.content.split(/\s+/).filter(Boolean).length < 60).map((i) => i.id));
    expect(brief.size).toBeGreaterThan(0);
    for (const record of routed) {
      const summariser = record.routing?.experts.find((e) => e.task === "summarization");
      expect(summariser?.reason.includes('rule "brief-article"') ?? false, record.id).toBe(brief.has(record.id));
    }
  }, 60_000);

  it("every news-moe flag the README names is one the CLI's --help lists", async () => {
    const invocations = [...readmeCommands(README), ...synopsisCommands(README)].map(newsMoeParts).filter((p) => p !== undefined);
    const subcommands = [
      ...new Map(
        [...invocations.map((p) => p.subcommand), ["analyze"], ["serve"], ["submit"], ["worker"], ["collect"], ["gate", "train"], ["gate", "distill"]]
          .filter((s) => s.length > 0)
          .map((s) => [s.join(" "), s]),
      ).values(),
    ];
    const helpOf = await helpTexts(subcommands);
    const listed = (help: string, flag: string) => new RegExp(`(^|[\\s,])${flag}([\\s,]|$)`, "m").test(help);
    for (const { subcommand, flags } of invocations) {
      const help = helpOf.get(subcommand.join(" "))!;
      for (const flag of flags) expect(listed(help, flag), `news-moe ${subcommand.join(" ")} --help lists ${flag}`).toBe(true);
    }
    // Flags named in the prose belong to one command or another.
    const allHelp = [...helpOf.values()].join("\n");
    const prose = README.replace(/^```\w*\n[\s\S]*?^```$/gm, "");
    const named = new Set([...prose.matchAll(/`(--[a-z][\w-]*)/g)].map((m) => m[1]!));
    for (const flag of named) if (!OTHER_PROGRAMS_FLAGS.has(flag)) expect(listed(allHelp, flag), `some command's --help lists ${flag}`).toBe(true);
  }, 60_000);
});

describe("links and paths in the README and docs/", () => {
  const DOCS = ["README.md", ...readdirSync(join(REPO_ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`), "bench/history/README.md"];
  /** Repository paths written in code spans: they start with a top-level folder of the repository. */
  const PATH_SPAN = /^(?:src|test|bench|docs|examples|tools|scripts|data|\.ci)\/[\w./-]*$/;

  /** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
  function anchors(markdown: string): Set<string> {
    const outside = markdown.replace(/^```\w*\n[\s\S]*?^```$/gm, "");
    return new Set(
      [...outside.matchAll(/^#+ (.*)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-")),
    );
  }

  /** `a/{b,c}.d` -> `a/b.d`, `a/c.d`. */
  function expandBraces(path: string): string[] {
    const match = /\{([^}]*)\}/.exec(path);
    if (!match) return [path];
    return match[1]!.split(",").flatMap((alt) => expandBraces(path.replace(match[0], alt)));
  }

  it("every relative link points at a file that exists, and every #anchor at a heading", () => {
    const broken: string[] = [];
    for (const doc of DOCS) {
      const text = readFileSync(join(REPO_ROOT, doc), "utf8");
      const outside = text.replace(/^```\w*\n[\s\S]*?^```$/gm, "");
      for (const [, target] of outside.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^https?:/.test(target!)) continue;
        const [path, anchor] = target!.split("#") as [string, string | undefined];
        const file = path === "" ? join(REPO_ROOT, doc) : join(REPO_ROOT, dirname(doc), path);
        if (!existsSync(file)) broken.push(`${doc}: ${target} (no ${relative(REPO_ROOT, file)})`);
        else if (anchor !== undefined && !anchors(readFileSync(file, "utf8")).has(anchor)) broken.push(`${doc}: ${target} (no such heading)`);
      }
      for (const [, span] of outside.matchAll(/`([^`\n]+)`/g)) {
        if (!PATH_SPAN.test(span!.replace(/\{[^}]*\}/g, "x"))) continue;
        for (const path of expandBraces(span!)) if (!existsSync(join(REPO_ROOT, path))) broken.push(`${doc}: \`${span}\``);
      }
    }
    expect(broken).toEqual([]);
  });

  it("the README stays a guide: at most 450 lines", () => {
    expect(README.split("\n").length).toBeLessThanOrEqual(450);
  });
});

// The CLI the commands run is the built one, as in every CLI test.
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
