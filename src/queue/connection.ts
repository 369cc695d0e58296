import { Redis } from "ioredis";

/** A Redis URL the user gave could not be used. */
export class RedisUrlError extends Error {
  constructor(url: string, problem: string) {
    super(`--redis ${url}: ${problem}`);
    this.name = "RedisUrlError";
  }
}

/** The default when neither --redis nor NEWS_MOE_REDIS says otherwise. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/**
 * One ioredis connection to `url` (redis://[user:pass@]host:port[/db] or rediss://).
 * `blocking` connections (a BullMQ worker's) retry forever, as BullMQ requires; the others fail a
 * command after a few reconnection tries, so a CLI command against a Redis that is down ends with
 * an error instead of hanging.
 */
export function connectRedis(url: string, options: { blocking?: boolean } = {}): Redis {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisUrlError(url, "not a URL; expected redis://HOST:PORT");
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new RedisUrlError(url, `unsupported scheme ${parsed.protocol}; expected redis:// or rediss://`);
  }
  return new Redis(url, { maxRetriesPerRequest: options.blocking ? null : 3 });
}
