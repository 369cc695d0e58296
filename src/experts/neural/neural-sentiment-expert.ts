/**
 * The tutorial's sentiment expert (`pipeline("sentiment-analysis",
 * "distilbert-base-uncased-finetuned-sst-2-english")`), on the ONNX port, over the WHOLE article
 * rather than its first 2,000 characters.
 *
 * The article is tokenised once and cut into windows of at most `max_position_embeddings` tokens
 * ([CLS] and [SEP] included) on sentence boundaries (token-level cuts only inside a sentence longer
 * than a window). An article that fits in one window is classified exactly as the HF pipeline
 * classifies it. All windows of all articles in a batch go through the session together, in
 * length-sorted sub-batches bounded by a padded-token budget. See sentiment-decision.ts for how
 * window probabilities become one label, and for what NEUTRAL means here.
 */
import type { Availability, Expert, ExpertContext, LoadContext, SentimentLabel, SentimentOutput } from "../../core/expert.js";
import type { NewsItem } from "../../core/news-item.js";
import type { OnnxSequenceClassifier } from "../../runtime/onnx/sequence-classifier.js";
import { HfTokenizer } from "../../runtime/tokenizer.js";
import { emptyContentError, isBlank, itemFailure } from "../embedded/item-errors.js";
import { lengthBatches } from "./length-batches.js";
import { compiledCacheDir, LoadOnce, openExpertModel, probeExpertModel, readModelJson } from "./model-access.js";
import { NEURAL_SENTIMENT_NAME, type NeuralSentimentOptions, resolveSentimentOptions } from "./options.js";
import { aggregateProbabilities, decideSentiment, sentimentLabels, type WindowLogits } from "./sentiment-decision.js";
import { packWindows, tokenizePieces } from "./token-windows.js";

export interface NeuralSentimentOutput extends SentimentOutput {
  /** Windows the article was classified in (1 when it fits the model). */
  windows: number;
  /** Text tokens classified (the whole article; specials excluded). */
  tokens: number;
}

/**
 * Padded tokens per run: one full 512-token window, or several shorter ones. Measured on the bench's
 * articles (AMD EPYC, AVX2, 2 threads): 8 windows a run took 7.4 s and +820 MB over the loaded models,
 * one window a run 3.9 s and +270 MB. A window's matrices are already large enough for the CPU;
 * stacking them only adds padding and activations.
 */
export const DEFAULT_SENTIMENT_TOKEN_BUDGET = 512;

interface LoadedClassifier {
  tokenizer: HfTokenizer;
  classifier: OnnxSequenceClassifier;
  labels: SentimentLabel[];
  /** Longest input, specials included. */
  windowLength: number;
}

interface Window {
  item: number;
  ids: number[];
  tokens: number;
}

export class NeuralSentimentExpert implements Expert<NeuralSentimentOutput> {
  readonly name = NEURAL_SENTIMENT_NAME;
  readonly task = "sentiment";
  readonly description =
    "DistilBERT fine-tuned on SST-2 (ONNX), whole article in 512-token windows; NEUTRAL when the model is unsure";
  readonly requires: string;
  readonly maxBatchSize = 16;
  readonly languages = ["eng"] as const;

  readonly options: NeuralSentimentOptions;
  /** The model, tokenizer and settings, loaded on first use. */
  readonly #model = new LoadOnce<LoadedClassifier>((context) => this.#load(context), (loaded) => loaded.classifier.dispose());

  constructor(options: Partial<NeuralSentimentOptions> = {}) {
    this.options = resolveSentimentOptions(options);
    this.requires = `model ${this.options.sentimentModel} (${this.options.dtype})`;
  }

  probe(): Promise<Availability> {
    return probeExpertModel(this.options.sentimentModel, "classifier", this.options);
  }

  async load(context: LoadContext = {}): Promise<void> {
    await this.#model.get(context);
  }

  async #load(context: LoadContext): Promise<LoadedClassifier> {
    return openExpertModel(this.name, this.options.sentimentModel, "classifier", this.options, context, async (files) => {
      const config = await readModelJson(files.config);
      const labels = sentimentLabels(config["id2label"], files.config);
      const tokenizer = await HfTokenizer.fromFiles(files.tokenizer, files.tokenizerConfig);
      const positions = typeof config["max_position_embeddings"] === "number" ? config["max_position_embeddings"] : undefined;
      const windowLength = Math.min(positions ?? Infinity, tokenizer.modelMaxLength ?? Infinity);
      if (!Number.isFinite(windowLength)) {
        throw new Error(`${files.config} gives no max_position_embeddings and the tokenizer no model_max_length`);
      }
      const padTokenId = typeof config["pad_token_id"] === "number" ? config["pad_token_id"] : (tokenizer.padTokenId ?? 0);
      // Imported here, once onnxruntime-node is known to be installed (runtime/onnx/runtime-presence.ts).
      const { OnnxSequenceClassifier } = await import("../../runtime/onnx/sequence-classifier.js");
      const notice = context.warn ? (message: string) => context.warn!(message) : (message: string) => void process.stderr.write(`news-moe: ${message}\n`);
      const classifier = await OnnxSequenceClassifier.open(files.model, {
        padTokenId,
        maxInputLength: windowLength,
        compiledCacheDir: compiledCacheDir(this.options.cacheDir),
        onCompile: (source) => notice(`compiling the sentiment model to read its token table from disk (once per model file): ${source}`),
        onFallback: (reason) => notice(`the compiled sentiment model is not available, so the published graph runs (slower): ${reason}`),
        ...(this.options.threads !== undefined ? { threads: this.options.threads } : {}),
      });
      return { tokenizer, classifier, labels, windowLength };
    });
  }

  async analyze(items: readonly NewsItem[], context: ExpertContext): Promise<Array<NeuralSentimentOutput | Error>> {
    const model = await this.#model.get();
    const results: Array<NeuralSentimentOutput | Error | undefined> = new Array(items.length);
    const windows: Window[] = [];
    items.forEach((item, index) => {
      try {
        if (isBlank(item.content)) {
          results[index] = emptyContentError(item);
          return;
        }
        windows.push(...this.#textWindows(model, item.content).map((ids) => ({ item: index, ids: model.tokenizer.wrap(ids), tokens: ids.length })));
      } catch (error) {
        results[index] = itemFailure(item, error);
      }
    });

    const logits = new Map<Window, Float32Array>();
    const budget = this.options.tokenBudget ?? DEFAULT_SENTIMENT_TOKEN_BUDGET;
    for (const batch of lengthBatches(windows.map((w) => w.ids.length), budget)) {
      context.signal?.throwIfAborted();
      const rows = batch.map((i) => windows[i]!);
      try {
        const out = await model.classifier.logits(rows.map((w) => w.ids));
        rows.forEach((w, r) => logits.set(w, out[r]!));
      } catch (error) {
        // Only the articles with a window in this run fail; the rest of the batch goes on.
        for (const w of rows) results[w.item] ??= itemFailure(items[w.item]!, error);
      }
    }

    const perItem = new Map<number, WindowLogits[]>();
    for (const w of windows) {
      const row = logits.get(w);
      if (!row) continue;
      perItem.set(w.item, [...(perItem.get(w.item) ?? []), { logits: row, tokens: w.tokens }]);
    }
    return items.map((item, index) => {
      const done = results[index];
      if (done) return done;
      const itemWindows = perItem.get(index);
      if (!itemWindows) return itemFailure(item, new Error("no window was classified"));
      const decision = decideSentiment(aggregateProbabilities(itemWindows), model.labels, this.options.neutralThreshold);
      return {
        sentiment_label: decision.label,
        sentiment_score: decision.score,
        probabilities: decision.probabilities,
        windows: itemWindows.length,
        tokens: itemWindows.reduce((sum, w) => sum + w.tokens, 0),
      };
    });
  }

  /** The model inputs `text` is classified in: one row of token ids per window, specials included. */
  async inputWindows(text: string): Promise<number[][]> {
    const model = await this.#model.get();
    return this.#textWindows(model, text).map((ids) => model.tokenizer.wrap(ids));
  }

  /** Text token ids of each window, specials not yet added. */
  #textWindows(model: LoadedClassifier, text: string): number[][] {
    const budget = model.windowLength - model.tokenizer.numSpecialTokens;
    const windows = packWindows(tokenizePieces(model.tokenizer, text), budget);
    // Text that tokenises to nothing (only control characters, say) is still classified, as HF does: [CLS] [SEP].
    return windows.length > 0 ? windows : [[]];
  }

  async dispose(): Promise<void> {
    await this.#model.release();
  }
}
