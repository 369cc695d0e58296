import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Hono } from "hono";

export interface RunningServer {
  host: string;
  port: number;
  /** Stops accepting connections and resolves once every open answer has been sent. */
  close(): Promise<void>;
}

/** Names that reach only this machine; anything else needs a token (see serve-command.ts). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "");
  return bare === "localhost" || bare === "::1" || /^127\.\d+\.\d+\.\d+$/.test(bare) || bare === "::ffff:127.0.0.1";
}

/** Binds the app to host:port (0: any free port) and resolves with the port actually bound. */
export function listen(app: Hono, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    // overrideGlobalObjects: false leaves the process's global Request/Response alone (tests and
    // plugins in the same process use them).
    const server = serve({ fetch: app.fetch, hostname: host, port, overrideGlobalObjects: false }) as Server;
    server.once("error", reject);
    server.once("listening", () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      resolve({
        host,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Idle keep-alive connections would otherwise hold close() open until they time out.
            server.closeIdleConnections();
          }),
      });
    });
  });
}
