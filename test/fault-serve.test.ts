import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { isolatedEnv, REPO_ROOT, startCli, tempDir, type CliResult } from "./helpers/cli.js";
import { seededRandom, ServeLoad, type Outcome } from "./helpers/serve-load.js";

const execFileAsync = promisify(execFile);
const RUNS = 12;

/** What serve may say on stderr in a run that a signal ends: nothing else (no stack, no "internal error"). */
const KNOWN_LINES = [
  /^news-moe: listening on http:\/\/127\.0\.0\.1:\d+$/,
  /^news-moe: ready \(ExtractiveSummarizerExpert, LexiconSentimentExpert\)$/,
  /^news-moe: stopping: no new requests; finishing the accepted ones$/,
  /^news-moe: stopping: no request had been accepted; a model download stops now, a model being opened finishes first$/,
  /^news-moe: stopped after \d+ items$/,
];

interface Served {
  url: string;
  port: number;
  done: Promise<CliResult>;
  kill: (signal: NodeJS.Signals) => void;
}

/** `news-moe serve` on a loopback port; resolves as soon as it listens (models may still be loading). */
async function serve(port = 0): Promise<Served> {
  const dir = await tempDir("news-moe-fault-");
  const { child, done } = startCli(["serve", "--port", String(port), "--experts", "embedded"], { cwd: dir, env: isolatedEnv(dir) });
  const url = await new Promise<string>((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (chunk: string) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match?.[1]) resolve(match[1]);
    });
    void done.then((result) => reject(new Error(`serve exited (${result.code}) before listening:\n${result.stderr}`)));
  });
  return { url, port: Number(new URL(url).port), done, kill: (signal) => child.kill(signal) };
}

async function exited(served: Served): Promise<CliResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("serve did not exit within 20 s")), 20_000)));
  try {
    return await Promise.race([served.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function answers(outcomes: Outcome[]) {
  return outcomes.filter((o): o is Extract<Outcome, { kind: "answer" }> => o.kind === "answer");
}

describe(`news-moe serve under faults: SIGTERM and SIGKILL at ${RUNS} seeded random points under load`, () => {
  it("each run ends as documented: SIGTERM drains (every answer complete or 503, exit 0), SIGKILL dies quietly and its port can be served again at once", async () => {
    const dir = await tempDir();
    const file = join(dir, "items.json");
    await execFileAsync(process.execPath, [join(REPO_ROOT, "scripts/generate-news.mjs"), "--count", "200", "--seed", "17", "--out", file, "--max-words", "200"]);
    const items = JSON.parse(await readFile(file, "utf8")) as Array<{ id: string }>;

    // A run after a SIGKILL listens on the killed server's port: it must be free again at once.
    let port = 0;
    for (let seed = 1; seed <= RUNS; seed++) {
      const random = seededRandom(seed);
      const signal: NodeJS.Signals = seed % 2 === 1 ? "SIGKILL" : "SIGTERM";
      const clients = 2 + Math.floor(random() * 7);
      const itemsPerRequest = 1 + Math.floor(random() * 10);
      const delay = Math.floor(random() * 1500);
      const run = `seed ${seed}: ${signal} ${delay} ms into ${clients} clients x ${itemsPerRequest} items`;

      const served = await serve(port);
      const load = new ServeLoad(served.url, { clients, itemsPerRequest, items });
      await new Promise((r) => setTimeout(r, delay));
      served.kill(signal);
      const exit = await exited(served);
      const outcomes = await load.finished();
      const lines = exit.stderr.split("\n").filter(Boolean);
      for (const line of lines) expect(KNOWN_LINES.some((known) => known.test(line)), `${run}: ${line}`).toBe(true);

      // Whatever got a 200 got every record it asked for, in order.
      for (const answer of answers(outcomes).filter((a) => a.status === 200)) {
        expect((JSON.parse(answer.body) as Array<{ id: string }>).map((r) => r.id), run).toEqual(answer.sent);
      }
      if (signal === "SIGTERM") {
        expect(exit.code, `${run}\n${exit.stderr}`).toBe(0);
        expect(outcomes.filter((o) => o.kind === "broken"), run).toEqual([]);
        for (const answer of answers(outcomes).filter((a) => a.status !== 200)) {
          expect(answer.status, run).toBe(503);
          expect(Number(answer.headers["retry-after"]), run).toBeGreaterThanOrEqual(1);
        }
        // Nothing accepted was dropped: the items the server says it finished are those answered 200.
        const answered = answers(outcomes).filter((a) => a.status === 200).reduce((sum, a) => sum + a.sent.length, 0);
        expect(lines.at(-1), run).toBe(`news-moe: stopped after ${answered} items`);
        port = 0;
      } else {
        expect(exit.signal, run).toBe("SIGKILL");
        // No drain after SIGKILL: only 200s, or connections the dead process dropped.
        expect(answers(outcomes).filter((a) => a.status !== 200), run).toEqual([]);
        // The port is free again at once: the next run serves on it.
        port = served.port;
      }
    }
  }, 120_000);
});
