import { createHash } from "node:crypto";

/** The CSP source expression for one inline <script> or <style> element's exact text. */
export function inlineSource(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

export interface PagePolicy {
  /** The exact texts of the page's inline scripts and styles: only these may run or apply. */
  scripts: string[];
  styles: string[];
  /** Whether the page's script may fetch from its own origin (the try page posts articles). */
  connectSelf?: boolean;
  /** A policy in a <meta> element leaves out what only a header may say (browsers warn of it). */
  delivery: "header" | "meta";
}

/**
 * A Content-Security-Policy for a page whose code is all inline: nothing loads from anywhere, and
 * only the page's own scripts and styles (by hash) run, so markup smuggled in by data, were any
 * to slip through, could neither run script nor send anything away. `frame-ancestors` takes
 * effect only in a header (a <meta> policy ignores it).
 */
export function contentSecurityPolicy(policy: PagePolicy): string {
  return [
    "default-src 'none'",
    `script-src ${policy.scripts.map(inlineSource).join(" ")}`,
    `style-src ${policy.styles.map(inlineSource).join(" ")}`,
    "img-src data:",
    policy.connectSelf ? "connect-src 'self'" : "",
    "base-uri 'none'",
    "form-action 'none'",
    policy.delivery === "header" ? "frame-ancestors 'none'" : "",
  ]
    .filter(Boolean)
    .join("; ");
}

/** The policy for everything a server answers that is not a page (JSON, text): nothing at all. */
export const NO_CONTENT_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
