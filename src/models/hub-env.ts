import { homedir } from "node:os";
import { join, resolve } from "node:path";

/**
 * The Hugging Face environment variables news-moe honours, read the way huggingface_hub reads
 * them so a machine set up for Python tools behaves the same here.
 */

export const DEFAULT_HUB_ENDPOINT = "https://huggingface.co";

type Env = Readonly<Record<string, string | undefined>>;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** huggingface_hub's truthy set: 1, ON, YES, TRUE, any case. */
export function isTruthyEnv(value: string | undefined): boolean {
  return value !== undefined && ["1", "ON", "YES", "TRUE"].includes(value.trim().toUpperCase());
}

/** `$HF_ENDPOINT` without a trailing slash, else huggingface.co. Mirrors set it. */
export function hubEndpoint(env: Env = process.env): string {
  return (nonEmpty(env["HF_ENDPOINT"]) ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, "");
}

/** `$HF_TOKEN`, else the legacy `$HUGGING_FACE_HUB_TOKEN`. */
export function hubToken(env: Env = process.env): string | undefined {
  return nonEmpty(env["HF_TOKEN"])?.trim() ?? nonEmpty(env["HUGGING_FACE_HUB_TOKEN"])?.trim();
}

/** The variable that switched offline mode on, if any (named in error messages). */
export function offlineEnvVar(env: Env = process.env): string | undefined {
  return ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"].find((name) => isTruthyEnv(env[name]));
}

/**
 * The hub cache root: `$HF_HUB_CACHE`, else the legacy `$HUGGINGFACE_HUB_CACHE`, else
 * `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
 */
export function defaultHubCacheDir(env: Env = process.env): string {
  const explicit = nonEmpty(env["HF_HUB_CACHE"]) ?? nonEmpty(env["HUGGINGFACE_HUB_CACHE"]);
  if (explicit) return resolve(expandHome(explicit));
  const hfHome = nonEmpty(env["HF_HOME"]);
  if (hfHome) return resolve(expandHome(hfHome), "hub");
  const xdgCache = nonEmpty(env["XDG_CACHE_HOME"]);
  return join(xdgCache ? resolve(expandHome(xdgCache)) : join(homedir(), ".cache"), "huggingface", "hub");
}

export function expandHome(path: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return join(homedir(), path.slice(2));
  return path;
}

function secondsToMs(value: string | undefined): number | undefined {
  const seconds = Number(nonEmpty(value));
  return Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : undefined;
}

/**
 * huggingface_hub's timeout variables, in ms: `HF_HUB_ETAG_TIMEOUT` bounds the wait for an answer
 * (our headers deadline), `HF_HUB_DOWNLOAD_TIMEOUT` the silence allowed mid-transfer.
 */
export function hubTimeoutsFromEnv(env: Env = process.env): { timeoutMs?: number; stallTimeoutMs?: number } {
  const timeoutMs = secondsToMs(env["HF_HUB_ETAG_TIMEOUT"]);
  const stallTimeoutMs = secondsToMs(env["HF_HUB_DOWNLOAD_TIMEOUT"]);
  return { ...(timeoutMs ? { timeoutMs } : {}), ...(stallTimeoutMs ? { stallTimeoutMs } : {}) };
}
