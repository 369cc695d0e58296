import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { expandHome } from "./hub-env.js";

/** A model is named either by a directory on disk or by a Hugging Face hub id (`owner/name[@revision]`). */
export type ModelSpec =
  | { type: "local"; spec: string; path: string }
  | { type: "hub"; spec: string; repoId: string; revision: string; revisionGiven: boolean };

export const DEFAULT_REVISION = "main";

export class InvalidModelSpecError extends Error {
  constructor(
    readonly spec: string,
    reason: string,
  ) {
    super(`"${spec}" is not a model: ${reason}`);
    this.name = "InvalidModelSpecError";
  }
}

// The hub's own rules (huggingface_hub validate_repo_id): letters, digits, `-`, `_`, `.`; no `--`
// or `..`; no leading/trailing `-`/`.`; at most 96 characters; an optional `owner/` prefix.
const REPO_PART = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

function isValidRepoId(repoId: string): boolean {
  const parts = repoId.split("/");
  if (parts.length > 2 || repoId.length > 96) return false;
  return parts.every((part) => REPO_PART.test(part) && !part.includes("--") && !part.includes(".."));
}

/** Paths that are unmistakably paths, whether or not they exist yet. */
function looksLikePath(spec: string): boolean {
  return (
    isAbsolute(spec) ||
    spec === "." ||
    spec === ".." ||
    spec === "~" ||
    /^(\.{1,2}|~)[\\/]/.test(spec) ||
    spec.includes("\\")
  );
}

/**
 * Decides what `spec` names. A path (absolute, `./`, `../`, `~/`) is local even when it does not
 * exist, so a typo is reported as a missing directory, not as an unknown hub repo. Anything else
 * that exists on disk relative to `cwd` is local too (like transformers does), so a folder called
 * `Xenova/distilbart-cnn-6-6` in the working directory shadows the hub id of the same name.
 */
export function parseModelSpec(spec: string, cwd: string = process.cwd()): ModelSpec {
  const trimmed = spec.trim();
  if (trimmed === "") throw new InvalidModelSpecError(spec, "the name is empty");
  if (looksLikePath(trimmed) || existsSync(resolve(cwd, trimmed))) {
    return { type: "local", spec, path: resolve(cwd, expandHome(trimmed)) };
  }
  const at = trimmed.indexOf("@");
  const repoId = at === -1 ? trimmed : trimmed.slice(0, at);
  const revision = at === -1 ? DEFAULT_REVISION : trimmed.slice(at + 1);
  if (!isValidRepoId(repoId)) {
    throw new InvalidModelSpecError(
      spec,
      "it is neither an existing directory nor a hub id like Xenova/distilbart-cnn-6-6[@revision]",
    );
  }
  if (revision === "" || /\s/.test(revision) || revision.split("/").some((part) => part === ".." || part === "")) {
    throw new InvalidModelSpecError(spec, `"${revision}" is not a valid revision (a branch, tag or commit hash)`);
  }
  return { type: "hub", spec, repoId, revision, revisionGiven: at !== -1 };
}

/** A full 40-hex git commit hash: the only revision that can never move. */
export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}
