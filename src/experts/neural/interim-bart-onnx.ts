/**
 * INTERIM: a BART encoder-decoder over the transformers.js ONNX graphs, implementing the generation
 * helper's `Seq2SeqModel` so the summariser can run on `generate()` (src/runtime/generation).
 *
 * The project's ONNX BART runner belongs in src/runtime/onnx (`loadBartOnnx`, owned by the
 * generation work); it had not landed when the summariser was written, so this minimal one stands
 * in. It is deliberately plain: the split decoder pair only (decoder_model + decoder_with_past_model,
 * which both the published Xenova port and the fixtures ship), KV caches as JS arrays copied on row
 * moves. Replace it with `loadBartOnnx` once that exists (seq2seq-loader.ts is the only caller).
 *
 * Graph contract (tools/python/export_onnx.py, = transformers.js / optimum):
 *   encoder_model:           input_ids, attention_mask → last_hidden_state [B, S, D]
 *   decoder_model:           input_ids [R, T], encoder_attention_mask, encoder_hidden_states
 *                            → logits [R, T, V], present.{i}.{decoder,encoder}.{key,value} [R, H, *, hd]
 *   decoder_with_past_model: input_ids [R, 1], encoder_attention_mask, past_key_values.{i}.{decoder,encoder}.*
 *                            → logits [R, 1, V], present.{i}.decoder.{key,value}
 */
import * as ort from "onnxruntime-node";
import type { DecoderState, GenerationOptions, Seq2SeqModel, TokenBatch } from "../../runtime/generation/index.js";

interface BartState extends DecoderState {
  rows: number;
  /** Encoder length S (padded). */
  sourceLength: number;
  encoderMask: BigInt64Array;
  /** [rows, S, D]; needed for the first decoder step only, dropped after it. */
  encoderHidden: Float32Array | undefined;
  hiddenSize: number;
  /** Which encoder row (article) each decoder row belongs to: rows of one article share encoder KV. */
  article: Int32Array;
  /** Per layer: key, value of cross-attention, [rows, H, S, hd]. */
  encoderKv: Float32Array[];
  /** Per layer: key, value of self-attention, [rows, H, T, hd]. */
  decoderKv: Float32Array[];
  pastLength: number;
  heads: number;
  headDim: number;
}

export interface InterimBartFiles {
  encoder: string;
  decoder: string;
  decoderWithPast: string;
}

export class InterimBartOnnx implements Seq2SeqModel<BartState> {
  private constructor(
    private readonly encoderSession: ort.InferenceSession,
    private readonly decoderSession: ort.InferenceSession,
    private readonly withPastSession: ort.InferenceSession,
    private readonly layers: number,
    readonly vocabSize: number,
    readonly maxInputLength: number,
    readonly maxPositionEmbeddings: number,
    readonly generationDefaults: GenerationOptions,
  ) {}

  static async create(
    files: InterimBartFiles,
    config: Readonly<Record<string, unknown>>,
    generationDefaults: GenerationOptions,
    threads?: number,
  ): Promise<InterimBartOnnx> {
    const options: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      interOpNumThreads: 1,
      ...(threads !== undefined ? { intraOpNumThreads: threads } : {}),
    };
    const number = (key: string): number => {
      const value = config[key];
      if (typeof value !== "number") throw new Error(`config.json has no numeric ${key}`);
      return value;
    };
    const [encoder, decoder, withPast] = await Promise.all([
      ort.InferenceSession.create(files.encoder, options),
      ort.InferenceSession.create(files.decoder, options),
      ort.InferenceSession.create(files.decoderWithPast, options),
    ]);
    const layers = decoder.outputNames.filter((n) => /^present\.\d+\.decoder\.key$/.test(n)).length;
    if (layers === 0) throw new Error(`${files.decoder} has no present.*.decoder.key outputs`);
    const positions = number("max_position_embeddings");
    return new InterimBartOnnx(encoder, decoder, withPast, layers, number("vocab_size"), positions, positions, generationDefaults);
  }

  async encode(batch: TokenBatch): Promise<BartState> {
    const dims = [batch.rows, batch.length];
    const mask = BigInt64Array.from(batch.mask, (m) => BigInt(m));
    const out = await this.encoderSession.run({
      input_ids: new ort.Tensor("int64", BigInt64Array.from(batch.ids, (id) => BigInt(id)), dims),
      attention_mask: new ort.Tensor("int64", mask, dims),
    });
    const hidden = out["last_hidden_state"]!;
    return {
      rows: batch.rows,
      sourceLength: batch.length,
      encoderMask: mask,
      encoderHidden: hidden.data as Float32Array,
      hiddenSize: hidden.dims[2]!,
      article: Int32Array.from({ length: batch.rows }, (_, i) => i),
      encoderKv: [],
      decoderKv: [],
      pastLength: 0,
      heads: 0,
      headDim: 0,
    };
  }

  async decode(state: BartState, tokens: Int32Array, width: number): Promise<Float32Array> {
    if (tokens.length !== state.rows * width) throw new Error(`decode: ${tokens.length} tokens for ${state.rows} rows`);
    const ids = new ort.Tensor("int64", BigInt64Array.from(tokens, (t) => BigInt(t)), [state.rows, width]);
    const mask = new ort.Tensor("int64", state.encoderMask, [state.rows, state.sourceLength]);
    let out: ort.InferenceSession.OnnxValueMapType;
    if (state.encoderKv.length === 0) {
      const hidden = state.encoderHidden!;
      out = await this.decoderSession.run({
        input_ids: ids,
        encoder_attention_mask: mask,
        encoder_hidden_states: new ort.Tensor("float32", hidden, [state.rows, state.sourceLength, state.hiddenSize]),
      });
      const first = out["present.0.decoder.key"]!;
      state.heads = first.dims[1]!;
      state.headDim = first.dims[3]!;
      for (let i = 0; i < this.layers; i++) {
        state.encoderKv.push(out[`present.${i}.encoder.key`]!.data as Float32Array, out[`present.${i}.encoder.value`]!.data as Float32Array);
      }
      state.encoderHidden = undefined;
    } else {
      if (width !== 1) throw new Error(`decode with a cache takes one token per row, got ${width}`);
      const feeds: Record<string, ort.Tensor> = { input_ids: ids, encoder_attention_mask: mask };
      const decoderDims = [state.rows, state.heads, state.pastLength, state.headDim];
      const encoderDims = [state.rows, state.heads, state.sourceLength, state.headDim];
      for (let i = 0; i < this.layers; i++) {
        feeds[`past_key_values.${i}.decoder.key`] = new ort.Tensor("float32", state.decoderKv[2 * i]!, decoderDims);
        feeds[`past_key_values.${i}.decoder.value`] = new ort.Tensor("float32", state.decoderKv[2 * i + 1]!, decoderDims);
        feeds[`past_key_values.${i}.encoder.key`] = new ort.Tensor("float32", state.encoderKv[2 * i]!, encoderDims);
        feeds[`past_key_values.${i}.encoder.value`] = new ort.Tensor("float32", state.encoderKv[2 * i + 1]!, encoderDims);
      }
      out = await this.withPastSession.run(feeds);
    }
    state.decoderKv = [];
    for (let i = 0; i < this.layers; i++) {
      state.decoderKv.push(out[`present.${i}.decoder.key`]!.data as Float32Array, out[`present.${i}.decoder.value`]!.data as Float32Array);
    }
    state.pastLength += width;

    const logits = out["logits"]!;
    const vocab = logits.dims[2]!;
    if (vocab !== this.vocabSize) throw new Error(`logits are ${vocab} wide, config.json says vocab_size ${this.vocabSize}`);
    const data = logits.data as Float32Array;
    const last = new Float32Array(state.rows * vocab);
    for (let r = 0; r < state.rows; r++) {
      const start = (r * width + width - 1) * vocab;
      last.set(data.subarray(start, start + vocab), r * vocab);
    }
    return last;
  }

  selectRows(state: BartState, sourceRows: Int32Array): void {
    const rows = sourceRows.length;
    const article = Int32Array.from(sourceRows, (s) => state.article[s]!);
    state.encoderMask = gather(state.encoderMask, state.sourceLength, sourceRows) as BigInt64Array;
    if (state.encoderHidden) state.encoderHidden = gather(state.encoderHidden, state.sourceLength * state.hiddenSize, sourceRows) as Float32Array;
    // Beams of one article share their cross-attention cache: reordering beams within articles
    // leaves it as it is, so it is only copied when articles come, go or change places.
    const sameArticles = rows === state.rows && article.every((a, i) => a === state.article[i]);
    if (!sameArticles) {
      const encoderRow = state.heads * state.sourceLength * state.headDim;
      state.encoderKv = state.encoderKv.map((kv) => gather(kv, encoderRow, sourceRows) as Float32Array);
    }
    const decoderRow = state.heads * state.pastLength * state.headDim;
    state.decoderKv = state.decoderKv.map((kv) => gather(kv, decoderRow, sourceRows) as Float32Array);
    state.article = article;
    state.rows = rows;
  }

  release(state: BartState): void {
    state.encoderKv = [];
    state.decoderKv = [];
    state.encoderHidden = undefined;
  }

  async dispose(): Promise<void> {
    await Promise.all([this.encoderSession.release(), this.decoderSession.release(), this.withPastSession.release()]);
  }
}

function gather(source: Float32Array | BigInt64Array, rowSize: number, sourceRows: Int32Array): Float32Array | BigInt64Array {
  const target = source instanceof Float32Array ? new Float32Array(sourceRows.length * rowSize) : new BigInt64Array(sourceRows.length * rowSize);
  sourceRows.forEach((s, i) => {
    if (source instanceof Float32Array) (target as Float32Array).set(source.subarray(s * rowSize, (s + 1) * rowSize), i * rowSize);
    else (target as BigInt64Array).set(source.subarray(s * rowSize, (s + 1) * rowSize), i * rowSize);
  });
  return target;
}
