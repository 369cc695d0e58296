import { request, type IncomingHttpHeaders } from "node:http";
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedEnv, runCli, tempDir } from "./helpers/cli.js";
import { startServer, type ServerProcess } from "./helpers/server.js";

/** Holds a loopback port, as another program would. */
async function occupiedPort(): Promise<{ port: number; holder: Server }> {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  return { port: (holder.address() as { port: number }).port, holder };
}

describe("news-moe serve: binding", () => {
  it("a port in use is one line naming it, exit 2, no stack", async () => {
    const { port, holder } = await occupiedPort();
    try {
      const dir = await tempDir();
      const result = await runCli(["serve", "--port", String(port), "--experts", "embedded"], { cwd: dir, env: isolatedEnv(dir) });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `news-moe: port 127.0.0.1:${port} is already in use (stop what holds it, or choose another with --port; --port 0 takes any free one)\n`,
      );
    } finally {
      holder.close();
    }
  });
});

/** A raw request, so that the test decides every header (fetch adds a Content-Type of its own). */
function raw(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: body === undefined ? headers : { ...headers, "Content-Length": String(Buffer.byteLength(body)) } }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("news-moe serve: HTTP details (real server, embedded experts)", () => {
  let server: ServerProcess;
  const TOKEN = "s3cret-token-for-tests";
  beforeAll(async () => {
    const dir = await tempDir();
    server = await startServer(["--experts", "embedded", "--token", TOKEN], { env: isolatedEnv(dir) });
  });
  afterAll(async () => {
    expect((await server.stop()).code).toBe(0);
  });
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const item = JSON.stringify({ id: "a", content: "The home side won the final in the last minute." });

  it("a body that is not JSON by its Content-Type gets 415 naming the type; JSON and NDJSON types are taken", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", undefined]) {
      const answer = await raw(`${server.url}/v1/analyze`, "POST", { ...auth, ...(type ? { "Content-Type": type } : {}) }, item);
      expect(answer.status, String(type)).toBe(415);
      expect(JSON.parse(answer.text).error).toBe(
        `Content-Type ${type ? `"${type}"` : "missing"}: send application/json (one item or an array) or application/x-ndjson`,
      );
    }
    for (const type of ["application/json", "application/json; charset=utf-8", "application/x-ndjson", "application/vnd.news+json"]) {
      const answer = await raw(`${server.url}/v1/analyze`, "POST", { ...auth, "Content-Type": type }, item);
      expect(answer.status, type).toBe(200);
    }
  });

  it("a known path with the wrong method gets 405 and Allow; an unknown path 404", async () => {
    const cases: Array<[string, string, string]> = [
      ["GET", "/v1/analyze", "POST"],
      ["PUT", "/v1/analyze", "POST"],
      ["POST", "/healthz", "GET, HEAD"],
      ["DELETE", "/report", "GET, HEAD"],
      ["POST", "/", "GET, HEAD"],
      ["GET", "/v1/session", "POST"],
    ];
    for (const [method, path, allow] of cases) {
      const answer = await raw(`${server.url}${path}`, method, auth);
      expect(answer.status, `${method} ${path}`).toBe(405);
      expect(answer.headers.allow).toBe(allow);
      expect(JSON.parse(answer.text).error).toBe(`${method} is not allowed on ${path}; allowed: ${allow}`);
    }
    expect((await raw(`${server.url}/healthz`, "HEAD", {})).status).toBe(200);
    const options = await raw(`${server.url}/v1/analyze`, "OPTIONS", auth);
    expect([options.status, options.headers.allow]).toEqual([204, "POST"]);
    expect((await raw(`${server.url}/nowhere`, "GET", auth)).status).toBe(404);
  });

  it("with --token, POST /v1/session sets an HttpOnly SameSite=Strict cookie that opens /report, and only /report", async () => {
    expect((await raw(`${server.url}/v1/session`, "POST", {})).status).toBe(401);
    const session = await raw(`${server.url}/v1/session`, "POST", auth);
    expect(session.status).toBe(204);
    const setCookie = session.headers["set-cookie"]?.[0] ?? "";
    expect(setCookie).toMatch(/^news_moe_report=[\w-]+; Path=\/; HttpOnly; SameSite=Strict$/);
    // The cookie is not the token.
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(";")[0] ?? "";
    expect((await raw(`${server.url}/report`, "GET", {})).status).toBe(401);
    expect((await raw(`${server.url}/report`, "GET", { Cookie: "news_moe_report=forged" })).status).toBe(401);
    const report = await raw(`${server.url}/report`, "GET", { Cookie: cookie });
    expect(report.status).toBe(200);
    expect(report.text).toContain("<title>news-moe serve: items analysed so far</title>");
    expect((await raw(`${server.url}/v1/analyze`, "POST", { Cookie: cookie, "Content-Type": "application/json" }, item)).status).toBe(401);
    expect((await raw(`${server.url}/metrics`, "GET", { Cookie: cookie })).status).toBe(401);
  });

  it("every answer says what may run: pages their own inline code by hash, everything else nothing; none is sniffed", async () => {
    const policyOf = async (path: string, headers: Record<string, string> = {}) => {
      const answer = await raw(`${server.url}${path}`, "GET", headers);
      expect(answer.headers["x-content-type-options"]).toBe("nosniff");
      return String(answer.headers["content-security-policy"]);
    };
    for (const path of ["/", "/report"]) {
      const policy = await policyOf(path, auth);
      expect(policy).toMatch(/^default-src 'none'; script-src 'sha256-[\w+/=]+'/);
      expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
      expect(policy).toContain("frame-ancestors 'none'");
    }
    for (const path of ["/healthz", "/v1/experts", "/nowhere", "/metrics"]) {
      expect(await policyOf(path, auth)).toBe("default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    }
  });
});
