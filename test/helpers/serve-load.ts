import { Agent, request } from "node:http";

// The project's seeded generator (mulberry32), so a failing fault run can be replayed by its seed.
export { seededRandom } from "../../src/learned-gate/random.js";

/** How one request of a load ended, as the client saw it. */
export type Outcome =
  | { kind: "answer"; status: number; headers: Record<string, string | string[] | undefined>; body: string; sent: string[] }
  /** The connection was refused: the listener was gone, so the request never reached the server. */
  | { kind: "refused" }
  /** Anything else: a reset, a hang-up, a truncated body. */
  | { kind: "broken"; code: string; message: string };

export interface LoadOptions {
  clients: number;
  /** Items per request; each client posts request after request. */
  itemsPerRequest: number;
  /** The item pool the clients take slices from (round robin). */
  items: Array<{ id: string }>;
}

/**
 * Clients of a `news-moe serve` under load, each with its own keep-alive connection (so a server
 * that closes idle connections badly shows up as resets), posting until the server stops answering
 * new work. Every request's outcome is kept for the test to judge.
 */
export class ServeLoad {
  readonly outcomes: Outcome[] = [];
  private readonly agents: Agent[] = [];
  private readonly done: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly options: LoadOptions,
  ) {
    const clients = Array.from({ length: options.clients }, (_, client) => this.client(client));
    this.done = Promise.all(clients).then(() => undefined);
  }

  /** Resolves when every client has stopped (after an answer other than 200, a refusal or a broken connection). */
  async finished(): Promise<Outcome[]> {
    await this.done;
    for (const agent of this.agents) agent.destroy();
    return this.outcomes;
  }

  private async client(client: number): Promise<void> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    this.agents.push(agent);
    const { items, itemsPerRequest } = this.options;
    // Until the server stops taking work: a client honours a 503's Retry-After, which here outlasts the server.
    for (let n = 0; ; n++) {
      // Each client walks the pool from its own place, so concurrent requests hold different items.
      const start = (client * 7919 + n * itemsPerRequest) % items.length;
      const batch = Array.from({ length: itemsPerRequest }, (_, i) => items[(start + i) % items.length] as { id: string });
      const outcome = await post(this.url, agent, batch);
      this.outcomes.push(outcome);
      if (outcome.kind !== "answer" || outcome.status !== 200) return;
    }
  }
}

function post(url: string, agent: Agent, batch: Array<{ id: string }>): Promise<Outcome> {
  const body = JSON.stringify(batch);
  return new Promise((resolve) => {
    const req = request(`${url}/v1/analyze`, { method: "POST", agent, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        if (!res.complete) resolve({ kind: "broken", code: "INCOMPLETE", message: "the answer ended before its body was complete" });
        else resolve({ kind: "answer", status: res.statusCode ?? 0, headers: res.headers, body: text, sent: batch.map((item) => item.id) });
      });
      res.on("error", (error: NodeJS.ErrnoException) => resolve({ kind: "broken", code: error.code ?? "ERROR", message: error.message }));
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      resolve(error.code === "ECONNREFUSED" ? { kind: "refused" } : { kind: "broken", code: error.code ?? "ERROR", message: error.message });
    });
    req.end(body);
  });
}
