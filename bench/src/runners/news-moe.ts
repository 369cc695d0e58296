/**
 * Bench runner for news-moe (systems b and c): the real library path, in a child process of its own.
 *
 *   node bench/dist/runners/news-moe.js SPEC.json
 *
 * The built-in registry's two neural experts (the tutorial's models on ONNX Runtime) are loaded
 * explicitly first, so model load time is measured on its own, and then each phase's articles go
 * through `analyzeStream` with the "all" router (the tutorial's gating) exactly as the CLI runs them:
 * the orchestrator batches articles per expert and both experts work concurrently. Nothing is warmed
 * up beforehand (neither is the Python baseline).
 *
 * Per-article latency here is the time from the phase's start until the article's record came out of
 * the stream (records come out in input order), i.e. what a consumer of the stream waits.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { captureSummaryIds } from "../capture-summary-ids.js";
import type { PhaseResult, RunnerResult, RunnerRow } from "../types.js";
import { articlesById, log, packageVersion, PEAK_RSS_SOURCE, PeakTracker, procStatusKb, readArticles, readSpec, runMain, seconds, writeResult } from "./runner-io.js";

async function main(): Promise<void> {
  const spec = readSpec();
  const started = performance.now();
  const lib = await import("../../../dist/index.js");
  const names = await import("../../../dist/experts/neural/options.js");
  const importS = seconds(started);

  const config = JSON.parse(readFileSync(join(spec.summarizerModel, "config.json"), "utf8")) as { eos_token_id?: number };
  const capture = captureSummaryIds(config.eos_token_id ?? 2);
  const registry = lib.createDefaultRegistry({
    summarizer: {
      summarizerModel: spec.summarizerModel,
      dtype: spec.dtype,
      offline: true,
      threads: spec.threads,
      ...(spec.batching ? { batching: spec.batching } : {}),
      generation: { maxLength: spec.maxLength, minLength: spec.minLength },
    },
    sentiment: { sentimentModel: spec.sentimentModel!, dtype: spec.dtype, offline: true, threads: spec.threads },
  });
  const summarizer = registry.get(names.NEURAL_SUMMARIZER_NAME);
  const sentiment = registry.get(names.NEURAL_SENTIMENT_NAME);
  let t = performance.now();
  await summarizer.load({});
  const summarizerLoadS = seconds(t);
  t = performance.now();
  await sentiment.load({});
  const sentimentLoadS = seconds(t);
  const rssAfterLoad = procStatusKb("VmRSS");
  log(spec.system, `models loaded (summariser ${summarizerLoadS.toFixed(1)} s, sentiment ${sentimentLoadS.toFixed(1)} s)`);

  // The sentiment expert's own time, to report its share (it runs concurrently with the summariser).
  let sentimentMs = 0;
  const analyzeSentiment = sentiment.analyze.bind(sentiment);
  sentiment.analyze = async (...args: Parameters<typeof sentiment.analyze>) => {
    const t0 = performance.now();
    try {
      return await analyzeSentiment(...args);
    } finally {
      sentimentMs += performance.now() - t0;
    }
  };
  type Timing = Record<string, number | string | number[]>;
  const timingOf = async (): Promise<Timing> => {
    const timed = summarizer as unknown as { generationTiming?: () => Promise<Timing> };
    return timed.generationTiming ? await timed.generationTiming() : {};
  };

  const articles = readArticles(spec.articles);
  const phases: PhaseResult[] = [];
  const peaks = new PeakTracker();
  for (const phase of spec.phases) {
    const items = articlesById(articles, phase.ids);
    capture.reset();
    const timingBefore = await timingOf();
    const sentimentBefore = sentimentMs;
    const rows: RunnerRow[] = [];
    const resetWorked = peaks.startPhase();
    const phaseStart = performance.now();
    const stream = lib.analyzeStream(items, {
      registry,
      experts: ["neural"],
      router: "all",
      onNotice: (message) => log(spec.system, message),
    });
    for await (const record of stream) {
      const doneAt = seconds(phaseStart);
      const row: RunnerRow = { id: String(record.id), done_at_s: doneAt, latency_s: doneAt };
      const summary = record.analyses[names.NEURAL_SUMMARIZER_NAME] as Record<string, unknown> | undefined;
      if (!summary) row.summary_error = record.error ?? "no summary in the record";
      else if (typeof summary["error"] === "string") row.summary_error = summary["error"];
      else {
        row.summary = String(summary["summary"]);
        if (summary["long_article"] !== undefined) row.long_article = summary["long_article"];
        // Whole articles: the one generated sequence. Long ones: the text is a join or a re-summary.
        const ids = summary["long_article"] === undefined ? capture.idsFor(row.summary) : undefined;
        if (ids) {
          row.summary_token_ids = ids;
          row.generated_tokens = ids.length - 1;
        }
      }
      const mood = record.analyses[names.NEURAL_SENTIMENT_NAME] as Record<string, unknown> | undefined;
      if (mood && typeof mood["error"] === "string") row.sentiment_error = mood["error"];
      else if (mood) {
        row.sentiment_label = String(mood["sentiment_label"]);
        row.sentiment_score = Number(mood["sentiment_score"]);
      }
      rows.push(row);
      log(spec.system, `${phase.name} ${rows.length}/${items.length} ${row.id} at ${doneAt.toFixed(1)} s${row.summary_error ? ` error: ${row.summary_error}` : ""}`);
    }
    const timingAfter = await timingOf();
    // Counters grow over the process's life: the phase's share is after minus before (histograms bin by bin).
    const summarizerTiming: Timing = {};
    for (const [key, value] of Object.entries(timingAfter)) {
      const before = timingBefore[key];
      if (typeof value === "number") summarizerTiming[key] = value - Number(before ?? 0);
      else if (Array.isArray(value)) summarizerTiming[key] = value.map((n, i) => n - (Array.isArray(before) ? (before[i] ?? 0) : 0));
      else summarizerTiming[key] = value;
    }
    phases.push({
      name: phase.name,
      run_s: seconds(phaseStart),
      rows,
      generated_tokens_total: capture.generatedTokens(),
      summarizer_timing: summarizerTiming,
      sentiment_ms: sentimentMs - sentimentBefore,
      vmhwm_kb: peaks.endPhase(resetWorked),
    });
  }
  capture.restore();

  const result: RunnerResult = {
    system: spec.system,
    latency_kind: "since_start",
    import_s: importS,
    load_s: { summarizer: summarizerLoadS, sentiment: sentimentLoadS },
    phases,
    vmhwm_kb: peaks.runPeak(),
    rss_after_load_kb: rssAfterLoad,
    peak_rss_source: PEAK_RSS_SOURCE,
    threads: spec.threads,
    versions: { node: process.versions.node, "onnxruntime-node": packageVersion("onnxruntime-node") },
    generation: { maxLength: spec.maxLength, minLength: spec.minLength, dtype: spec.dtype, batching: spec.batching ?? "expert default", rest: "model generation_config.json" },
    notes: [
      "library analyzeStream, router 'all', experts 'neural'; the orchestrator's default batching and concurrency",
      "sentiment: news-moe's expert reads the whole article in 512-token windows (the tutorial: content[:2000])",
    ],
  };
  await Promise.all([summarizer.dispose?.(), sentiment.dispose?.()]);
  writeResult(spec, result);
  log(spec.system, `done; VmHWM ${result.vmhwm_kb} kB`);
}

runMain(main);
