import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { withFileLock } from "./file-lock.js";
import type { HubCacheRepo, LinkMethod } from "./hub-cache.js";
import { hubEndpoint, hubTimeoutsFromEnv, hubToken } from "./hub-env.js";
import { isCommitHash } from "./model-spec.js";

/**
 * Fetches single files of a hub repo into the hub cache the way huggingface_hub does: a HEAD on
 * `{endpoint}/{repo}/resolve/{revision}/{path}` (without following the CDN redirect) tells the
 * commit, the etag and the size; the bytes then go to `blobs/{etag}.incomplete`, resuming with
 * `Range` after a cut, are verified (size, and sha256 where the etag is one), moved into place
 * atomically and linked from the snapshot.
 */

export interface DownloadProgress {
  repoId: string;
  /** Repo-relative path of the file. */
  file: string;
  bytesDone: number;
  /** Undefined when neither the hub nor the transfer said how big the file is. */
  bytesTotal: number | undefined;
  /**
   * `downloading` while bytes flow (the first event carries the resumed offset), `done` once
   * verified and stored, `cached` when the blob was already there, `absent` for an optional file
   * the repo does not have.
   */
  status: "downloading" | "done" | "cached" | "absent";
}

export interface HubRequestOptions {
  /** Defaults to `$HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /** Defaults to `$HF_TOKEN`. Sent only to the endpoint's own origin, never to a CDN elsewhere. */
  token?: string;
  /** How long to wait for response headers, connecting included, before giving up (`$HF_HUB_ETAG_TIMEOUT` s, else 10 s). */
  timeoutMs?: number;
  /** Silence allowed mid-transfer before it counts as cut and is resumed (`$HF_HUB_DOWNLOAD_TIMEOUT` s, else 30 s). */
  stallTimeoutMs?: number;
  /** Retries after a transient failure (5xx, 429, connection reset, stalled transfer). */
  maxRetries?: number;
  /** First retry delay; doubles each time, capped at 8 s. */
  retryDelayMs?: number;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RETRIES = 4;
export const DEFAULT_RETRY_DELAY_MS = 500;

export type HubErrorReason =
  | "unauthorized" // 401/403: gated, private, or no such repo (the hub answers 401 for those too)
  | "not-found" // 404: no such file or revision
  | "unreachable" // DNS failure, refused, no route, connect timeout
  | "timeout" // connected but no answer in time
  | "network" // connection cut mid-way
  | "http" // any other status
  | "verification" // bytes do not match the size or sha256 the hub announced
  | "protocol"; // the server did not send what a hub sends (ETag, X-Repo-Commit)

export class HubError extends Error {
  constructor(
    message: string,
    readonly reason: HubErrorReason,
    readonly url: string,
    readonly details: { status?: number; commit?: string; transient?: boolean; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "HubError";
  }

  get status(): number | undefined {
    return this.details.status;
  }

  /** Worth retrying: the same request may well succeed in a moment. */
  get transient(): boolean {
    return this.details.transient === true;
  }
}

export function resolveUrl(endpoint: string, repoId: string, revision: string, path: string): string {
  const encodedPath = path.split("/").map(encodeURIComponent).join("/");
  return `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${encodedPath}`;
}

interface Settings {
  endpoint: string;
  token: string | undefined;
  timeoutMs: number;
  stallTimeoutMs: number;
  maxRetries: number;
  retryDelayMs: number;
  signal: AbortSignal | undefined;
  onProgress: ((progress: DownloadProgress) => void) | undefined;
}

function settingsFrom(options: HubRequestOptions): Settings {
  const fromEnv = hubTimeoutsFromEnv();
  return {
    endpoint: (options.endpoint ?? hubEndpoint()).replace(/\/+$/, ""),
    token: options.token ?? hubToken(),
    timeoutMs: options.timeoutMs ?? fromEnv.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    stallTimeoutMs: options.stallTimeoutMs ?? fromEnv.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
    maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    retryDelayMs: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
    signal: options.signal,
    onProgress: options.onProgress,
  };
}

function requestHeaders(settings: Settings, url: string, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = {
    "user-agent": "news-moe (model store; node fetch)",
    // Sizes and Range offsets must refer to the bytes on disk, not to a gzip transfer encoding.
    "accept-encoding": "identity",
    ...extra,
  };
  if (settings.token && new URL(url).origin === new URL(settings.endpoint).origin) {
    headers["authorization"] = `Bearer ${settings.token}`;
  }
  return headers;
}

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function errorCode(error: unknown): string | undefined {
  // fetch wraps socket errors: TypeError("fetch failed", { cause: Error { code } }), sometimes twice.
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeCause(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * One fetch with a deadline for the response headers and, once armed, a deadline between body
 * chunks; failures come out as HubErrors that say whether a retry could help.
 */
class TimedRequest {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private expired: "headers" | "stall" | undefined;

  constructor(
    private readonly settings: Settings,
    readonly url: string,
  ) {}

  async send(init: { method: "HEAD" | "GET"; headers: Record<string, string>; redirect: "manual" | "follow" }): Promise<Response> {
    this.settings.signal?.throwIfAborted();
    const signals = [this.controller.signal, ...(this.settings.signal ? [this.settings.signal] : [])];
    this.arm("headers", this.settings.timeoutMs);
    try {
      return await fetch(this.url, { ...init, signal: AbortSignal.any(signals) });
    } catch (error) {
      throw this.translate(error);
    } finally {
      this.disarm();
    }
  }

  /** Restarts the between-chunks deadline; call on every chunk. */
  keepAlive(): void {
    this.arm("stall", this.settings.stallTimeoutMs);
  }

  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(kind: "headers" | "stall", ms: number): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.expired = kind;
      this.controller.abort();
    }, ms);
  }

  translate(error: unknown): unknown {
    if (error instanceof HubError) return error;
    if (this.settings.signal?.aborted) return this.settings.signal.reason ?? error;
    const host = new URL(this.url).host;
    if (this.expired === "headers") {
      return new HubError(
        `no answer from ${host} within ${formatSeconds(this.settings.timeoutMs)} (${this.url}); the hub is unreachable from here`,
        "timeout",
        this.url,
        { cause: error },
      );
    }
    if (this.expired === "stall") {
      return new HubError(
        `the transfer from ${host} stalled: no data for ${formatSeconds(this.settings.stallTimeoutMs)}`,
        "network",
        this.url,
        { cause: error, transient: true },
      );
    }
    const code = errorCode(error);
    if (code && UNREACHABLE_CODES.has(code)) {
      return new HubError(`cannot reach ${host} (${describeCause(error)})`, "unreachable", this.url, { cause: error });
    }
    return new HubError(`connection to ${host} failed: ${describeCause(error)}`, "network", this.url, {
      cause: error,
      transient: true,
    });
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Turns a non-2xx hub answer into an error that says what to do about it. */
function statusError(response: Response, url: string, settings: Settings, what: string): HubError {
  const status = response.status;
  const code = response.headers.get("x-error-code") ?? "";
  const serverMessage = response.headers.get("x-error-message");
  const commit = response.headers.get("x-repo-commit") ?? undefined;
  const suffix = serverMessage ? ` (hub says: ${serverMessage})` : "";
  const details = { status, ...(commit ? { commit } : {}) };
  if (status === 401 || status === 403) {
    const tokenHint = settings.token
      ? "HF_TOKEN is set, but its account has no access to it"
      : "no HF_TOKEN is set";
    const gated = code === "GatedRepo";
    return new HubError(
      `${what}: access denied (HTTP ${status}). ` +
        (gated
          ? `The repository is gated: accept its conditions on its hub page, then set HF_TOKEN to a token of that account (${tokenHint}).`
          : `The repository does not exist, or it is private or gated: check the id, and for a private or gated repo set HF_TOKEN to a token with read access (${tokenHint}).`) +
        suffix,
      "unauthorized",
      url,
      details,
    );
  }
  if (status === 404) {
    const detail =
      code === "RevisionNotFound"
        ? "the revision does not exist in that repository"
        : code === "RepoNotFound"
          ? "the repository does not exist"
          : "the file does not exist at that revision";
    // The hub always says which kind of 404 it is; a server that does not is probably no hub.
    const notAHub = code === "" ? `; the server did not say why, is ${settings.endpoint} (HF_ENDPOINT) a Hugging Face hub?` : "";
    return new HubError(`${what}: not found (HTTP 404): ${detail}${suffix}${notAHub}`, "not-found", url, details);
  }
  const transient = status >= 500 || status === 429 || status === 408;
  return new HubError(`${what}: HTTP ${status} ${response.statusText}${suffix}`.trim(), "http", url, {
    ...details,
    transient,
  });
}

/**
 * Runs `attempt` again after transient failures, with exponential backoff. An attempt that made
 * progress (`progress()` grew, e.g. bytes landed on disk before a cut) resets the count, so a long
 * download over a flaky line keeps going as long as it keeps advancing.
 */
async function withRetries<T>(
  settings: Settings,
  attempt: () => Promise<T>,
  progress: () => Promise<number> = async () => 0,
): Promise<T> {
  let lastProgress = await progress();
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof HubError) || !error.transient) throw error;
      const nowProgress = await progress();
      if (nowProgress > lastProgress) retry = 0;
      lastProgress = nowProgress;
      if (retry >= settings.maxRetries) throw error;
      const delay = Math.min(settings.retryDelayMs * 2 ** retry, 8_000) * (1 + Math.random() * 0.25);
      await sleep(delay, undefined, settings.signal ? { signal: settings.signal } : {});
    }
  }
}

export interface HubFileMetadata {
  repoId: string;
  path: string;
  /** The commit the revision resolved to (`X-Repo-Commit`). */
  commit: string | undefined;
  /** Normalised: no quotes, no `W/`. sha256 hex for LFS files, git sha1 for the others. */
  etag: string;
  size: number | undefined;
  /** Where the bytes are: the CDN URL for LFS files, the resolve URL otherwise. */
  downloadUrl: string;
}

function normaliseEtag(etag: string | null): string | undefined {
  if (etag === null) return undefined;
  const stripped = etag.trim().replace(/^W\//, "").replace(/^"|"$/g, "");
  return stripped === "" ? undefined : stripped;
}

function parseSize(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

// An absolute Location (scheme or `//host`) means "the bytes are elsewhere" (the CDN); a relative
// one means the repo was renamed and the hub wants the same request at the new path.
function isRelativeLocation(location: string): boolean {
  return !/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(location);
}

/** HEAD on the resolve URL. Throws HubError (`not-found` for a file the repo lacks). */
export async function fetchFileMetadata(
  repoId: string,
  revision: string,
  path: string,
  options: HubRequestOptions = {},
): Promise<HubFileMetadata> {
  const settings = settingsFrom(options);
  const what = `${repoId}@${revision}: ${path}`;
  return withRetries(settings, async () => {
    let url = resolveUrl(settings.endpoint, repoId, revision, path);
    for (let hops = 0; ; hops++) {
      const request = new TimedRequest(settings, url);
      const response = await request.send({ method: "HEAD", headers: requestHeaders(settings, url), redirect: "manual" });
      const location = response.headers.get("location");
      const redirected = response.status >= 300 && response.status < 400 && location !== null;
      if (redirected && isRelativeLocation(location) && hops < 5) {
        url = new URL(location, url).toString();
        continue;
      }
      if (!redirected && !response.ok) throw statusError(response, url, settings, what);
      const etag = normaliseEtag(response.headers.get("x-linked-etag") ?? response.headers.get("etag"));
      if (!etag) {
        throw new HubError(
          `${what}: the server sent no ETag, so the file cannot be cached or verified; is ${settings.endpoint} (HF_ENDPOINT) a Hugging Face hub?`,
          "protocol",
          url,
        );
      }
      const linkedSize = parseSize(response.headers.get("x-linked-size"));
      return {
        repoId,
        path,
        commit: response.headers.get("x-repo-commit") ?? undefined,
        etag,
        // A redirect's own Content-Length measures the redirect body, not the file.
        size: linkedSize ?? (redirected ? undefined : parseSize(response.headers.get("content-length"))),
        downloadUrl: redirected ? new URL(location, url).toString() : url,
      };
    }
  });
}

export interface CachedHubFile {
  path: string;
  commit: string;
  etag: string;
  size: number;
  /** The snapshot path: `snapshots/{commit}/{path}`. */
  pointer: string;
  /** False when the blob was already in the cache and no bytes moved. */
  transferred: boolean;
  link: LinkMethod;
}

/**
 * Gets one file of `cache.repoId` at `revision` into the cache (blob + snapshot link). Does not
 * touch `refs/`: the caller writes the ref once the whole model is there, so an interrupted pull
 * never moves a branch onto a half-filled snapshot.
 */
export async function downloadFileToCache(
  cache: HubCacheRepo,
  revision: string,
  path: string,
  options: HubRequestOptions = {},
): Promise<CachedHubFile> {
  const settings = settingsFrom(options);
  const metadata = await fetchFileMetadata(cache.repoId, revision, path, options);
  const commit = metadata.commit ?? (isCommitHash(revision) ? revision : undefined);
  if (!commit) {
    throw new HubError(
      `${cache.repoId}@${revision}: ${path}: the server sent no X-Repo-Commit header, so the file cannot be filed under a snapshot; is ${settings.endpoint} (HF_ENDPOINT) a Hugging Face hub?`,
      "protocol",
      metadata.downloadUrl,
    );
  }
  const report = (bytesDone: number, bytesTotal: number | undefined, status: DownloadProgress["status"]) =>
    settings.onProgress?.({ repoId: cache.repoId, file: path, bytesDone, bytesTotal, status });

  let transferred = false;
  if (!(await cache.hasBlob(metadata.etag))) {
    await withFileLock(
      cache.lockPath(metadata.etag),
      async () => {
        // Another process may have finished it while we waited for the lock.
        if (await cache.hasBlob(metadata.etag)) return;
        await fetchBlob(cache, metadata, settings, report);
        transferred = true;
      },
      settings.signal ? { signal: settings.signal } : {},
    );
  }
  const size = (await stat(cache.blobPath(metadata.etag))).size;
  const link = await cache.linkSnapshotFile(commit, path, metadata.etag);
  report(size, size, transferred ? "done" : "cached");
  return { path, commit, etag: metadata.etag, size, pointer: cache.snapshotFile(commit, path), transferred, link };
}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (info) => info.size,
    () => 0,
  );
}

function parseContentRangeStart(value: string | null): number | undefined {
  const match = value === null ? null : /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(value.trim());
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

async function fetchBlob(
  cache: HubCacheRepo,
  metadata: HubFileMetadata,
  settings: Settings,
  report: (done: number, total: number | undefined, status: DownloadProgress["status"]) => void,
): Promise<void> {
  const partial = cache.incompletePath(metadata.etag);
  const what = `${cache.repoId}: ${metadata.path}`;
  await mkdir(cache.blobsDir, { recursive: true });
  let expectedSize = metadata.size;

  const attempt = async () => {
    let offset = await sizeOf(partial);
    if (expectedSize !== undefined && offset > expectedSize) {
      await cache.discardIncomplete(metadata.etag);
      offset = 0;
    }
    if (expectedSize !== undefined && offset === expectedSize && offset > 0) return; // complete, verify below

    const url = metadata.downloadUrl;
    const request = new TimedRequest(settings, url);
    const range: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const response = await request.send({ method: "GET", headers: requestHeaders(settings, url, range), redirect: "follow" });
    if (response.status === 416) {
      // The partial is not a prefix the server recognises: start over on the next attempt.
      await response.body?.cancel();
      await cache.discardIncomplete(metadata.etag);
      throw new HubError(`${what}: the server rejected resuming at byte ${offset}`, "http", url, { status: 416, transient: true });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw statusError(response, url, settings, what);
    }
    if (response.status === 206 && parseContentRangeStart(response.headers.get("content-range")) !== offset) {
      await response.body?.cancel();
      await cache.discardIncomplete(metadata.etag);
      throw new HubError(`${what}: the server resumed at the wrong offset`, "protocol", url, { transient: true });
    }
    // A 200 to a Range request means the server ignored it: the body is the whole file.
    const resumed = response.status === 206;
    const start = resumed ? offset : 0;
    const bodyLength = parseSize(response.headers.get("content-length"));
    expectedSize ??= bodyLength === undefined ? undefined : start + bodyLength;

    const handle = await open(partial, resumed ? "a" : "w");
    let done = start;
    let lastReport = 0;
    report(done, expectedSize, "downloading");
    try {
      if (response.body) {
        const chunks = response.body[Symbol.asyncIterator]();
        request.keepAlive();
        for (;;) {
          // Only the network side is translated (and maybe retried); a disk error (ENOSPC,
          // EACCES) from the writes below surfaces as itself.
          const next = await chunks.next().catch((error: unknown) => {
            throw request.translate(error);
          });
          if (next.done) break;
          request.keepAlive();
          await handle.write(next.value);
          done += next.value.byteLength;
          if (Date.now() - lastReport >= 100) {
            lastReport = Date.now();
            report(done, expectedSize, "downloading");
          }
        }
      }
      // Durable before the rename, so a power cut cannot leave a renamed blob full of zeros.
      await handle.datasync();
    } finally {
      request.disarm();
      await handle.close();
    }
    report(done, expectedSize, "downloading");
    if (expectedSize !== undefined && done < expectedSize) {
      throw new HubError(`${what}: the connection closed after ${done} of ${expectedSize} bytes`, "network", url, {
        transient: true,
      });
    }
  };
  await withRetries(settings, attempt, () => sizeOf(partial));

  await verifyPartial(partial, metadata, expectedSize, what);
  await rename(partial, cache.blobPath(metadata.etag));
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function verifyPartial(partial: string, metadata: HubFileMetadata, expectedSize: number | undefined, what: string) {
  const actualSize = await sizeOf(partial);
  const fail = async (problem: string) => {
    // Never keep bytes that failed verification: a resume would build on them.
    await rm(partial, { force: true });
    return new HubError(`${what}: downloaded file rejected: ${problem}; nothing was stored, run the pull again`, "verification", metadata.downloadUrl);
  };
  if (expectedSize !== undefined && actualSize !== expectedSize) {
    throw await fail(`size is ${actualSize} bytes, the hub announced ${expectedSize}`);
  }
  if (/^[0-9a-f]{64}$/.test(metadata.etag)) {
    const actual = await sha256Of(partial);
    if (actual !== metadata.etag) throw await fail(`sha256 is ${actual}, the hub announced ${metadata.etag}`);
  }
}
