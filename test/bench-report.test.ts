/**
 * The bench's arithmetic on hand-made runner results: ratios against the baseline of the same run,
 * percentiles, and the token-identity tally (including batch padding after EOS).
 */
import { describe, expect, it } from "vitest";
import { buildReport, lengthTable, markdownTable } from "../bench/src/report.js";
import { percentile } from "../bench/src/stats.js";
import { decoderRows, histogramPercentile, lengthStats } from "../bench/src/summary-stats.js";
import { compareTokens, unpadSequence } from "../bench/src/token-identity.js";
import type { RunnerResult } from "../bench/src/types.js";

function result(system: string, runS: number, rows: Array<{ id: string; ids?: number[]; latency: number }>, vmhwmKb: number): RunnerResult {
  return {
    system,
    latency_kind: "service",
    import_s: 0.1,
    load_s: { summarizer: 1, sentiment: 0.5 },
    phases: [
      {
        name: "common",
        run_s: runS,
        rows: rows.map((r) => ({
          id: r.id,
          summary: "s",
          latency_s: r.latency,
          done_at_s: r.latency,
          ...(r.ids ? { summary_token_ids: r.ids, generated_tokens: r.ids.length - 1 } : {}),
        })),
      },
    ],
    vmhwm_kb: vmhwmKb,
    peak_rss_source: "test",
    threads: 2,
    versions: {},
    generation: {},
  };
}

describe("bench report", () => {
  it("takes every ratio against the baseline measured in the same run", () => {
    const baseline = result("tutorial", 40, [{ id: "a", ids: [2, 0, 5, 2], latency: 20 }, { id: "b", ids: [2, 0, 6, 2], latency: 20 }], 2_000_000);
    const fast = result("news-moe-fp32", 10, [{ id: "a", ids: [2, 0, 5, 2], latency: 10 }, { id: "b", ids: [2, 0, 7, 2], latency: 10 }], 1_000_000);
    const [base, ours] = buildReport(
      [
        { system: "tutorial", label: "tutorial", result: baseline },
        { system: "news-moe-fp32", label: "fp32", result: fast },
      ],
      "tutorial",
      ["news-moe-fp32"],
    );
    expect(base!.phases[0]!.speedup_vs_baseline).toBe(1);
    expect(ours!.phases[0]!.articles_per_s).toBeCloseTo(0.2);
    expect(ours!.phases[0]!.speedup_vs_baseline).toBeCloseTo(4);
    expect(ours!.phases[0]!.tokens_per_s).toBeCloseTo(0.6);
    expect(ours!.peak_rss_vs_baseline).toBe(0.5);
    expect(ours!.phases[0]!.token_identity).toMatchObject({ identical: 1, compared: 2, not_compared: 0 });
    expect(ours!.phases[0]!.token_identity!.first_mismatches).toEqual([{ id: "b", identical: false, first_difference: 2, length: 4, baseline_length: 4 }]);
    expect(markdownTable([base!, ours!])).toContain("| fp32 | common | 2 (2) | 0.200 | 4.0 |");
  });

  it("compares each phase's own peak with the baseline's in that phase, and only where the baseline did the work", () => {
    const baseline = result("tutorial", 40, [{ id: "a", latency: 20 }], 1_900_000);
    baseline.phases[0]!.vmhwm_kb = 1_843_200; // 1800 MB
    baseline.phases.push({ name: "long", run_s: 1, rows: [{ id: "L", summary_error: "index out of range", latency_s: 1, done_at_s: 1 }], vmhwm_kb: 1_024_000 });
    const ours = result("news-moe-q8", 10, [{ id: "a", latency: 10 }], 2_048_000);
    ours.phases[0]!.vmhwm_kb = 1_382_400; // 1350 MB
    ours.phases.push({ name: "long", run_s: 5, rows: [{ id: "L", summary: "s", latency_s: 5, done_at_s: 5 }], vmhwm_kb: 2_048_000 });
    const [, report] = buildReport(
      [
        { system: "tutorial", label: "tutorial", result: baseline },
        { system: "news-moe-q8", label: "q8", result: ours },
      ],
      "tutorial",
      [],
    );
    expect(report!.phases[0]).toMatchObject({ peak_rss_mb: 1350, peak_rss_vs_baseline: 0.75 });
    expect(report!.phases[1]!.peak_rss_mb).toBe(2000);
    expect(report!.phases[1]!.peak_rss_vs_baseline).toBeUndefined();
    expect(report!.peak_rss_mb).toBe(2000);
    expect(markdownTable([report!])).toContain("| 1350 | 0.75 | 2000 |");
  });

  it("reports a failed system without inventing numbers", () => {
    const [failed] = buildReport([{ system: "news-moe-q8", label: "q8", error: "runner exited with code 137" }], "tutorial", []);
    expect(failed).toMatchObject({ ok: false, error: "runner exited with code 137", phases: [] });
    expect(markdownTable([failed!])).toContain("failed: runner exited with code 137");
  });

  it("interpolates percentiles like NumPy's default", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 1, 7], 95)).toBeCloseTo(9.7);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });

  it("compares a batched row cut after its EOS with the lone sequence", () => {
    expect(unpadSequence([2, 0, 9, 2, 1, 1], 2)).toEqual([2, 0, 9, 2]);
    expect(compareTokens(unpadSequence([2, 0, 9, 2, 1], 2), [2, 0, 9, 2])).toEqual({ identical: true, length: 4, baseline_length: 4 });
    expect(compareTokens([2, 0, 9], [2, 0, 9, 2])).toMatchObject({ identical: false, first_difference: 3 });
  });

  it("describes the summaries' lengths from their exact ids, with the shares the realistic workload is held to", () => {
    // 10 lengths: 20, 30, ..., 110 generated tokens, and one at the 300 cap (299 after the start token).
    const lengths = [20, 30, 40, 50, 60, 70, 80, 90, 110, 299];
    const stats = lengthStats(lengths, 300)!;
    expect(stats).toMatchObject({ summaries: 10, max: 299, at_cap: 1, share_under_50: 0.3, share_over_110: 0.1 });
    expect(stats.mean).toBeCloseTo(84.9);
    expect(stats.p50).toBe(65);
    expect(stats.p10).toBeCloseTo(29); // NumPy: 20 + 0.9 * (30 - 20)
    expect(lengthStats([], 300)).toBeUndefined();
  });

  it("reads decoder rows per step from the timing where the engine reports them, else leaves them out", () => {
    expect(decoderRows({ steps: 10, rowSteps: 250 })).toEqual({ steps: 10, rows_per_step_mean: 25 });
    expect(decoderRows({ steps: 4, encodeMs: 1 })).toEqual({ steps: 4 });
    expect(decoderRows({ encodeMs: 1 })).toBeUndefined();
    // 10 steps: one of 4 rows, one of 8, eight of 20: the 10th percentile (nearest rank 1) is 4, the 20th is 8.
    const histogram = Array.from({ length: 21 }, (_, rows) => (rows === 4 || rows === 8 ? 1 : rows === 20 ? 8 : 0));
    expect(histogramPercentile(histogram, 10)).toBe(4);
    expect(histogramPercentile(histogram, 20)).toBe(8);
    expect(histogramPercentile(histogram, 50)).toBe(20);
    expect(histogramPercentile([0, 0], 10)).toBeUndefined();
    expect(decoderRows({ steps: 10, rowSteps: 172, rowsHistogram: histogram })).toEqual({ steps: 10, rows_per_step_mean: 17.2, rows_per_step_p10: 4 });
  });

  it("puts lengths, steps, rows per step and the time split in one table, with dashes for what a system does not report", () => {
    const tutorial = result("tutorial", 40, [{ id: "a", ids: [2, 0, 5, 2], latency: 20 }, { id: "b", ids: [2, 0, 6, 7, 2], latency: 20 }], 2_000_000);
    const ours = result("news-moe-fp32", 10, [{ id: "a", ids: [2, 0, 5, 2], latency: 10 }, { id: "b", ids: [2, 0, 6, 7, 2], latency: 10 }], 1_000_000);
    ours.phases[0]!.summarizer_timing = { encodeMs: 1500, decodeMs: 4000, steps: 4, rowSteps: 24 };
    ours.phases[0]!.sentiment_ms = 700;
    const reports = buildReport(
      [
        { system: "tutorial", label: "tutorial", result: tutorial },
        { system: "news-moe-fp32", label: "fp32", result: ours },
      ],
      "tutorial",
      ["news-moe-fp32"],
    );
    const table = lengthTable(reports);
    expect(table).toContain("| tutorial | common | 2 | 3.5 / 3 / 4 / 4 / 4 | 100% / 0% / 0 | – | – / – | – / – / – |");
    expect(table).toContain("| fp32 | common | 2 | 3.5 / 3 / 4 / 4 / 4 | 100% / 0% / 0 | 4 | 6.0 / – | 1.5 / 4.0 / 0.7 |");
  });
});
