/**
 * Turns the runners' results into the bench report: per system and phase the throughput, latency,
 * load time and peak RSS, each system's ratio to the tutorial's baseline measured in the same run,
 * and the token-identity check of news-moe fp32 against the Python pipeline.
 */
import { percentile, rate, speedup, sum } from "./stats.js";
import { decoderRows, lengthStats, type DecoderRows, type LengthStats } from "./summary-stats.js";
import { compareTokens, tallyIdentity, type IdentityTally } from "./token-identity.js";
import type { PhaseResult, RunnerResult, TokenComparison } from "./types.js";

export interface PhaseReport {
  phase: string;
  articles: number;
  /** Articles whose summary came out without an error. */
  summarised: number;
  run_s: number;
  articles_per_s: number;
  generated_tokens: number;
  tokens_per_s: number;
  latency_p50_s: number;
  latency_p95_s: number;
  /** articles/s divided by the baseline's in the same phase (NaN for the baseline's failures). */
  speedup_vs_baseline: number;
  /** Against the baseline's summary token ids, where both sides have them. */
  token_identity?: IdentityTally & { first_mismatches: Array<{ id: string } & TokenComparison> };
  /** Peak RSS during this phase alone (the loaded models included), MB. */
  peak_rss_mb?: number | null;
  /** This phase's peak over the baseline's peak in the same phase (only where the baseline did the work). */
  peak_rss_vs_baseline?: number;
  /** Generated tokens of the summaries whose ids are known exactly (whole articles, not long ones' windows). */
  summary_lengths?: LengthStats;
  /** news-moe: decoder steps and rows per step in the phase. */
  decoder?: DecoderRows;
  /** news-moe: encoder (with cross-attention keys/values), decoder steps and sentiment expert time, s. */
  encoder_s?: number;
  decoder_steps_s?: number;
  sentiment_s?: number;
}

export interface SystemReport {
  system: string;
  label: string;
  ok: boolean;
  error?: string;
  latency_kind?: RunnerResult["latency_kind"];
  load_s?: number;
  import_s?: number;
  peak_rss_mb?: number | null;
  rss_after_load_mb?: number | null;
  peak_rss_vs_baseline?: number;
  versions?: Record<string, string>;
  generation?: Record<string, unknown>;
  notes?: string[];
  phases: PhaseReport[];
}

export interface SystemOutcome {
  system: string;
  label: string;
  result?: RunnerResult;
  error?: string;
}

const mb = (kb: number | null | undefined): number | null => (kb == null ? null : Math.round(kb / 102.4) / 10);

function phaseTokens(phase: PhaseResult): number {
  return phase.generated_tokens_total ?? sum(phase.rows.map((r) => r.generated_tokens ?? 0));
}

/** `maxLength`: the summary limit of the run (decoder start token included), to count summaries that hit it. */
export function buildReport(outcomes: readonly SystemOutcome[], baselineSystem: string, identitySystems: readonly string[], maxLength = 300): SystemReport[] {
  const baseline = outcomes.find((o) => o.system === baselineSystem)?.result;
  const baselinePhase = (name: string) => baseline?.phases.find((p) => p.name === name);
  return outcomes.map(({ system, label, result, error }) => {
    if (!result) return { system, label, ok: false, error: error ?? "no result", phases: [] };
    const phases = result.phases.map((phase): PhaseReport => {
      const tokens = phaseTokens(phase);
      const articlesPerS = rate(phase.rows.length, phase.run_s);
      const base = baselinePhase(phase.name);
      const report: PhaseReport = {
        phase: phase.name,
        articles: phase.rows.length,
        summarised: phase.rows.filter((r) => r.summary !== undefined && r.summary_error === undefined).length,
        run_s: phase.run_s,
        articles_per_s: articlesPerS,
        generated_tokens: tokens,
        tokens_per_s: rate(tokens, phase.run_s),
        latency_p50_s: percentile(phase.rows.map((r) => r.latency_s ?? r.done_at_s), 50),
        latency_p95_s: percentile(phase.rows.map((r) => r.latency_s ?? r.done_at_s), 95),
        // Only against a baseline that did the work: failing fast on every long article is no throughput.
        speedup_vs_baseline:
          base && base.rows.every((r) => r.summary_error === undefined)
            ? speedup(articlesPerS, rate(base.rows.length, base.run_s))
            : Number.NaN,
        peak_rss_mb: mb(phase.vmhwm_kb),
      };
      const lengths = lengthStats(
        phase.rows.flatMap((r) => (r.summary_token_ids ? [r.summary_token_ids.length - 1] : [])),
        maxLength,
      );
      if (lengths) report.summary_lengths = lengths;
      const decoder = decoderRows(phase.summarizer_timing);
      if (decoder) report.decoder = decoder;
      const timing = phase.summarizer_timing;
      if (typeof timing?.["encodeMs"] === "number") report.encoder_s = timing["encodeMs"] / 1000;
      if (typeof timing?.["decodeMs"] === "number") report.decoder_steps_s = timing["decodeMs"] / 1000;
      if (phase.sentiment_ms !== undefined) report.sentiment_s = phase.sentiment_ms / 1000;
      if (base && identitySystems.includes(system)) {
        const baseIds = new Map(base.rows.map((r) => [r.id, r.summary_token_ids]));
        const comparisons = phase.rows.map((row) => {
          const theirs = baseIds.get(row.id);
          return row.summary_token_ids && theirs ? { id: row.id, ...compareTokens(row.summary_token_ids, theirs) } : undefined;
        });
        report.token_identity = {
          ...tallyIdentity(comparisons),
          first_mismatches: comparisons.filter((c): c is NonNullable<typeof c> => c !== undefined && !c.identical).slice(0, 5),
        };
      }
      const basePhasePeak = mb(base?.vmhwm_kb);
      if (report.peak_rss_mb != null && basePhasePeak && base?.rows.every((r) => r.summary_error === undefined)) {
        report.peak_rss_vs_baseline = Math.round((report.peak_rss_mb / basePhasePeak) * 100) / 100;
      }
      return report;
    });
    const peak = mb(result.vmhwm_kb);
    const basePeak = mb(baseline?.vmhwm_kb);
    return {
      system,
      label,
      ok: true,
      latency_kind: result.latency_kind,
      import_s: result.import_s,
      load_s: result.load_s.summarizer + (result.load_s.sentiment ?? 0),
      peak_rss_mb: peak,
      rss_after_load_mb: mb(result.rss_after_load_kb),
      ...(peak != null && basePeak ? { peak_rss_vs_baseline: Math.round((peak / basePeak) * 100) / 100 } : {}),
      versions: result.versions,
      generation: result.generation,
      notes: result.notes ?? [],
      phases,
    };
  });
}

const fixed = (value: number | null | undefined, digits: number): string =>
  value == null || !Number.isFinite(value) ? "–" : value.toFixed(digits);

/** The README's table: one row per system and phase. */
export function markdownTable(reports: readonly SystemReport[]): string {
  const lines = [
    "| system | phase | articles (summarised) | articles/s | × tutorial | tokens/s | p50 / p95 latency (s) | load (s) | peak RSS in phase (MB) | × tutorial | peak RSS, whole run (MB) | tokens = tutorial |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of reports) {
    if (!r.ok) {
      lines.push(`| ${r.label} | – | failed: ${r.error?.split("\n")[0] ?? "?"} | | | | | | | | | |`);
      continue;
    }
    for (const p of r.phases) {
      const identity = p.token_identity ? `${p.token_identity.identical}/${p.token_identity.compared}` : "";
      lines.push(
        `| ${r.label} | ${p.phase} | ${p.articles} (${p.summarised}) | ${fixed(p.articles_per_s, 3)} | ${fixed(p.speedup_vs_baseline, 1)} | ` +
          `${fixed(p.tokens_per_s, 1)} | ${fixed(p.latency_p50_s, 1)} / ${fixed(p.latency_p95_s, 1)} | ${fixed(r.load_s, 1)} | ` +
          `${fixed(p.peak_rss_mb, 0)} | ${fixed(p.peak_rss_vs_baseline, 2)} | ${fixed(r.peak_rss_mb, 0)} | ${identity} |`,
      );
    }
  }
  return lines.join("\n");
}

const share = (value: number): string => `${Math.round(100 * value)}%`;

/**
 * The summaries' lengths (generated tokens, from exact ids: the long articles' windows are not
 * counted) and the decoder's batch: steps run and rows (beams) per step. "–" where a system does not
 * report it.
 */
export function lengthTable(reports: readonly SystemReport[]): string {
  const lines = [
    "| system | phase | summaries | tokens mean / p10 / p50 / p90 / max | < 50 / > 110 tokens / at the cap | decoder steps | rows per step mean / p10 | encoder / decoder steps / sentiment (s) |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const r of reports) {
    for (const p of r.phases) {
      const l = p.summary_lengths;
      const d = p.decoder;
      if (!l && !d) continue;
      lines.push(
        `| ${r.label} | ${p.phase} | ${l?.summaries ?? 0} | ${l ? `${fixed(l.mean, 1)} / ${fixed(l.p10, 0)} / ${fixed(l.p50, 0)} / ${fixed(l.p90, 0)} / ${l.max}` : "–"} | ` +
          `${l ? `${share(l.share_under_50)} / ${share(l.share_over_110)} / ${l.at_cap}` : "–"} | ${d ? d.steps : "–"} | ` +
          `${fixed(d?.rows_per_step_mean, 1)} / ${fixed(d?.rows_per_step_p10, 0)} | ` +
          `${fixed(p.encoder_s, 1)} / ${fixed(p.decoder_steps_s, 1)} / ${fixed(p.sentiment_s, 1)} |`,
      );
    }
  }
  return lines.length > 2 ? lines.join("\n") : "";
}

/**
 * Where news-moe's summarisation time went, per system and phase: encoder (with the cross-attention
 * keys/values), decoder step runs (ONNX Runtime, their output copies and the cache write), cache moves
 * for beam reordering, and the search itself in JavaScript; and the sentiment expert's own time.
 */
export function timingTable(outcomes: readonly SystemOutcome[]): string {
  const lines = [
    "| system | phase | decoder | encoder | decoder steps | cache moves | search (JS) | steps (from the graph's top-K / replayed for a tie) | sentiment expert (s) |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const outcome of outcomes) {
    for (const phase of outcome.result?.phases ?? []) {
      const t = phase.summarizer_timing;
      if (!t || typeof t["totalMs"] !== "number") continue;
      const n = (key: string): number => Number(t[key] ?? 0);
      const total = n("totalMs");
      const share = (ms: number): string => `${((100 * ms) / total).toFixed(0)}% (${(ms / 1000).toFixed(1)} s)`;
      const search = total - n("encodeMs") - n("decodeMs") - n("reorderMs");
      lines.push(
        `| ${outcome.label} | ${phase.name} | ${String(t["engine"] ?? "?")} | ${share(n("encodeMs"))} | ${share(n("decodeMs"))} | ${share(n("reorderMs"))} | ` +
          `${share(search)} | ${n("steps")} (${n("modelScoredSteps")} / ${n("replayedSteps")}) | ${((phase.sentiment_ms ?? 0) / 1000).toFixed(1)} |`,
      );
    }
  }
  return lines.length > 2 ? lines.join("\n") : "";
}
