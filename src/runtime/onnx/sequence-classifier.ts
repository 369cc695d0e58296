/**
 * Runs a sequence-classification graph (transformers.js layout `onnx/model.onnx`: `input_ids`,
 * `attention_mask` int64 → `logits` [batch, labels]) on ragged batches of token ids.
 *
 * Rows are right-padded with the pad token and masked, as HF's tokenizer with `padding=True` does,
 * so a row's logits do not depend on its batch-mates beyond float rounding. A graph without a mask
 * input (the compiled int8 classifier, whose attention is fused) runs each row alone, unpadded. Graphs
 * exported from BERT proper also take `token_type_ids`; they get zeros (a single segment), as HF gives them.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { compiledFolderFor } from "./compiler/compile-cache.js";
import { compileDistilBertClassifier } from "./compiler/compile-distilbert-classifier.js";
import { compileWithoutTokenTable } from "./compiler/compile-without-table.js";
import { TOKEN_EMBEDDINGS_INPUT, type TokenTableLocation } from "./compiler/token-table-location.js";
import { OnnxSession } from "./session.js";
import { TokenTable } from "./token-table.js";

export interface SequenceClassifierOptions {
  /** Token id written into padding positions (config/tokenizer `pad_token_id`). */
  padTokenId: number;
  /** Intra-op threads; default: onnxruntime's (all cores). */
  threads?: number;
  /** Set when `modelPath` is a graph compiled without its token table: where the rows are read from. */
  tokenTable?: TokenTableLocation;
}

export interface OpenClassifierOptions extends Omit<SequenceClassifierOptions, "tokenTable"> {
  maxInputLength?: number;
  /** Root for compiled graphs of read-only model folders. */
  compiledCacheDir?: string;
  /** Told before a compilation starts (once per model file). */
  onCompile?: (source: string) => void;
  /** Told why the compiled graph could not be opened, when the published one runs instead. */
  onFallback?: (reason: string) => void;
}

/** A classifier graph compiled from the published one: where its input rows come from, if from outside. */
export interface CompiledClassifier {
  readonly graph: string;
  /** Where the token-embedding rows are read from; null when the graph looks them up (input_ids). */
  readonly table: TokenTableLocation | null;
  /** True when this call compiled; false when an earlier compilation was reused. */
  readonly compiled: boolean;
}

/**
 * The classifier at `modelPath` compiled (or the earlier compilation of the same bytes), or null when it
 * does not compile (an unfamiliar layout, a folder that cannot be written): the published graph then runs.
 *   - fp32: the published graph without its token table (`compile-without-table.ts`), logits bit for bit;
 *   - int8 DistilBERT: rebuilt with fused attention (`compile-distilbert-classifier.ts`), rows unpadded.
 */
export async function compileClassifier(
  modelPath: string,
  options: { readonly compiledCacheDir?: string; readonly onCompile?: (source: string) => void } = {},
): Promise<CompiledClassifier | null> {
  const fallbackDir = compiledFolderFor(modelPath, options.compiledCacheDir);
  // Told once: a first load of an int8 model reads the source twice (the table-less compiler refuses it).
  let told = false;
  const tell = options.onCompile;
  const onCompile = (source: string) => {
    if (!told) tell?.(source);
    told = true;
  };
  const where = { ...(fallbackDir ? { fallbackDir } : {}), onCompile };
  try {
    return await compileWithoutTokenTable(modelPath, where);
  } catch {
    // A quantized table (or another layout): the int8 compiler's turn.
  }
  try {
    // transformers.js layout: onnx/<graph>.onnx beside config.json's folder.
    const config = JSON.parse(readFileSync(join(dirname(dirname(modelPath)), "config.json"), "utf8")) as Record<string, unknown>;
    const compiled = await compileDistilBertClassifier(modelPath, { config, ...where });
    return { ...compiled, table: null };
  } catch {
    return null;
  }
}

export class SequenceClassifierError extends Error {
  constructor(
    readonly modelPath: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`sequence classifier ${modelPath}: ${reason}`, options);
    this.name = "SequenceClassifierError";
  }
}


export class OnnxSequenceClassifier {
  readonly #session: OnnxSession;
  readonly #table: TokenTable | null;
  readonly #padTokenId: number;
  readonly #takesTokenTypes: boolean;
  readonly #takesMask: boolean;
  readonly #maxInputLength: number | undefined;

  private constructor(
    readonly modelPath: string,
    session: OnnxSession,
    table: TokenTable | null,
    padTokenId: number,
    maxInputLength: number | undefined,
  ) {
    this.#session = session;
    this.#table = table;
    this.#padTokenId = padTokenId;
    this.#takesTokenTypes = session.inputNames.includes("token_type_ids");
    this.#takesMask = session.inputNames.includes("attention_mask");
    this.#maxInputLength = maxInputLength;
  }

  /**
   * Opens the model at `modelPath` the best way it allows (`compileClassifier`): fp32 compiled without its
   * token-embedding table (bit-identical results, the table's 94 MB stay out of the process for
   * DistilBERT), int8 compiled with fused attention, else the published graph as it is.
   */
  static async open(modelPath: string, options: OpenClassifierOptions): Promise<OnnxSequenceClassifier> {
    const { compiledCacheDir, onCompile, onFallback, ...rest } = options;
    const compiled = await compileClassifier(modelPath, { ...(compiledCacheDir ? { compiledCacheDir } : {}), ...(onCompile ? { onCompile } : {}) });
    if (!compiled) return OnnxSequenceClassifier.create(modelPath, rest);
    try {
      return await OnnxSequenceClassifier.create(compiled.graph, { ...rest, ...(compiled.table ? { tokenTable: compiled.table } : {}) });
    } catch (error) {
      // A compiled graph that ONNX Runtime will not open (as when a runtime's rules about external data
      // changed): the published graph still classifies, slower; the expert stays available.
      onFallback?.((error as Error).message.split("\n")[0] ?? String(error));
      return OnnxSequenceClassifier.create(modelPath, rest);
    }
  }

  /**
   * Opens `modelPath`. `maxInputLength` (the model's `max_position_embeddings`) turns an over-long
   * row into a clear error instead of onnxruntime's index failure deep in the embedding Gather.
   */
  static async create(
    modelPath: string,
    options: SequenceClassifierOptions & { maxInputLength?: number },
  ): Promise<OnnxSequenceClassifier> {
    let session: OnnxSession;
    try {
      // Activations come from ONNX Runtime's arena, which gives them back at the end of every run. Without
      // an arena they came from malloc, which kept ~270 MB of freed activations for the rest of the
      // process (the bench's articles, sentiment alone: +270 MB over the loaded model; with the arena
      // given back, +57 MB, at the same speed); an arena kept as it is would hold the largest run's peak.
      session = await OnnxSession.create(modelPath, {
        shrinkArenaAfterRun: true,
        ...(options.threads !== undefined ? { intraOpNumThreads: options.threads } : {}),
      });
    } catch (error) {
      throw new SequenceClassifierError(modelPath, `cannot open the ONNX graph (${(error as Error).message})`, {
        cause: error,
      });
    }
    // The mask is optional: a graph without one (fused attention) gets its rows one at a time, unpadded.
    const required = [options.tokenTable ? TOKEN_EMBEDDINGS_INPUT : "input_ids"];
    const missing = required.filter((name) => !session.inputNames.includes(name));
    if (missing.length > 0 || !session.outputNames.includes("logits")) {
      await session.release();
      throw new SequenceClassifierError(
        modelPath,
        `expected inputs ${required.join(", ")} and output logits; it has inputs ${session.inputNames.join(", ")} and outputs ${session.outputNames.join(", ")}`,
      );
    }
    const table = options.tokenTable ? new TokenTable(options.tokenTable) : null;
    return new OnnxSequenceClassifier(modelPath, session, table, options.padTokenId, options.maxInputLength);
  }

  /**
   * Logits of each row (token ids with specials), in order. One session run for the whole batch, or one
   * per row for a graph that takes no mask.
   */
  async logits(rows: readonly (readonly number[])[]): Promise<Float32Array[]> {
    rows.forEach((row, r) => {
      if (row.length === 0) throw new RangeError(`row ${r} is empty`);
      if (this.#maxInputLength !== undefined && row.length > this.#maxInputLength) {
        throw new RangeError(`row ${r} has ${row.length} tokens; the model takes at most ${this.#maxInputLength}`);
      }
    });
    if (rows.length === 0) return [];
    if (this.#takesMask) return this.#run(rows);
    // Alone, each row's logits are its own: the int8 graph quantizes each activation over the whole
    // batch, so a batch-mate (or padding) would move a row's rounding.
    const out: Float32Array[] = [];
    for (const row of rows) out.push(...(await this.#run([row])));
    return out;
  }

  async #run(rows: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const width = Math.max(...rows.map((row) => row.length));
    const ids = new Int32Array(rows.length * width).fill(this.#padTokenId);
    const mask = new BigInt64Array(rows.length * width);
    rows.forEach((row, r) => {
      const offset = r * width;
      for (let t = 0; t < row.length; t++) {
        ids[offset + t] = row[t]!;
        mask[offset + t] = 1n;
      }
    });
    const dims = [rows.length, width];
    const feeds: Record<string, ort.Tensor> = {};
    if (this.#takesMask) feeds["attention_mask"] = new ort.Tensor("int64", mask, dims);
    if (this.#session.inputNames.includes("input_ids")) feeds["input_ids"] = new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), dims);
    if (this.#table) feeds[TOKEN_EMBEDDINGS_INPUT] = this.#table.lookup(ids, dims);
    if (this.#takesTokenTypes) feeds["token_type_ids"] = new ort.Tensor("int64", new BigInt64Array(rows.length * width), dims);
    const outputs = await this.#session.run(feeds, ["logits"]);
    const logits = outputs["logits"];
    if (!logits) throw new SequenceClassifierError(this.modelPath, "the session returned no logits");
    try {
      const [batch, labels] = logits.dims;
      if (logits.type !== "float32" || batch !== rows.length || labels === undefined || logits.dims.length !== 2) {
        throw new SequenceClassifierError(
          this.modelPath,
          `expected float32 logits of shape [${rows.length}, labels], got ${logits.type} [${logits.dims.join(", ")}]`,
        );
      }
      const data = logits.data as Float32Array;
      return rows.map((_, r) => data.slice(r * labels, (r + 1) * labels));
    } finally {
      logits.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.#table?.close();
    await this.#session.release();
  }
}
