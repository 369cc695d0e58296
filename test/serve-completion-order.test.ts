/**
 * `serve` answers each request when its own items are done. Every request's items go through one shared
 * engine run; that run hands records over as they finish (`recordOrder: "completion"`), so a short item
 * never waits behind a longer one that another request sent first, while each response still lists its
 * own records in its request's order. `analyze` keeps input order in its output file. Real CLI and real
 * server on loopback, with a streaming plugin expert that takes as long over an item as the item says
 * (the neural summariser's running batch finishes items out of order the same way).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, isolatedEnv, runCli, tempDir } from "./helpers/cli.js";
import { postItems, startServer } from "./helpers/server.js";

const PACED = join(REPO_ROOT, "test/fixtures/catalogue/paced-expert.mjs");
const ENGINE = ["--plugin", PACED, "--experts", "paced", "--quiet"];
const item = (id: string, waitMs: number) => ({ id, headline: id, content: `An item that takes a while: wait ${waitMs} ms.` });
const ids = (text: string) => (JSON.parse(text) as Array<{ id: string }>).map((record) => record.id);

describe("serve: each request is answered when its own items are done", () => {
  it("a short request sent after a long one is answered first; a request's records stay in its order", async () => {
    const server = await startServer(ENGINE);
    try {
      const started = performance.now();
      const at = <T>(promise: Promise<T>) => promise.then((value) => ({ value, ms: performance.now() - started }));
      const long = at(postItems(server.url, JSON.stringify([item("long", 2500)])));
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Within one request the middle item finishes first and the first item last.
      const mixed = at(postItems(server.url, JSON.stringify([item("a", 900), item("b", 100), item("c", 500)])));
      const short = at(postItems(server.url, JSON.stringify([item("short", 100)])));
      const [l, m, s] = await Promise.all([long, mixed, short]);
      for (const response of [l, m, s]) expect(response.value.status).toBe(200);
      // In input order the short request (fed after the 2.5 s item) could not be answered before ~2.5 s.
      expect(s.ms).toBeLessThan(1500);
      expect(m.ms).toBeLessThan(1500);
      expect(l.ms).toBeGreaterThan(2500);
      expect(ids(m.value.text)).toEqual(["a", "b", "c"]);
      expect(ids(s.value.text)).toEqual(["short"]);
      const [record] = JSON.parse(l.value.text) as Array<{ id: string; analyses: Record<string, unknown> }>;
      expect(record).toMatchObject({ id: "long", analyses: { PacedExpert: { waitedMs: 2500 } } });
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });
});

describe("analyze: records still leave in input order", () => {
  it("an output file lists items as the input did, whatever order they finished in", async () => {
    const dir = await tempDir();
    const input = join(dir, "items.json");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(input, JSON.stringify([item("a", 600), item("b", 50), item("c", 300)]));
    const result = await runCli(["analyze", input, ...ENGINE, "-o", "out.json"], { cwd: dir, env: isolatedEnv(dir) });
    expect(result.code, result.stderr).toBe(0);
    const records = JSON.parse(await readFile(join(dir, "out.json"), "utf8")) as Array<{ id: string }>;
    expect(records.map((r) => r.id)).toEqual(["a", "b", "c"]);
  });
});

describe("run(): completion order is for callers that reorder records themselves", () => {
  it("is refused beside a journal, whose resume needs input order, before any work", async () => {
    const { run } = await import("../src/engine/run.js");
    const dir = await tempDir();
    const journal = join(dir, "out.json.journal");
    await expect(run({ input: [item("a", 0)], recordOrder: "completion", journal })).rejects.toThrow(/recordOrder "completion" cannot be used with a journal/);
    const { existsSync } = await import("node:fs");
    expect(existsSync(journal)).toBe(false);
  });
});
