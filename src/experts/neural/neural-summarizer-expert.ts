/**
 * The tutorial's summarisation expert (`pipeline("summarization", "sshleifer/distilbart-cnn-6-6")`
 * called with `max_length=300, min_length=30, do_sample=False`), on the ONNX port, producing the
 * same tokens and text as that call for every article that fits the model, and a summary (not
 * "index out of range in self") for every article that does not.
 *
 * Inputs and outputs as the pipeline: `prefix + content` tokenised with <s> … </s> (see
 * summary-windows.ts), generation settings as the pipeline resolves them (summarization-settings.ts)
 * with the tutorial's call arguments as news-moe's defaults, decoded with skip_special_tokens=True and
 * clean_up_tokenization_spaces=False.
 *
 * Long articles (`long: "chunk"`, the default) are summarised map-reduce: each sentence window is
 * summarised, the partial summaries are joined with " ", and when the join is longer than the
 * summary limit (`max_length` tokens) it is summarised again, as the reference rule says, at most
 * MAX_REDUCE_LEVELS times; at that bound a join that still does not fit the model is truncated.
 * `long: "truncate"` summarises the first window's worth of tokens.
 *
 * Batching, continuous (the default, on the compiled decoder): every encoder input (an article, a
 * window of a long one, a join to re-summarise) goes on its own into the worker's running decoder batch,
 * joins it at the next decoder step and comes back as soon as its own summary is done; an article's
 * output is ready when its last input is. `analyze` may be called many times at once (`streaming`): the
 * orchestrator hands over items as they arrive, and a `serve` request joins the batch already running.
 *
 * Batching, static (`batching: "static"`, and the published decoder graphs): `analyze` runs in rounds.
 * Each round collects the encoder inputs every unfinished article needs next (its windows, or its join
 * to re-summarise) and generates them all together, in length-sorted sub-batches bounded by a
 * padded-token budget; a call lasts until its longest summary ends.
 */
import type { Availability, Expert, ExpertContext, LoadContext, SummaryOutput } from "../../core/expert.js";
import type { NewsItem } from "../../core/news-item.js";
import type { GenerationOptions } from "../../runtime/generation/index.js";
import type { GenerationTiming } from "../../runtime/worker/seq2seq-protocol.js";
import type { GenerationProgress } from "../../runtime/worker/seq2seq-worker-client.js";
import { HfTokenizer } from "../../runtime/tokenizer.js";
import { emptyContentError, isBlank, itemFailure } from "../embedded/item-errors.js";
import { lengthBatches, pairBatches } from "./length-batches.js";
import { LoadOnce, openExpertModel, probeExpertModel, readModelJson } from "./model-access.js";
import {
  DEFAULT_SUMMARY_STATE_MIB,
  type LongArticleStrategy,
  NEURAL_SUMMARIZER_NAME,
  type NeuralSummarizerOptions,
  type ResolvedSummarizerOptions,
  resolveSummarizerOptions,
  summaryStateBytes,
} from "./options.js";
import { DEFAULT_RUNNING_BATCH, loadSeq2SeqModel, type Seq2SeqRunner } from "./seq2seq-loader.js";
import { summarizationPipelineDefaults, summarizationPrefix } from "./summarization-settings.js";
import { type EncoderPlan, encoderIds, planEncoderInputs, type SummaryInputContext } from "./summary-windows.js";

export interface LongArticleReport {
  strategy: LongArticleStrategy;
  /** Encoder tokens of the whole article (prefix and specials included). */
  input_tokens: number;
  /** Windows the article itself was cut into (1 for truncate). */
  windows: number;
  /** Whether the joined partial summaries were summarised again. */
  reduced: boolean;
  /** Summarisation levels run (1: windows only; 2: windows, then their join; ...). */
  levels: number;
}

export interface NeuralSummaryOutput extends SummaryOutput {
  /** Present only when the article was longer than the model's window. */
  long_article?: LongArticleReport;
}

/**
 * Static batching: up to 12 articles per call: on 2 cores the per-row decoder cost keeps falling up to
 * ~32-48 beam rows (bench/), while the padded-token budget bounds the cross-attention cache.
 */
export const STATIC_CALL_ARTICLES = 12;
/** Bound on map-reduce levels: a join that has not shrunk under the model window by then is truncated. */
export const MAX_REDUCE_LEVELS = 4;
/** ~4 full 1,024-token windows per generate call: 16 beams of cross-attention cache for the real model. */
export const DEFAULT_SUMMARY_TOKEN_BUDGET = 4 * 1024;
/** Re-exported for the library: the default lives with the other summariser options. */
export { DEFAULT_SUMMARY_STATE_MIB };

/**
 * Float32 bytes one article holds while its summary is generated: keys and values of every decoder
 * layer for each beam up to the summary limit (the compiled decoder's cache grows in 32-position
 * chunks), and for each source token (cross-attention). An upper bound for the compiled decoder,
 * whose beams share the history they agree on (typically all but a few positions): its self-attention
 * part is then about a third of this. The published graphs keep a full cache per beam.
 */
export function decoderStateBytes(config: Readonly<Record<string, unknown>>, beams: number, maxLength: number): (sourceLength: number) => number {
  const layers = Number(config["decoder_layers"] ?? config["num_hidden_layers"] ?? 12);
  const width = Number(config["d_model"] ?? config["hidden_size"] ?? 1024);
  const perPosition = 2 * layers * width * 4;
  const selfPositions = Math.ceil(maxLength / 32) * 32;
  return (sourceLength) => perPosition * (beams * selfPositions + sourceLength);
}

interface LoadedSummarizer {
  model: Seq2SeqRunner;
  tokenizer: HfTokenizer;
  input: SummaryInputContext;
  generation: GenerationOptions;
  /** The summary limit in tokens; a longer join is summarised again. */
  maxLength: number;
  /** Bytes of decoder state one article of `sourceLength` tokens holds during generation. */
  stateBytes: (sourceLength: number) => number;
}

/** One article's progress through the rounds. */
interface ArticleState {
  item: number;
  level: number;
  plan: EncoderPlan;
  /** Set on the first level when the article did not fit. */
  report?: LongArticleReport;
  summaries?: string[];
}

export class NeuralSummarizerExpert implements Expert<NeuralSummaryOutput> {
  readonly name = NEURAL_SUMMARIZER_NAME;
  readonly task = "summarization";
  /** distilbart-cnn was fine-tuned on English news (CNN/DailyMail) only. */
  readonly languages = ["eng"] as const;
  readonly description =
    "distilbart-cnn-6-6 abstractive summaries (ONNX), the tutorial's settings; long articles map-reduced over sentence windows";
  readonly requires: string;
  readonly maxBatchSize: number;

  readonly options: ResolvedSummarizerOptions;
  /** Decoder state the running batch, or one static call, may hold: `summaryMemoryMib` in bytes. */
  readonly #stateBudgetBytes: number;
  /** The model, tokenizer and settings, loaded on first use. */
  readonly #model = new LoadOnce<LoadedSummarizer>((context) => this.#load(context), (loaded) => loaded.model.dispose());
  #engine: string | undefined;

  constructor(options: Partial<NeuralSummarizerOptions> = {}) {
    this.options = resolveSummarizerOptions(options);
    this.#stateBudgetBytes = summaryStateBytes(this.options.summaryMemoryMib);
    this.requires = `model ${this.options.summarizerModel} (${this.options.dtype})`;
    // Streaming: items outstanding, so that an article waits to join whenever one leaves the batch.
    this.maxBatchSize = this.options.batching === "continuous" ? 2 * DEFAULT_RUNNING_BATCH.maxArticles : STATIC_CALL_ARTICLES;
  }

  /**
   * Items are taken one at a time as they arrive and each comes back when done (continuous batching on
   * the compiled decoder); false for static batching, or once the published decoder graphs were loaded.
   */
  get streaming(): boolean {
    return this.options.batching === "continuous" && this.#engine !== "published";
  }

  probe(): Promise<Availability> {
    return probeExpertModel(this.options.summarizerModel, "seq2seq", this.options);
  }

  async load(context: LoadContext = {}): Promise<void> {
    await this.#model.get(context);
  }

  async #load(context: LoadContext): Promise<LoadedSummarizer> {
    return openExpertModel(this.name, this.options.summarizerModel, "seq2seq", this.options, context, async (files) => {
      const config = await readModelJson(files.config);
      const generationConfig = files.generationConfig ? await readModelJson(files.generationConfig) : undefined;
      const tokenizer = await HfTokenizer.fromFiles(files.tokenizer, files.tokenizerConfig);
      const positions = config["max_position_embeddings"];
      if (typeof positions !== "number") throw new Error(`${files.config} has no max_position_embeddings`);
      const overrides = this.options.generation;
      const generation: GenerationOptions = {
        ...summarizationPipelineDefaults(config, generationConfig),
        doSample: false,
        ...(overrides.maxLength !== undefined ? { maxLength: overrides.maxLength } : {}),
        ...(overrides.minLength !== undefined ? { minLength: overrides.minLength } : {}),
        ...(overrides.numBeams !== undefined ? { numBeams: overrides.numBeams } : {}),
      };
      const model = await loadSeq2SeqModel(files, config, generationConfig, {
        ...(this.options.threads !== undefined ? { threads: this.options.threads } : {}),
        ...(this.options.cacheDir !== undefined ? { cacheDir: this.options.cacheDir } : {}),
        ...(this.options.decoderEngine !== undefined ? { engine: this.options.decoderEngine } : {}),
        // The load context's warning channel (the CLI prints it on stderr); a bare library call, stderr.
        onNotice: this.options.onNotice ?? (context.warn ? (message) => context.warn!(message) : (message) => process.stderr.write(`news-moe: ${message}\n`)),
        running: { ...DEFAULT_RUNNING_BATCH, stateBudgetBytes: this.#stateBudgetBytes },
      });
      this.#engine = model.engine;
      const maxLength = typeof generation.maxLength === "number" ? generation.maxLength : positions;
      return {
        model,
        tokenizer,
        input: { tokenizer, prefix: summarizationPrefix(config), limit: positions },
        generation,
        maxLength,
        stateBytes: decoderStateBytes(config, generation.numBeams ?? 1, Math.min(maxLength, positions)),
      };
    });
  }

  /** The encoder inputs the first level uses for `text` (windows when it is long). For tests and tools. */
  async plan(text: string): Promise<EncoderPlan> {
    const model = await this.#model.get();
    return planEncoderInputs(model.input, text, this.options.long);
  }

  /**
   * Summary token ids (decoder start token first) for ready-made encoder inputs, in one generate call
   * with the expert's settings: what `analyze` runs for each sub-batch. For tests and tools.
   */
  async generateIds(encoderInputs: readonly (readonly number[])[], signal?: AbortSignal): Promise<number[][]> {
    const model = await this.#model.get();
    return (await model.model.generate(encoderInputs, model.generation, signal)).sequences;
  }

  /** Where the summariser's generation time went (encoder, decoder steps, cache moves, search), once loaded. */
  async generationTiming(): Promise<GenerationTiming & { engine: string }> {
    const model = await this.#model.get();
    return { ...model.model.timing(), engine: model.model.engine };
  }

  /** Decodes summary ids as the pipeline does. */
  async decode(ids: readonly number[]): Promise<string> {
    const model = await this.#model.get();
    return model.tokenizer.decode(ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false });
  }

  async analyze(items: readonly NewsItem[], context: ExpertContext): Promise<Array<NeuralSummaryOutput | Error>> {
    const model = await this.#model.get();
    if (this.streaming) return Promise.all(items.map((item) => this.#summarizeOne(model, item, context)));
    const results: Array<NeuralSummaryOutput | Error | undefined> = new Array(items.length);
    let pending: ArticleState[] = [];
    items.forEach((item, index) => {
      try {
        if (isBlank(item.content)) {
          results[index] = emptyContentError(item);
          return;
        }
        const plan = planEncoderInputs(model.input, item.content, this.options.long);
        const state: ArticleState = { item: index, level: 1, plan };
        if (plan.mode !== "whole") {
          state.report = {
            strategy: plan.mode,
            input_tokens: plan.inputTokens,
            windows: plan.windows.length,
            reduced: false,
            levels: 1,
          };
        }
        pending.push(state);
      } catch (error) {
        results[index] = itemFailure(item, error);
      }
    });

    while (pending.length > 0) {
      await this.#summarizeRound(model, pending, items, results, context);
      const next: ArticleState[] = [];
      for (const state of pending) {
        if (results[state.item]) continue; // failed this round
        const outcome = this.#advance(model, state);
        if (outcome === "continue") next.push(state);
        else results[state.item] = outcome;
      }
      pending = next;
    }
    return results.map((result, index) => result ?? itemFailure(items[index]!, new Error("no summary was produced")));
  }

  /** One article through the running batch: its windows together, then each reduce level. */
  async #summarizeOne(model: LoadedSummarizer, item: NewsItem, context: ExpertContext): Promise<NeuralSummaryOutput | Error> {
    try {
      if (isBlank(item.content)) return emptyContentError(item);
      const plan = planEncoderInputs(model.input, item.content, this.options.long);
      const state: ArticleState = { item: 0, level: 1, plan };
      if (plan.mode !== "whole") {
        state.report = { strategy: plan.mode, input_tokens: plan.inputTokens, windows: plan.windows.length, reduced: false, levels: 1 };
      }
      const progress = (p: GenerationProgress) => context.progress?.({ done: p.steps, total: undefined, unit: `decoder steps of the running batch (${p.rows} text${p.rows === 1 ? "" : "s"} in it)` });
      for (;;) {
        const sequences = await Promise.all(state.plan.windows.map((window) => model.model.summarize(window.ids, model.generation, context.signal, progress)));
        state.summaries = sequences.map((ids) => model.tokenizer.decode(ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false }));
        const outcome = this.#advance(model, state);
        if (outcome !== "continue") return outcome;
      }
    } catch (error) {
      if (context.signal?.aborted) throw error;
      return itemFailure(item, error);
    }
  }

  /** Generates every pending article's current windows; writes `summaries`, or an Error on failure. */
  async #summarizeRound(
    model: LoadedSummarizer,
    pending: readonly ArticleState[],
    items: readonly NewsItem[],
    results: Array<NeuralSummaryOutput | Error | undefined>,
    context: ExpertContext,
  ): Promise<void> {
    const rows = pending.flatMap((state) => state.plan.windows.map((window, w) => ({ state, w, ids: window.ids })));
    for (const state of pending) state.summaries = new Array<string>(state.plan.windows.length);
    const budget = this.options.tokenBudget ?? DEFAULT_SUMMARY_TOKEN_BUDGET;
    const stateBudget = this.#stateBudgetBytes;
    const maxRows = (width: number) => Math.min(STATIC_CALL_ARTICLES, Math.floor(stateBudget / model.stateBytes(width)));
    const lengths = rows.map((r) => r.ids.length);
    const stateOf = (batch: readonly number[]) => batch.length * model.stateBytes(Math.max(...batch.map((i) => lengths[i]!)));
    const batches = lengthBatches(lengths, budget, maxRows);
    // A decoder that pads each of two source groups to its own longest row runs two length batches as
    // one call: each step reads the weights once for both.
    const calls =
      model.model.sourceGroups >= 2
        ? pairBatches(batches, (first, second) => first.length + second.length <= STATIC_CALL_ARTICLES && stateOf(first) + stateOf(second) <= stateBudget)
        : batches;
    for (const batch of calls) {
      context.signal?.throwIfAborted();
      const batchRows = batch.map((i) => rows[i]!);
      try {
        const steps = typeof model.generation.maxLength === "number" ? model.generation.maxLength : undefined;
        const { sequences } = await model.model.generate(
          batchRows.map((r) => r.ids),
          model.generation,
          context.signal,
          // The worker reports about once a second: the heartbeat of a long batch.
          (p) => context.progress?.({ done: p.steps, total: steps, unit: `decoder steps over ${p.rows} text${p.rows === 1 ? "" : "s"}` }),
        );
        batchRows.forEach((row, r) => {
          const sequence = sequences[r];
          if (!sequence) throw new Error(`generate returned ${sequences.length} sequences for ${batchRows.length} inputs`);
          row.state.summaries![row.w] = model.tokenizer.decode(sequence, {
            skipSpecialTokens: true,
            cleanUpTokenizationSpaces: false,
          });
        });
      } catch (error) {
        if (context.signal?.aborted) throw error;
        // Only the articles with a window in this call fail; the others go on.
        for (const row of batchRows) results[row.state.item] ??= itemFailure(items[row.state.item]!, error);
      }
    }
  }

  /** After a round: the article's final output, or "continue" with its next level planned. */
  #advance(model: LoadedSummarizer, state: ArticleState): NeuralSummaryOutput | "continue" {
    const summaries = state.summaries ?? [];
    if (state.plan.mode !== "chunk") return this.#output(summaries[0] ?? "", state.report);
    const joined = summaries.map((s) => s.trim()).join(" ");
    // Reference rule: a join no longer than the summary limit is the summary.
    if (encoderIds(model.input, joined).length <= model.maxLength) return this.#output(joined, state.report);
    const report = state.report!;
    report.reduced = true;
    report.levels = ++state.level;
    const strategy = state.level >= MAX_REDUCE_LEVELS ? "truncate" : "chunk";
    state.plan = planEncoderInputs(model.input, joined, strategy);
    return "continue";
  }

  #output(summary: string, report: LongArticleReport | undefined): NeuralSummaryOutput {
    return report ? { summary, long_article: { ...report } } : { summary };
  }

  async dispose(): Promise<void> {
    await this.#model.release();
  }
}
