/**
 * The generation worker's side of continuous batching: articles submitted one at a time (`submit`
 * messages) go into one running decoder batch per generation setting, and each comes back (`summary`)
 * as soon as its own search is done. A model that cannot run a batch that articles join (the published
 * decoder graphs), or settings the per-article search does not take (greedy, a longer decoder prompt),
 * get a static generate call per article instead, one after another.
 */

import { generate, resolveForModel, type GenerationDefaultsSource } from "../generation/generate.js";
import type { GenerationOptions } from "../generation/generation-config.js";
import { buildLogitsProcessors } from "../generation/logits-processors.js";
import { RunningBatch, type RunningBatchTiming } from "../generation/running-batch.js";
import { supportsRunningBatch, type Seq2SeqModel } from "../generation/seq2seq-model.js";
import { emptyTiming, serializeError, type FromWorker, type GenerationTiming, type ToWorker, type WorkerSetup } from "./seq2seq-protocol.js";

type Submit = Extract<ToWorker, { type: "submit" }>;

/** Positions of self-attention cache an article's beams hold beyond the one history they share. */
const SUFFIX_ALLOWANCE = 32;

/**
 * Decoder state one article holds in a running batch of the compiled decoder: its cross-attention
 * keys/values (every source position) and its self-attention cache, whose beams share one history up
 * to the summary limit plus a short suffix each (counted as used, not as every beam at the limit).
 */
export function runningStateBytes(config: Readonly<Record<string, unknown>>, beams: number, maxLength: number): (sourceLength: number) => number {
  const layers = Number(config["decoder_layers"] ?? config["num_hidden_layers"] ?? 12);
  const width = Number(config["d_model"] ?? config["hidden_size"] ?? 1024);
  const perPosition = 2 * layers * width * 4;
  return (sourceLength) => perPosition * (sourceLength + maxLength + beams * SUFFIX_ALLOWANCE);
}

export class RunningBatches {
  private readonly batches = new Map<string, RunningBatch<never>>();
  private readonly controllers = new Map<number, AbortController>();
  private readonly reported = new Map<RunningBatch<never>, RunningBatchTiming>();
  private readonly active = new Set<Promise<unknown>>();
  private staticQueue: Promise<unknown> = Promise.resolve();
  private lastProgress = 0;
  private steps = 0;

  constructor(
    private readonly model: Seq2SeqModel & GenerationDefaultsSource,
    private readonly setup: WorkerSetup,
    private readonly post: (message: FromWorker) => void,
  ) {}

  submit(message: Submit): void {
    const controller = new AbortController();
    this.controllers.set(message.id, controller);
    const work = this.run(message, controller.signal)
      .then(
        ({ sequence, score, timing }) => this.post({ type: "summary", id: message.id, sequence, score, timing }),
        (error: unknown) => this.post({ type: "error", id: message.id, error: serializeError(error), aborted: controller.signal.aborted }),
      )
      .finally(() => {
        this.controllers.delete(message.id);
        this.active.delete(work);
      });
    this.active.add(work);
  }

  cancel(id: number): void {
    this.controllers.get(id)?.abort(new Error("generation aborted"));
  }

  /** Resolves once every submitted article has been answered. */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active]);
  }

  private async run(message: Submit, signal: AbortSignal): Promise<{ sequence: number[]; score: number | undefined; timing: GenerationTiming }> {
    const batch = this.batchFor(message.options);
    if (!batch) return this.runStatic(message, signal);
    const result = await batch.submit(message.inputIds, signal);
    return { sequence: result.sequences[0]!, score: result.scores[0], timing: this.timingSinceLastReport(batch) };
  }

  /** The running batch for these settings, or null when they need a static call. */
  private batchFor(options: GenerationOptions): RunningBatch<never> | null {
    const model = this.model;
    if (!supportsRunningBatch(model)) return null;
    const key = JSON.stringify(options);
    let batch = this.batches.get(key);
    if (batch) return batch;
    const config = resolveForModel(model, options);
    if (config.numBeams < 2 || config.decoderPromptLength !== 1 || config.numReturnSequences !== 1) return null;
    const running = this.setup.running;
    batch = new RunningBatch(
      model as never,
      config,
      buildLogitsProcessors(config),
      {
        maxArticles: running.maxArticles,
        stateBudget: running.stateBudgetBytes,
        stateBytes: runningStateBytes(this.setup.files.config, config.numBeams, Math.min(config.maxLength, model.maxPositionEmbeddings ?? config.maxLength)),
        joinStallMs: running.joinStallMs,
      },
      (rows) => this.onStep(rows, batch!),
    );
    this.batches.set(key, batch);
    return batch;
  }

  private onStep(rows: number, batch: RunningBatch<never>): void {
    this.steps++;
    const now = performance.now();
    if (now - this.lastProgress < 1000) return;
    this.lastProgress = now;
    this.post({ type: "batch-progress", steps: this.steps, rows, articles: batch.size });
  }

  private timingSinceLastReport(batch: RunningBatch<never>): GenerationTiming {
    const now = { ...batch.timing };
    const before = this.reported.get(batch);
    this.reported.set(batch, now);
    const delta = (key: keyof RunningBatchTiming): number => now[key] - (before?.[key] ?? 0);
    const wallMs = delta("wallMs");
    return {
      encodeMs: delta("encodeMs"),
      decodeMs: delta("decodeMs"),
      reorderMs: delta("reorderMs"),
      totalMs: wallMs,
      steps: delta("steps"),
      rowSteps: delta("rowSteps"),
      modelScoredSteps: delta("modelScoredSteps"),
      replayedSteps: delta("replayedSteps"),
      hostScoredSteps: delta("hostScoredSteps"),
    };
  }

  /** One static generate call for this article, after the ones before it. */
  private runStatic(message: Submit, signal: AbortSignal): Promise<{ sequence: number[]; score: number | undefined; timing: GenerationTiming }> {
    const work = this.staticQueue.then(async () => {
      const timing = emptyTiming();
      const started = performance.now();
      const result = await generate(this.model, { inputIds: [message.inputIds] }, message.options, { signal });
      timing.totalMs = performance.now() - started;
      return { sequence: result.sequences[0]!, score: result.sequencesScores?.[0], timing };
    });
    this.staticQueue = work.catch(() => undefined);
    return work;
  }
}
