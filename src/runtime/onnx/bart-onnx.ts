/**
 * BART encoder-decoder over the published transformers.js / optimum ONNX files, as a `Seq2SeqModel`
 * for `generate()`:
 *
 *   const model = await loadBartOnnx("path/to/distilbart-cnn-6-6");     // config.json + onnx/*.onnx
 *   const { sequences } = await generate(model, { inputIds }, { maxLength: 300, minLength: 30 });
 *   await model.release();
 *
 * Graphs (input/output names are read from the sessions, not assumed):
 *   encoder_model            input_ids, attention_mask -> last_hidden_state
 *   decoder_model            input_ids, encoder_attention_mask, encoder_hidden_states
 *                              -> logits, present.N.{decoder,encoder}.{key,value}
 *   decoder_with_past_model  input_ids, encoder_attention_mask, past_key_values.N.{decoder,encoder}.*
 *                              -> logits, present.N.decoder.*
 *   decoder_model_merged     both of the above behind `use_cache_branch` (bool[1])
 * `decoder: "auto"` (default) uses the merged graph when it exists (the one the model plan downloads, with
 * the decoder weights resident once) and the split pair otherwise.
 * The split pair holds the decoder weights twice in memory; the merged graph once, at the price of
 * zero-length dummy pasts on the first step and a dummy `encoder_hidden_states` afterwards. In the
 * merged graph's with-past branch the `present.N.encoder.*` outputs are empty constants
 * ([0, heads, 1, head_dim], as optimum builds it): nothing is copied, and we do not fetch them anyway.
 *
 * Per decoder step, what is copied:
 *   - the first step runs one row per article; `selectRows` then tiles each article's cross-attention
 *     KV to its beams once (the only copy of cross KV, unless an article is dropped later);
 *   - beam reordering touches only the self-attention KV (cross KV is identical for all beams of an
 *     article, as in HF BART's `_reorder_cache`): in place in ORT's output buffers, only rows whose
 *     beam changed, and nothing at all for the identity permutation (skipped by the search loop);
 *   - cross KV and the encoder mask keep the same `ort.Tensor` objects from step to step while the set
 *     of articles is unchanged; dropping a finished article compacts them inside their own buffers
 *     (a memmove of the rows behind it, no new memory: fresh pages cost more than the copy);
 *   - ORT wraps input buffers without copying; logits come back as [rows, 1, vocab], exactly the
 *     [rows, vocab] the search needs, handed over without a copy (a decoder prompt longer than one
 *     token copies the last position only).
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { generationOptionsFromHfJson, type GenerationOptions } from "../generation/generation-config.js";
import type { DecoderState, Seq2SeqModel, TokenBatch } from "../generation/seq2seq-model.js";
import { compactRowsInPlace, gatherRows, gatherRowsInPlace, groupSourceRows, keepsRowGroups } from "./row-gather.js";
import { OnnxSession, type OrtSessionOptions } from "./session.js";

export type DecoderLayout = "auto" | "split" | "merged";

/** Explicit file paths, for layouts other than `<dir>/onnx/*.onnx`. */
export interface BartOnnxFiles {
  encoder: string;
  decoder?: string;
  decoderWithPast?: string;
  decoderMerged?: string;
  /** `config.json`: a path or its parsed content. */
  config: string | Readonly<Record<string, unknown>>;
  /** `generation_config.json`: a path or its parsed content; absent: config.json's generation fields. */
  generationConfig?: string | Readonly<Record<string, unknown>>;
}

export interface LoadBartOptions extends OrtSessionOptions {
  /** Use the `*_quantized.onnx` files of a directory. Default false. */
  quantized?: boolean;
  /** Which decoder graphs to use. Default "auto": the merged graph when present, else the split pair. */
  decoder?: DecoderLayout;
}

export class BartOnnxError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BartOnnxError";
  }
}

/** Decoder rows of one `generate` call, with their caches. */
export class BartDecoderState implements DecoderState {
  rows: number;
  /** Article (encoder row) of each decoder row; rows of an article share cross-attention KV content. */
  article: Int32Array;
  /** int64 [rows, sourceLength]. */
  encoderMask: ort.Tensor;
  /** [rows, sourceLength, d_model]; only until the first decoder step. */
  encoderHidden: ort.Tensor | null;
  /** Per layer: [key, value] of self-attention, [rows, heads, pastLength, head_dim]; null before step 1. */
  selfKv: ort.Tensor[] | null = null;
  /** Per layer: [key, value] of cross-attention, [rows, heads, sourceLength, head_dim]. */
  crossKv: ort.Tensor[] | null = null;
  pastLength = 0;
  released = false;

  constructor(
    readonly sourceLength: number,
    rows: number,
    encoderMask: ort.Tensor,
    encoderHidden: ort.Tensor,
  ) {
    this.rows = rows;
    this.article = Int32Array.from({ length: rows }, (_, i) => i);
    this.encoderMask = encoderMask;
    this.encoderHidden = encoderHidden;
  }
}

function elementsPerRow(tensor: ort.Tensor): number {
  let n = 1;
  for (let d = 1; d < tensor.dims.length; d++) n *= tensor.dims[d]!;
  return n;
}

function gatherTensorRows(tensor: ort.Tensor, sourceRows: Int32Array): ort.Tensor {
  const data = tensor.data as Float32Array | BigInt64Array;
  const gathered = gatherRows(data, elementsPerRow(tensor), sourceRows);
  return new ort.Tensor(tensor.type as "float32", gathered as Float32Array, [sourceRows.length, ...tensor.dims.slice(1)]);
}

/** A tensor over the first `rows` rows of `tensor`'s own buffer (no copy). */
function prefixRows(tensor: ort.Tensor, rows: number): ort.Tensor {
  const data = tensor.data as Float32Array | BigInt64Array;
  const view = data.subarray(0, rows * elementsPerRow(tensor));
  return new ort.Tensor(tensor.type as "float32", view as Float32Array, [rows, ...tensor.dims.slice(1)]);
}

/**
 * Row selection that reuses the tensor's memory when the row count does not grow (beam reorders,
 * dropped articles) and allocates only for growth (the beam expansion after the first step).
 */
function selectTensorRows(tensor: ort.Tensor, sourceRows: Int32Array, compactOnly: boolean): ort.Tensor {
  const data = tensor.data as Float32Array | BigInt64Array;
  const rowSize = elementsPerRow(tensor);
  if (sourceRows.length > tensor.dims[0]!) return gatherTensorRows(tensor, sourceRows);
  if (compactOnly) {
    if (!compactRowsInPlace(data, rowSize, sourceRows)) return gatherTensorRows(tensor, sourceRows);
  } else {
    gatherRowsInPlace(data, rowSize, sourceRows);
  }
  return sourceRows.length === tensor.dims[0] ? tensor : prefixRows(tensor, sourceRows.length);
}

function readJson(source: string | Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  return typeof source === "string" ? (JSON.parse(readFileSync(source, "utf8")) as Record<string, unknown>) : source;
}

function int64Tensor(values: Int32Array, dims: number[]): ort.Tensor {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]!);
  return new ort.Tensor("int64", data, dims);
}

/** Resolves `<dir>/config.json`, `<dir>/generation_config.json`, `<dir>/onnx/*.onnx`. */
export function bartFilesInDirectory(dir: string, quantized = false): BartOnnxFiles {
  const suffix = quantized ? "_quantized" : "";
  const onnx = (name: string): string | undefined => {
    const path = join(dir, "onnx", `${name}${suffix}.onnx`);
    return existsSync(path) ? path : undefined;
  };
  const encoder = onnx("encoder_model");
  if (!encoder) throw new BartOnnxError(`${dir}: onnx/encoder_model${suffix}.onnx not found`);
  const generationConfig = join(dir, "generation_config.json");
  const files: BartOnnxFiles = { encoder, config: join(dir, "config.json") };
  const decoder = onnx("decoder_model");
  const decoderWithPast = onnx("decoder_with_past_model");
  const decoderMerged = onnx("decoder_model_merged");
  if (decoder) files.decoder = decoder;
  if (decoderWithPast) files.decoderWithPast = decoderWithPast;
  if (decoderMerged) files.decoderMerged = decoderMerged;
  if (existsSync(generationConfig)) files.generationConfig = generationConfig;
  return files;
}

export class BartOnnxModel implements Seq2SeqModel<BartDecoderState> {
  readonly layers: number;
  /** Whether the decoder runs the merged graph (true) or the split pair (false). */
  readonly merged: boolean;
  private readonly heads: number;
  private readonly headDim: number;
  private readonly selfKvOutputs: string[];

  private constructor(
    private readonly encoder: OnnxSession,
    /** decoder_model, or the merged graph. */
    private readonly firstStep: OnnxSession,
    /** decoder_with_past_model, or the merged graph again. */
    private readonly laterSteps: OnnxSession,
    readonly vocabSize: number,
    readonly hiddenSize: number,
    readonly maxPositionEmbeddings: number,
    readonly generationDefaults: GenerationOptions,
    config: Readonly<Record<string, unknown>>,
  ) {
    this.merged = firstStep === laterSteps;
    this.layers = firstStep.outputNames.filter((n) => /^present\.\d+\.decoder\.key$/.test(n)).length;
    if (this.layers === 0) throw new BartOnnxError(`${firstStep.path}: no present.N.decoder.key outputs`);
    this.heads = Number(config["decoder_attention_heads"]);
    this.headDim = hiddenSize / this.heads;
    if (!Number.isInteger(this.headDim)) throw new BartOnnxError("config.json: d_model not divisible by decoder_attention_heads");
    this.selfKvOutputs = ["logits"];
    for (let l = 0; l < this.layers; l++) this.selfKvOutputs.push(`present.${l}.decoder.key`, `present.${l}.decoder.value`);
  }

  get maxInputLength(): number {
    return this.maxPositionEmbeddings;
  }

  static async load(files: BartOnnxFiles, options: LoadBartOptions = {}): Promise<BartOnnxModel> {
    const config = readJson(files.config);
    const generationJson = files.generationConfig !== undefined ? readJson(files.generationConfig) : config;
    const number = (key: string): number => {
      const value = config[key];
      if (typeof value !== "number") throw new BartOnnxError(`config.json has no numeric ${key}`);
      return value;
    };
    const layout = options.decoder ?? "auto";
    const split = files.decoder !== undefined && files.decoderWithPast !== undefined;
    const useMerged = layout === "merged" || (layout === "auto" && files.decoderMerged !== undefined);
    if (useMerged && files.decoderMerged === undefined) {
      throw new BartOnnxError("decoder_model_merged.onnx is required (no split decoder pair, or decoder: \"merged\")");
    }
    if (!useMerged && !split) throw new BartOnnxError("decoder_model.onnx and decoder_with_past_model.onnx are required");

    const opened: OnnxSession[] = [];
    const open = async (path: string): Promise<OnnxSession> => {
      const session = await OnnxSession.create(path, options);
      opened.push(session);
      return session;
    };
    try {
      const encoder = await open(files.encoder);
      const firstStep = await open(useMerged ? files.decoderMerged! : files.decoder!);
      const laterSteps = useMerged ? firstStep : await open(files.decoderWithPast!);
      return new BartOnnxModel(
        encoder,
        firstStep,
        laterSteps,
        number("vocab_size"),
        number("d_model"),
        number("max_position_embeddings"),
        generationOptionsFromHfJson(generationJson),
        config,
      );
    } catch (error) {
      await Promise.all(opened.map((s) => s.release()));
      throw error;
    }
  }

  async encode(batch: TokenBatch): Promise<BartDecoderState> {
    if (batch.length > this.maxPositionEmbeddings) {
      throw new BartOnnxError(`input of ${batch.length} tokens exceeds max_position_embeddings ${this.maxPositionEmbeddings}`);
    }
    const dims = [batch.rows, batch.length];
    const mask = int64Tensor(batch.mask, dims);
    const out = await this.encoder.run({ input_ids: int64Tensor(batch.ids, dims), attention_mask: mask });
    const hidden = out["last_hidden_state"];
    if (!hidden) throw new BartOnnxError("encoder returned no last_hidden_state");
    return new BartDecoderState(batch.length, batch.rows, mask, hidden);
  }

  async decode(state: BartDecoderState, tokens: Int32Array, width: number): Promise<Float32Array> {
    if (state.released) throw new BartOnnxError("decoder state used after release");
    const rows = state.rows;
    if (tokens.length !== rows * width) throw new BartOnnxError(`decode: ${tokens.length} tokens for ${rows} rows of ${width}`);
    if (state.pastLength + width > this.maxPositionEmbeddings) {
      // HF only warns here and then fails inside the position embedding; say what happened instead.
      throw new BartOnnxError(`decoder length would exceed max_position_embeddings ${this.maxPositionEmbeddings}; lower max_length`);
    }
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64Tensor(tokens, [rows, width]),
      encoder_attention_mask: state.encoderMask,
    };
    const first = state.selfKv === null;
    let outputs: Record<string, ort.Tensor>;
    if (first) {
      feeds["encoder_hidden_states"] = state.encoderHidden!;
      if (this.merged) {
        feeds["use_cache_branch"] = new ort.Tensor("bool", Uint8Array.of(0), [1]);
        const empty = new ort.Tensor("float32", new Float32Array(0), [rows, this.heads, 0, this.headDim]);
        for (let l = 0; l < this.layers; l++) {
          for (const part of ["decoder", "encoder"]) {
            feeds[`past_key_values.${l}.${part}.key`] = empty;
            feeds[`past_key_values.${l}.${part}.value`] = empty;
          }
        }
      }
      outputs = await this.firstStep.run(feeds);
      state.crossKv = [];
      for (let l = 0; l < this.layers; l++) {
        state.crossKv.push(this.output(outputs, `present.${l}.encoder.key`), this.output(outputs, `present.${l}.encoder.value`));
      }
      // Cross-attention now lives in the cache; the hidden states are dead weight.
      state.encoderHidden = null;
    } else {
      for (let l = 0; l < this.layers; l++) {
        feeds[`past_key_values.${l}.decoder.key`] = state.selfKv![2 * l]!;
        feeds[`past_key_values.${l}.decoder.value`] = state.selfKv![2 * l + 1]!;
        feeds[`past_key_values.${l}.encoder.key`] = state.crossKv![2 * l]!;
        feeds[`past_key_values.${l}.encoder.value`] = state.crossKv![2 * l + 1]!;
      }
      if (this.merged) {
        feeds["use_cache_branch"] = new ort.Tensor("bool", Uint8Array.of(1), [1]);
        // Unused in the with-past branch, but a graph input all the same.
        feeds["encoder_hidden_states"] = new ort.Tensor("float32", new Float32Array(0), [rows, 0, this.hiddenSize]);
      }
      outputs = await this.laterSteps.run(feeds, this.selfKvOutputs);
    }
    state.selfKv = [];
    for (let l = 0; l < this.layers; l++) {
      state.selfKv.push(this.output(outputs, `present.${l}.decoder.key`), this.output(outputs, `present.${l}.decoder.value`));
    }
    state.pastLength += width;

    const logits = this.output(outputs, "logits");
    const [, positions, vocab] = logits.dims;
    if (vocab !== this.vocabSize) throw new BartOnnxError(`logits have ${vocab} columns, config.json says vocab_size ${this.vocabSize}`);
    const data = logits.data as Float32Array;
    if (positions === 1) return data;
    const last = new Float32Array(rows * this.vocabSize);
    for (let r = 0; r < rows; r++) {
      const from = (r * positions! + positions! - 1) * this.vocabSize;
      last.set(data.subarray(from, from + this.vocabSize), r * this.vocabSize);
    }
    return last;
  }

  selectRows(state: BartDecoderState, sourceRows: Int32Array): void {
    if (state.released) throw new BartOnnxError("decoder state used after release");
    if (state.selfKv) state.selfKv = state.selfKv.map((tensor) => selectTensorRows(tensor, sourceRows, false));
    const newArticle = Int32Array.from(sourceRows, (s) => state.article[s]!);
    if (!keepsRowGroups(state.article, sourceRows)) {
      // Per-article data: any row of the right article will do; prefer sources that make dropping
      // articles a compaction of the existing buffers.
      const articleRows = groupSourceRows(state.article, newArticle);
      if (state.crossKv) state.crossKv = state.crossKv.map((tensor) => selectTensorRows(tensor, articleRows, true));
      if (state.encoderHidden) state.encoderHidden = selectTensorRows(state.encoderHidden, articleRows, true);
      state.encoderMask = selectTensorRows(state.encoderMask, articleRows, true);
    }
    state.article = newArticle;
    state.rows = sourceRows.length;
  }

  release(state: BartDecoderState): void {
    // ORT's output buffers are freed by the garbage collector once unreferenced; drop every reference.
    state.released = true;
    state.selfKv = null;
    state.crossKv = null;
    state.encoderHidden = null;
  }

  /** Releases the ONNX sessions. The model is unusable afterwards. */
  async dispose(): Promise<void> {
    await Promise.all([this.encoder.release(), this.firstStep.release(), this.laterSteps.release()]);
  }

  private output(outputs: Record<string, ort.Tensor>, name: string): ort.Tensor {
    const tensor = outputs[name];
    if (!tensor) throw new BartOnnxError(`decoder returned no ${name}`);
    return tensor;
  }
}

/** Opens a BART model directory (`config.json`, `generation_config.json`, `onnx/`) or explicit files. */
export async function loadBartOnnx(source: string | BartOnnxFiles, options: LoadBartOptions = {}): Promise<BartOnnxModel> {
  const files = typeof source === "string" ? bartFilesInDirectory(source, options.quantized ?? false) : source;
  return BartOnnxModel.load(files, options);
}
