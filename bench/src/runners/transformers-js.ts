/**
 * Bench runner for transformers.js' own pipelines (system d, for reference), in a child process.
 *
 *   node bench/dist/runners/transformers-js.js SPEC.json
 *
 * What a TypeScript user would write today: `pipeline("summarization", dir)` from
 * @huggingface/transformers on the same exported ONNX directory (offline: `env.allowRemoteModels =
 * false`, `env.localModelPath` = its parent), called per article, one after the other, with the
 * tutorial's `max_length` / `min_length`. transformers.js has no beam search (its "beam" sampler keeps
 * no beams), so this is greedy: `num_beams: 1` is passed explicitly, since the model's generation
 * config asks for 4. Its tokens are therefore not expected to match the beam-search baseline. The
 * sentiment pipeline runs on `content[:2000]`, as in the tutorial. transformers.js loads the merged
 * decoder (`decoder_model_merged.onnx`).
 *
 * Token ids: the pipeline returns text, so `model.generate` is wrapped to keep the tensor it returns.
 */
import { basename, dirname, resolve } from "node:path";
import type { PhaseResult, RunnerResult, RunnerRow } from "../types.js";
import { articlesById, log, packageVersion, PEAK_RSS_SOURCE, PeakTracker, procStatusKb, readArticles, readSpec, runMain, seconds, writeResult } from "./runner-io.js";

interface TensorLike {
  dims: number[];
  data: ArrayLike<number | bigint>;
}

type Pipe = ((input: string, options?: Record<string, unknown>) => Promise<unknown>) & {
  model: { generate: (...args: unknown[]) => Promise<unknown> };
  dispose?: () => Promise<void>;
};

/** Row 0 of a [rows, length] id tensor as numbers. */
function firstRow(tensor: TensorLike): number[] {
  const length = tensor.dims[tensor.dims.length - 1]!;
  return Array.from({ length }, (_, i) => Number(tensor.data[i]!));
}

async function main(): Promise<void> {
  const spec = readSpec();
  const started = performance.now();
  const transformers = (await import("@huggingface/transformers")) as unknown as {
    env: { allowRemoteModels: boolean; allowLocalModels: boolean; localModelPath: string };
    pipeline: (task: string, model: string, options: Record<string, unknown>) => Promise<Pipe>;
  };
  const importS = seconds(started);
  const { env, pipeline } = transformers;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;

  // transformers.js resolves a model id under localModelPath; point it at each model's parent directory.
  const open = async (task: string, dir: string): Promise<Pipe> => {
    const absolute = resolve(dir);
    env.localModelPath = `${dirname(absolute)}/`;
    return pipeline(task, basename(absolute), {
      dtype: spec.dtype,
      session_options: { intraOpNumThreads: spec.threads, interOpNumThreads: 1 },
    });
  };
  let t = performance.now();
  const summarizer = await open("summarization", spec.summarizerModel);
  const summarizerLoadS = seconds(t);
  let sentiment: Pipe | undefined;
  let sentimentLoadS: number | undefined;
  if (spec.sentimentModel) {
    t = performance.now();
    sentiment = await open("sentiment-analysis", spec.sentimentModel);
    sentimentLoadS = seconds(t);
  }
  const rssAfterLoad = procStatusKb("VmRSS");
  log(spec.system, `models loaded (summariser ${summarizerLoadS.toFixed(1)} s)`);

  const captured: TensorLike[] = [];
  const generate = summarizer.model.generate.bind(summarizer.model);
  summarizer.model.generate = async (...args: unknown[]) => {
    const output = await generate(...args);
    captured.push(output as TensorLike);
    return output;
  };

  const articles = readArticles(spec.articles);
  const phases: PhaseResult[] = [];
  const peaks = new PeakTracker();
  for (const phase of spec.phases) {
    const items = articlesById(articles, phase.ids);
    const rows: RunnerRow[] = [];
    const resetWorked = peaks.startPhase();
    const phaseStart = performance.now();
    for (const item of items) {
      const articleStart = performance.now();
      const row: RunnerRow = { id: item.id, done_at_s: 0 };
      captured.length = 0;
      try {
        const out = (await summarizer(item.content, {
          max_length: spec.maxLength,
          min_length: spec.minLength,
          num_beams: 1,
          do_sample: false,
        })) as Array<{ summary_text: string }>;
        row.summary = out[0]!.summary_text;
        if (captured.length === 1) {
          row.summary_token_ids = firstRow(captured[0]!);
          row.generated_tokens = row.summary_token_ids.length - 1;
        }
      } catch (error) {
        row.summary_error = error instanceof Error ? error.message : String(error);
      }
      if (sentiment) {
        try {
          const out = (await sentiment(item.content.slice(0, 2000))) as Array<{ label: string; score: number }>;
          row.sentiment_label = out[0]!.label;
          row.sentiment_score = out[0]!.score;
        } catch (error) {
          row.sentiment_error = error instanceof Error ? error.message : String(error);
        }
      }
      row.latency_s = seconds(articleStart);
      row.done_at_s = seconds(phaseStart);
      rows.push(row);
      log(spec.system, `${phase.name} ${rows.length}/${items.length} ${row.id} ${row.summary_error ? `error: ${row.summary_error}` : `${row.latency_s.toFixed(1)} s`}`);
    }
    phases.push({ name: phase.name, run_s: seconds(phaseStart), rows, vmhwm_kb: peaks.endPhase(resetWorked) });
  }

  const result: RunnerResult = {
    system: spec.system,
    latency_kind: "service",
    import_s: importS,
    load_s: { summarizer: summarizerLoadS, ...(sentimentLoadS !== undefined ? { sentiment: sentimentLoadS } : {}) },
    phases,
    vmhwm_kb: peaks.runPeak(),
    rss_after_load_kb: rssAfterLoad,
    peak_rss_source: PEAK_RSS_SOURCE,
    threads: spec.threads,
    versions: {
      node: process.versions.node,
      "@huggingface/transformers": packageVersion("@huggingface/transformers"),
      "onnxruntime-node": packageVersion("onnxruntime-node"),
    },
    generation: { max_length: spec.maxLength, min_length: spec.minLength, num_beams: 1, do_sample: false, dtype: spec.dtype },
    notes: ["greedy: transformers.js has no beam search", "decoder_model_merged.onnx (what transformers.js loads)"],
  };
  await Promise.all([summarizer.dispose?.(), sentiment?.dispose?.()]);
  writeResult(spec, result);
  log(spec.system, `done; VmHWM ${result.vmhwm_kb} kB`);
}

runMain(main);
