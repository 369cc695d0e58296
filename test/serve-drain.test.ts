import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, tempDir, type CliResult } from "./helpers/cli.js";
import { startServer, type ServerProcess } from "./helpers/server.js";
import { ServeLoad, type Outcome } from "./helpers/serve-load.js";

const execFileAsync = promisify(execFile);

async function generated(count: number, seed: number): Promise<Array<{ id: string }>> {
  const dir = await tempDir();
  const out = join(dir, "items.json");
  await execFileAsync(process.execPath, [join(REPO_ROOT, "scripts/generate-news.mjs"), "--count", String(count), "--seed", String(seed), "--out", out, "--max-words", "300"]);
  return JSON.parse(await readFile(out, "utf8")) as Array<{ id: string }>;
}

/** GET /readyz over its own keep-alive connection, as a load balancer's probe would. */
function probe(url: string, agent: Agent): Promise<number | "refused" | string> {
  return new Promise((resolve) => {
    const req = request(`${url}/readyz`, { agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.complete ? (res.statusCode ?? 0) : "incomplete"));
      res.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED" ? "refused" : (error.code ?? error.message)));
    req.end();
  });
}

/** The server's exit, once it has stopped by itself (SIGKILL after 30 s, which fails the test). */
async function exitOf(server: ServerProcess): Promise<CliResult> {
  const killer = setTimeout(() => server.child.kill("SIGKILL"), 30_000);
  try {
    return await server.done;
  } finally {
    clearTimeout(killer);
  }
}

/** Every way a request can end that the drain promises: a complete 200 with its records, or a 503 to retry elsewhere. */
export function expectDrainOutcomes(outcomes: Outcome[]): { ok: number; refused503: number; notReached: number } {
  const broken = outcomes.filter((o) => o.kind === "broken");
  expect(broken, "connections that got no HTTP answer").toEqual([]);
  let ok = 0;
  let refused503 = 0;
  for (const outcome of outcomes) {
    if (outcome.kind !== "answer") continue;
    if (outcome.status === 200) {
      // Accepted work is answered in full: every item of the request, in order.
      expect((JSON.parse(outcome.body) as Array<{ id: string }>).map((r) => r.id)).toEqual(outcome.sent);
      ok++;
    } else {
      expect(outcome.status, outcome.body).toBe(503);
      expect(Number(outcome.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect(outcome.headers.connection).toBe("close");
      refused503++;
    }
  }
  return { ok, refused503, notReached: outcomes.filter((o) => o.kind === "refused").length };
}

describe("news-moe serve: SIGTERM under load", () => {
  it("32 clients posting 20 items each, SIGTERM 0.5 s in: no reset, every answer a complete 200 or a 503 with Retry-After; /readyz 503 until the listener closes; exit 0", async () => {
    const items = await generated(400, 21);
    const server = await startServer(["--experts", "embedded"]);
    const load = new ServeLoad(server.url, { clients: 32, itemsPerRequest: 20, items });
    await new Promise((r) => setTimeout(r, 500));
    server.child.kill("SIGTERM");

    // A load balancer's probe from the signal on: 503 while draining, then refused once the listener closed.
    const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const probes: Array<number | string> = [];
    // Bounded: a server that never closes its listener fails here, not by the test's timeout.
    for (const giveUp = Date.now() + 30_000; Date.now() < giveUp; ) {
      const answer = await probe(server.url, probeAgent);
      probes.push(answer);
      if (answer !== 200 && answer !== 503) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    probeAgent.destroy();

    const outcomes = await load.finished();
    const exit = await exitOf(server);
    const counts = expectDrainOutcomes(outcomes);
    expect(counts.ok).toBeGreaterThan(0);
    expect(counts.refused503 + counts.notReached).toBeGreaterThan(0);

    // 200 only before the signal took effect, then 503, then nothing listening.
    expect(probes.at(-1)).toBe("refused");
    const firstDraining = probes.indexOf(503);
    expect(firstDraining).toBeGreaterThanOrEqual(0);
    expect(probes.slice(firstDraining, -1).every((p) => p === 503)).toBe(true);

    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toMatch(/stopped after \d+ items\n$/);
    expect(exit.stderr).not.toMatch(/\n\s+at |internal error/);
  });
});
