import { createAdaptorServer } from "@hono/node-server";
import type { Server } from "node:http";
import { Server as NetServer, type AddressInfo, type Socket } from "node:net";
import type { Hono } from "hono";

export interface RunningServer {
  host: string;
  port: number;
  /**
   * Stops listening and resolves once every open connection has ended: each busy one after its
   * answer, each quiet one (between requests, or never used) at the keep-alive timeout.
   */
  close(): Promise<void>;
}

/** Names that reach only this machine; anything else needs a token (see serve-command.ts). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "");
  return bare === "localhost" || bare === "::1" || /^127\.\d+\.\d+\.\d+$/.test(bare) || bare === "::ffff:127.0.0.1";
}

/** The address could not be bound; `code` is the system's (EADDRINUSE, EACCES, EADDRNOTAVAIL...). */
export class ListenError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly code: string,
    cause: Error,
  ) {
    super(`cannot listen on ${host}:${port}: ${cause.message}`, { cause });
    this.name = "ListenError";
  }
}

/**
 * The server's open connections, each with how many of its requests are unanswered and since when
 * it has been quiet, so that shutdown closes only connections no request is on.
 */
class ConnectionBook {
  private readonly open = new Map<Socket, { busy: number; quietSince: number }>();
  private busy = 0;
  /** When a connection last arrived or an answer last ended. */
  private lastActivity = Date.now();

  constructor(server: Server) {
    server.on("connection", (socket: Socket) => {
      this.lastActivity = Date.now();
      this.open.set(socket, { busy: 0, quietSince: Date.now() });
      socket.once("close", () => this.open.delete(socket));
    });
    server.on("request", (request, response) => {
      const entry = this.open.get(request.socket);
      if (!entry) return;
      entry.busy++;
      this.busy++;
      response.once("close", () => {
        entry.busy--;
        this.busy--;
        entry.quietSince = this.lastActivity = Date.now();
      });
    });
  }

  /**
   * Resolves once no request is in work and nothing has happened for `quietMs` (or after
   * `atMostMs` whatever happens): a client that just got its answer connects again at once, and its
   * connection must find the listener still there.
   */
  async settled(quietMs: number, atMostMs: number): Promise<void> {
    const giveUp = Date.now() + atMostMs;
    while (Date.now() < giveUp && (this.busy > 0 || Date.now() - this.lastActivity < quietMs)) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Ends the connections with no request on them that have been quiet for `ms` or longer. */
  closeQuiet(ms: number): void {
    const now = Date.now();
    for (const [socket, entry] of this.open) if (entry.busy === 0 && now - entry.quietSince >= ms) socket.destroy();
  }
}

/** How long the listener waits for quiet before it closes, and at most. */
const LISTENER_QUIET_MS = 300;
const LISTENER_LINGER_MS = 3000;

/** Binds the app to host:port (0: any free port) and resolves with the port actually bound. */
export function listen(app: Hono, host: string, port: number): Promise<RunningServer> {
  // overrideGlobalObjects: false leaves the process's global Request/Response alone (tests and
  // plugins in the same process use them).
  const server = createAdaptorServer({ fetch: app.fetch, hostname: host, overrideGlobalObjects: false }) as Server;
  const connections = new ConnectionBook(server);
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(new ListenError(host, port, error.code ?? "", error));
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      const address = server.address() as AddressInfo;
      resolve({
        host,
        port: address.port,
        close: async () => {
          // A listening socket closed with connections in its accept queue resets them; closing
          // only once the clients have gone quiet leaves that queue empty in all but a race with
          // a client that connects after a quiet spell, the moment the listener goes.
          await connections.settled(LISTENER_QUIET_MS, LISTENER_LINGER_MS);
          await new Promise<void>((done) => {
            // net's close, not http's: http.Server.close() also drops every idle keep-alive
            // connection at once, racing a client that is just sending its next request on one (it
            // sees a reset). Those end at the keep-alive timeout instead, a moment the client knows
            // from the Keep-Alive header; meanwhile a request on one is answered (503 while draining).
            const sweep = setInterval(() => connections.closeQuiet(server.keepAliveTimeout), 250);
            NetServer.prototype.close.call(server, () => {
              clearInterval(sweep);
              done();
            });
          });
        },
      });
    });
  });
}
