import { Redis } from "ioredis";

/** A Redis URL the user gave could not be used. */
export class RedisUrlError extends Error {
  constructor(url: string, problem: string) {
    super(`--redis ${redactUrl(url)}: ${problem}`);
    this.name = "RedisUrlError";
  }
}

/**
 * Redis could not be reached (`cannot connect to Redis at URL: connection refused`), or stopped
 * answering during the command and did not come back in time. Not a bug and not bad usage: the
 * same command may work once Redis is up.
 */
export class RedisUnavailableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
    readonly lost = false,
    options?: { cause?: unknown },
  ) {
    super(`${lost ? "lost the connection to" : "cannot connect to"} Redis at ${redactUrl(url)}: ${reason}`, options);
    this.name = "RedisUnavailableError";
  }
}

/** The default when neither --redis nor NEWS_MOE_REDIS says otherwise. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** How long a command's connection waits for a Redis that went away mid-command to come back. */
export const COMMAND_RECONNECT_PATIENCE_MS = 10_000;

/** The URL for messages: a password in it is not repeated on a terminal or in a log. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

function parseRedisUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisUrlError(url, "not a URL; expected redis://HOST:PORT");
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new RedisUrlError(url, `unsupported scheme ${parsed.protocol}; expected redis:// or rediss://`);
  }
  return parsed;
}

const SOCKET_PROBLEMS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "timed out",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found (DNS lookup failed)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EPIPE: "connection closed by the server",
};

/** A Redis client's error in words for a person: `connection refused`, not `connect ECONNREFUSED 127.0.0.1:6379`. */
export function describeRedisError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && SOCKET_PROBLEMS[code]) return SOCKET_PROBLEMS[code];
  const message = error instanceof Error ? error.message : String(error);
  if (/^(NOAUTH|WRONGPASS)/.test(message)) return `authentication failed (${message})`;
  if (/connect ETIMEDOUT|^Connection timed out/i.test(message)) return "timed out";
  return message;
}

/**
 * One ioredis connection for a queue worker: it retries forever, as BullMQ requires, so a Redis
 * restart pauses the worker instead of ending it.
 */
export function connectRedis(url: string): Redis {
  parseRedisUrl(url);
  return new Redis(url, { maxRetriesPerRequest: null });
}

/**
 * The connection of a command that does one thing and ends (submit, status, collect): connected
 * before the command starts, so an unreachable Redis is one {@link RedisUnavailableError} at once
 * (no retries on the first connection), and a Redis lost midway is waited for
 * `patienceMs`, then the same error (`lost the connection to ...`).
 */
export async function openCommandRedis(url: string, patienceMs = COMMAND_RECONNECT_PATIENCE_MS): Promise<CommandRedis> {
  parseRedisUrl(url);
  let lastError: unknown;
  let connected = false;
  let downSince: number | undefined;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 5_000,
    // Commands wait while the connection is being retried; they fail when the retrying ends.
    maxRetriesPerRequest: null,
    retryStrategy: (times) => {
      if (!connected) return null;
      downSince ??= Date.now();
      return Date.now() - downSince > patienceMs ? null : Math.min(times * 100, 1_000);
    },
  });
  redis.on("error", (error: unknown) => (lastError = error));
  redis.on("ready", () => {
    connected = true;
    downSince = undefined;
  });
  try {
    await redis.connect();
  } catch (error) {
    // An ended client has no socket left; disconnecting it would only arm ioredis's 2 s close timer.
    if (redis.status !== "end") redis.disconnect();
    throw new RedisUnavailableError(url, describeRedisError(lastError ?? error), false, { cause: lastError ?? error });
  }
  return {
    redis,
    translate: (error) =>
      isConnectionFailure(error) ? new RedisUnavailableError(url, describeRedisError(lastError ?? error), true, { cause: error }) : error,
  };
}

export interface CommandRedis {
  redis: Redis;
  /** A command's error as the user should see it: a lost connection becomes a {@link RedisUnavailableError}. */
  translate(error: unknown): unknown;
}

/** Errors ioredis rejects a command with when the connection, not the command, failed. */
function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return error.name === "MaxRetriesPerRequestError" || /^Connection is closed\.?$/.test(error.message) || (code !== undefined && code in SOCKET_PROBLEMS);
}
