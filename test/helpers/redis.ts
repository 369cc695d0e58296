import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { afterEach } from "vitest";

/** True when a redis-server binary is on PATH (.ci/run installs it; see README "Scaling out with Redis"). */
export const HAVE_REDIS = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;

/** A port the kernel just handed out on loopback, free when this returns. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServerOptions {
  /** Data directory (for the append-only file). */
  dir: string;
  /** Turn on the append-only file with this fsync policy; default: no persistence at all. */
  appendfsync?: "always" | "everysec";
  port?: number;
}

/**
 * A real redis-server of the test's own, on a free loopback port (never the default 6379, so a
 * Redis the machine runs is left alone). `kill()` stops it the hard way, `start()` again on the
 * same port and directory: what a crash and a restart look like.
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  port = 0;

  constructor(private readonly options: RedisServerOptions) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port ||= this.options.port ?? (await freePort());
    const persistence = this.options.appendfsync
      ? ["--appendonly", "yes", "--appendfsync", this.options.appendfsync]
      : ["--appendonly", "no"];
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", ...persistence, "--dir", this.options.dir],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    let log = "";
    child.stdout?.setEncoding("utf8").on("data", (text: string) => (log += text));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${log}`)), 20_000);
      const check = () => {
        if (log.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on("data", check);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${log}`));
      });
    });
  }

  /** SIGKILL: no shutdown save, no goodbye; only what was fsynced survives. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    this.child = undefined;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
    this.child = undefined;
  }

  /** A client for the test's own looks at the data (not the code under test's connection). */
  client(): Redis {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1 });
    client.on("error", () => {});
    return client;
  }
}

/**
 * The redis-servers and processes (workers, collects) a test file starts, ended after each test,
 * passed or not, so no worker or server outlives its test. Call once at the top of a test file.
 */
export function endAfterEachTest(): {
  redisServer(dir: string, appendfsync?: "always"): Promise<RedisServer>;
  track(child: ChildProcess): void;
} {
  const servers: RedisServer[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    for (const server of servers.splice(0)) await server.stop();
  });
  return {
    async redisServer(dir, appendfsync) {
      const server = new RedisServer({ dir, ...(appendfsync ? { appendfsync } : {}) });
      servers.push(server);
      await server.start();
      return server;
    },
    track: (child) => void children.push(child),
  };
}
