import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { join, relative } from "node:path";

/**
 * A real HTTP server on 127.0.0.1 that answers like huggingface.co's resolve endpoint:
 *
 *   HEAD|GET /{repo}/resolve/{revision}/{path}
 *     small files: 200 with ETag (git blob sha1), Content-Length, X-Repo-Commit
 *     "LFS" files (*.onnx): 302 to /cdn/{sha256} with X-Linked-Etag (sha256), X-Linked-Size, X-Repo-Commit
 *     missing file: 404 X-Error-Code: EntryNotFound; unknown revision: 404 RevisionNotFound
 *     unknown repo: 401 RepoNotFound (what the hub says to anonymous callers); gated repo without
 *     the right token: 401 (no token) or 403 (wrong token) with X-Error-Code: GatedRepo
 *     renamed repo: 307 with a relative Location to the new name
 *   GET /cdn/{sha256}: the bytes, honouring Range (206 + Content-Range), like the CDN
 *
 * Faults can be armed per file path: cut the connection half-way, stall half-way, serve wrong
 * bytes, ignore Range, answer 503.
 * Every request is recorded so tests can count them.
 */

export interface RecordedRequest {
  method: string;
  url: string;
  range: string | undefined;
  authorization: string | undefined;
}

interface StoredFile {
  content: Buffer;
  sha256: string;
  gitSha1: string;
  lfs: boolean;
}

interface FakeRepo {
  branches: Map<string, string>;
  commits: Map<string, Map<string, StoredFile>>;
  gatedToken?: string;
}

export interface Faults {
  /** Paths whose next N downloads send half the bytes, then drop the connection. */
  cutHalfway: Map<string, number>;
  /** Paths whose next N downloads send half the bytes, then go silent with the connection open. */
  stallHalfway: Map<string, number>;
  /** Paths whose downloads carry different bytes of the right length (sha256 mismatch). */
  corrupt: Set<string>;
  /** Paths served whole (200) even to a Range request, like a server without range support. */
  ignoreRange: Set<string>;
  /** Paths (or "*") whose next N requests, HEAD or GET, answer 503. */
  unavailable: Map<string, number>;
}

function gitBlobSha1(content: Buffer): string {
  return createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex");
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split("\\").join("/"));
}

let commitCounter = 0;
function newCommitHash(label: string): string {
  return createHash("sha1").update(`${label}:${++commitCounter}:${Date.now()}`).digest("hex");
}

export class FakeHub {
  readonly requests: RecordedRequest[] = [];
  readonly faults: Faults = {
    cutHalfway: new Map(),
    stallHalfway: new Map(),
    corrupt: new Set(),
    ignoreRange: new Set(),
    unavailable: new Map(),
  };
  private readonly repos = new Map<string, FakeRepo>();
  private readonly renamed = new Map<string, string>();
  private readonly blobs = new Map<string, StoredFile & { path: string }>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeHub> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const hub = new FakeHub(server, `http://127.0.0.1:${port}`);
    server.on("request", (request, response) => {
      hub.handle(request, response).catch((error: unknown) => {
        response.statusCode = 500;
        response.end(String(error));
      });
    });
    return hub;
  }

  /** Publishes the files under `dir` as a new commit of `repoId` and moves `branch` onto it. */
  async publish(repoId: string, dir: string, options: { branch?: string; gatedToken?: string } = {}): Promise<string> {
    const repo: FakeRepo = this.repos.get(repoId) ?? { branches: new Map(), commits: new Map() };
    if (options.gatedToken) repo.gatedToken = options.gatedToken;
    const files = new Map<string, StoredFile>();
    for (const path of await listFiles(dir)) {
      const content = await readFile(join(dir, ...path.split("/")));
      const file = {
        content,
        sha256: createHash("sha256").update(content).digest("hex"),
        gitSha1: gitBlobSha1(content),
        lfs: path.endsWith(".onnx"),
      };
      files.set(path, file);
      if (file.lfs) this.blobs.set(file.sha256, { ...file, path });
    }
    const commit = newCommitHash(repoId);
    repo.commits.set(commit, files);
    repo.branches.set(options.branch ?? "main", commit);
    this.repos.set(repoId, repo);
    return commit;
  }

  /** Makes `oldId` answer with a relative redirect to `newId`, as the hub does after a rename. */
  rename(oldId: string, newId: string): void {
    this.renamed.set(oldId, newId);
  }

  /** Requests whose URL contains `fragment` and whose method matches, if given. */
  count(filter: { method?: string; fragment?: string } = {}): number {
    return this.requests.filter(
      (r) => (!filter.method || r.method === filter.method) && (!filter.fragment || r.url.includes(filter.fragment)),
    ).length;
  }

  resetLog(): void {
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private takeFault(map: Map<string, number>, path: string): boolean {
    for (const key of [path, "*"]) {
      const left = map.get(key) ?? 0;
      if (left > 0) {
        map.set(key, left - 1);
        return true;
      }
    }
    return false;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? "GET";
    const url = request.url ?? "/";
    this.requests.push({
      method,
      url,
      range: request.headers.range,
      authorization: request.headers.authorization,
    });

    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url);
    if (cdn?.[1]) {
      const blob = this.blobs.get(cdn[1]);
      if (!blob) return this.fail(response, 404, "EntryNotFound");
      if (this.takeFault(this.faults.unavailable, blob.path)) return this.fail(response, 503, "");
      return this.sendBytes(request, response, blob.path, blob.content, {});
    }

    const resolve = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(url);
    if (!resolve?.[1] || !resolve[2] || !resolve[3]) return this.fail(response, 404, "");
    const repoId = resolve[1];
    const revision = decodeURIComponent(resolve[2]);
    const path = resolve[3].split("/").map(decodeURIComponent).join("/");

    const newName = this.renamed.get(repoId);
    if (newName) {
      response.writeHead(307, { location: `/${newName}/resolve/${resolve[2]}/${resolve[3]}` });
      return void response.end();
    }
    const repo = this.repos.get(repoId);
    if (!repo) return this.fail(response, 401, "RepoNotFound", "Repository not found");
    if (repo.gatedToken && request.headers.authorization !== `Bearer ${repo.gatedToken}`) {
      return this.fail(response, request.headers.authorization ? 403 : 401, "GatedRepo", "Access to this model is restricted");
    }
    const commit = repo.commits.has(revision) ? revision : repo.branches.get(revision);
    const files = commit ? repo.commits.get(commit) : undefined;
    if (!commit || !files) return this.fail(response, 404, "RevisionNotFound", "Invalid rev id");
    if (this.takeFault(this.faults.unavailable, path)) return this.fail(response, 503, "");
    const file = files.get(path);
    if (!file) return this.fail(response, 404, "EntryNotFound", "Entry not found", commit);

    if (file.lfs) {
      response.writeHead(302, {
        location: `${this.url}/cdn/${file.sha256}`,
        "x-repo-commit": commit,
        "x-linked-etag": `"${file.sha256}"`,
        "x-linked-size": String(file.content.length),
        // The pointer file's etag, which a client must not mistake for the content's.
        etag: `"${gitBlobSha1(Buffer.from(`version lfs ${file.sha256}`))}"`,
        "content-length": "0",
      });
      return void response.end();
    }
    return this.sendBytes(request, response, path, file.content, {
      "x-repo-commit": commit,
      etag: `"${file.gitSha1}"`,
    });
  }

  private fail(response: ServerResponse, status: number, code: string, message?: string, commit?: string): void {
    response.writeHead(status, {
      ...(code ? { "x-error-code": code } : {}),
      ...(message ? { "x-error-message": message } : {}),
      ...(commit ? { "x-repo-commit": commit } : {}),
      "content-type": "text/plain",
    });
    response.end(message ?? "");
  }

  private sendBytes(
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    original: Buffer,
    headers: Record<string, string>,
  ): void {
    const content = this.faults.corrupt.has(path) ? Buffer.from(original.map((byte) => byte ^ 0xff)) : original;
    let start = 0;
    const range = this.faults.ignoreRange.has(path) ? null : /^bytes=(\d+)-$/.exec(request.headers.range ?? "");
    if (range?.[1] !== undefined) {
      start = Number(range[1]);
      if (start >= content.length) {
        response.writeHead(416, { "content-range": `bytes */${content.length}` });
        return void response.end();
      }
    }
    const body = content.subarray(start);
    response.writeHead(range ? 206 : 200, {
      ...headers,
      "accept-ranges": "bytes",
      "content-length": String(body.length),
      ...(range ? { "content-range": `bytes ${start}-${content.length - 1}/${content.length}` } : {}),
    });
    if (request.method === "HEAD") return void response.end();
    if (this.takeFault(this.faults.cutHalfway, path)) {
      const half = body.subarray(0, Math.floor(body.length / 2));
      // The pause lets the client drain what arrived: a stream errored by the cut drops chunks
      // still queued, and a real cut rarely comes the instant the last byte was sent.
      response.write(half, () => setTimeout(() => response.socket?.destroy(), 150));
      return;
    }
    if (this.takeFault(this.faults.stallHalfway, path)) {
      response.write(body.subarray(0, Math.floor(body.length / 2)));
      return; // never ends; close() drops the connection
    }
    response.end(body);
  }
}

/** A TCP server that accepts connections and never answers: a hub that hangs. */
export async function startSilentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port that was just free and is now closed: connecting to it is refused at once. */
export async function closedPortUrl(): Promise<string> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * The environment of a user online with an empty cache under `home`, whose hub is `hub`: HF_ENDPOINT
 * set, every offline switch and cache override of this machine taken away.
 */
export function onlineUserEnv(hub: FakeHub, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HF_ENDPOINT: hub.url, HF_HOME: join(home, "hf"), NO_COLOR: "1" };
  for (const name of ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN"]) delete env[name];
  return env;
}
