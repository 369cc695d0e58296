import type { ModelDtype, ModelKind } from "./model-files.js";

export interface ModelNotAvailableDetails {
  /** The spec as the user wrote it. */
  spec: string;
  kind?: ModelKind | "auto";
  dtype: ModelDtype;
  /** Why, in one clause: "offline mode is on and it is not in the cache". */
  reason: string;
  /** Files (repo-relative) that are missing; empty when unknown. */
  missing?: readonly string[];
  /** Exact paths (and URLs) that were looked at. */
  lookedIn: readonly string[];
  /** The hub id to suggest to `news-moe models pull`; absent for local-directory specs. */
  hubId?: string;
  /** What switched offline mode on ("HF_HUB_OFFLINE=1", "--offline", ...), when it was on. */
  offlineBecause?: string;
  cause?: unknown;
}

/**
 * A model could not be had: not on disk, not in the cache, and not downloadable right now. The
 * message says which model, what is missing and where we looked; `details` carries the data a
 * front end needs to say how to get it in its own terms (the CLI names its commands and flags).
 * Neural experts wrap it into ExpertUnavailableError (as its cause) so the router falls back.
 */
export class ModelNotAvailableError extends Error {
  readonly spec: string;
  readonly missing: readonly string[];
  readonly lookedIn: readonly string[];
  readonly reason: string;

  constructor(readonly details: ModelNotAvailableDetails) {
    super(ModelNotAvailableError.format(details), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "ModelNotAvailableError";
    this.spec = details.spec;
    this.missing = details.missing ?? [];
    this.lookedIn = details.lookedIn;
    this.reason = details.reason;
  }

  private static format(details: ModelNotAvailableDetails): string {
    const what = [details.kind && details.kind !== "auto" ? details.kind : undefined, details.dtype].filter(Boolean).join(", ");
    const lines = [`Model ${details.spec} (${what}) is not available: ${details.reason}.`];
    if (details.missing && details.missing.length > 0) lines.push(`  Missing: ${details.missing.join(", ")}`);
    if (details.lookedIn.length > 0) {
      lines.push("  Looked in:", ...details.lookedIn.map((place) => `    ${place}`));
    }
    return lines.join("\n");
  }
}
