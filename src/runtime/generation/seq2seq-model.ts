/**
 * What the generation loops need from an encoder-decoder model. The ONNX BART runner implements it; tests
 * implement it with small hand-made models.
 *
 * A decoder state holds `rows` independent decoder rows (an article's beams are separate rows). The loops
 * own the row bookkeeping and tell the model how rows move between steps with `selectRows`:
 *   - after the first step, one row per article is expanded to `num_beams` rows (all beams of an article
 *     start identical, so the first step needs to run only once per article);
 *   - each beam step, rows are permuted/duplicated to follow the surviving beams;
 *   - finished articles' rows are dropped so later steps run on fewer rows.
 */

/** Token ids of a batch, row-major, every row padded to `length`. */
export interface TokenBatch {
  readonly rows: number;
  readonly length: number;
  /** [rows * length] token ids. */
  readonly ids: Int32Array;
  /** [rows * length] 1 for real tokens, 0 for padding. */
  readonly mask: Int32Array;
}

export interface DecoderState {
  /** Number of decoder rows the next `decode` call must be given tokens for. */
  readonly rows: number;
}

export interface Seq2SeqModel<S extends DecoderState = DecoderState> {
  /** Width of the logits rows `decode` returns. */
  readonly vocabSize: number;
  /** Upper bound on encoder input length (BART: `max_position_embeddings`), if the model has one. */
  readonly maxInputLength?: number;
  /** `max_position_embeddings` of the decoder, for HF's default max length. */
  readonly maxPositionEmbeddings?: number;
  /** Runs the encoder once; the state has one decoder row per input row and no decoder history. */
  encode(batch: TokenBatch): Promise<S>;
  /**
   * Appends `tokens` ([state.rows, width], row-major) to every row's history and returns the logits of
   * the last position of each row, [state.rows, vocabSize]. The returned array belongs to the caller.
   */
  decode(state: S, tokens: Int32Array, width: number): Promise<Float32Array>;
  /**
   * New row i continues old row `sourceRows[i]`. The new row count is `sourceRows.length`: it may grow,
   * shrink or stay. Called only between `decode` calls.
   */
  selectRows(state: S, sourceRows: Int32Array): void;
  /** Frees what the state holds (KV caches). The state is unusable afterwards. */
  release(state: S): void;
}

/** Is `sourceRows` the identity on `rows` rows (nothing to move)? */
export function isIdentityRowSelection(sourceRows: Int32Array, rows: number): boolean {
  if (sourceRows.length !== rows) return false;
  for (let i = 0; i < rows; i++) if (sourceRows[i] !== i) return false;
  return true;
}

/** One beam step scored inside the model (see `TopKSeq2SeqModel`). */
export interface TopKStep {
  /** Running beam score of every row ([rows], article-major: an article's beams are consecutive). */
  readonly beamScores: Float32Array;
  /** Logits-processor bans for this step as (row, token) pairs, flattened: those scores become -inf. */
  readonly bans: readonly number[];
  /** Candidates wanted per article. */
  readonly k: number;
  /** Also hand back the step's logits ([rows, vocab], row order), for articles scored on the host. */
  readonly logits?: boolean;
}

/**
 * A model that can run beam search's scoring where the logits are: log_softmax, the processors' bans,
 * the running beam scores and the top-K over an article's beams x vocabulary, handing back only the K
 * best candidates per article. Equal to the host-side computation except for the order of exactly tied
 * scores, which the search detects and then scores in full from `replayLogits`.
 */
export interface TopKSeq2SeqModel<S extends DecoderState = DecoderState> extends Seq2SeqModel<S> {
  /**
   * Appends `tokens` ([rows], one per row) like `decode` with width 1, and returns per article the top
   * `k` candidate scores and their indices into [beams * vocab], best first: [articles * k] each.
   */
  decodeTopK(state: S, tokens: Int32Array, step: TopKStep): Promise<{ scores: Float32Array; indices: Int32Array; logits?: Float32Array }>;
  /** The raw logits of the last `decodeTopK` step ([rows, vocab]), without changing the state. */
  replayLogits(state: S): Promise<Float32Array>;
}

export function supportsTopK<S extends DecoderState>(model: Seq2SeqModel<S>): model is TopKSeq2SeqModel<S> {
  const candidate = model as Partial<TopKSeq2SeqModel<S>>;
  return typeof candidate.decodeTopK === "function" && typeof candidate.replayLogits === "function";
}

/**
 * A model whose decoder batch articles can join at any step and leave when done (continuous batching):
 * each article has its own decoder length. Rows are article-major, `rowsPerArticle` rows each, in the
 * order `articleKeys` gives; joining may reorder the articles (the keys say how), and `selectRows` that
 * drops every row of an article removes it.
 */
export interface RunningBatchModel<S extends DecoderState = DecoderState> extends TopKSeq2SeqModel<S> {
  /** A state with no article yet. */
  openRunning(): S;
  /**
   * Encodes one article (`ids`, no padding) and adds it with `rows` identical rows and no decoder history,
   * named `key`. Its first step then feeds the decoder prompt on each of its rows.
   */
  join(state: S, ids: Int32Array, rows: number, key: number): Promise<void>;
  /** The articles' keys in row order. */
  articleKeys(state: S): readonly number[];
  /**
   * Bytes of padding the state would hold beyond its articles' own sources once an article of
   * `sourceLength` tokens joined (a batched layout pads; a model without padding leaves this out).
   */
  paddingBytesAfterJoin?(state: S, sourceLength: number): number;
}

export function supportsRunningBatch<S extends DecoderState>(model: Seq2SeqModel<S>): model is RunningBatchModel<S> {
  const candidate = model as Partial<RunningBatchModel<S>>;
  return supportsTopK(model) && typeof candidate.openRunning === "function" && typeof candidate.join === "function";
}
