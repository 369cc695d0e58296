/**
 * BART on the compiled decoder graphs (`compiler/`), as a `Seq2SeqModel` that can also score beam
 * candidates inside the graph (`TopKSeq2SeqModel`) and run a batch that articles join and leave
 * (`RunningBatchModel`).
 *
 *   encoder -> cross-kv graph (once per article, into the call's buffer) -> step graph (per token)
 *
 * This module loads the graphs and decides when each phase's sessions are loaded; the work is done by
 *   - `compiled-bart-encode.ts`: encoder and cross-kv graph, cross-attention keys/values per article in
 *     source groups (`source-groups.ts`; a running batch's joins: `running-layout.ts`);
 *   - `compiled-bart-step.ts`: one step's feeds, run and outputs (the graph ends in the beam-search head);
 *   - `kv-cache-manager.ts`: the self-attention cache (prefix shared by an article's beams, suffix per
 *     row), slot renaming on beam reorders, compaction when rows leave;
 *   - `compiled-bart-state.ts`: what a batch carries from step to step.
 */

import { readFileSync } from "node:fs";
import { generationOptionsFromHfJson, type GenerationOptions } from "../generation/generation-config.js";
import type { RunningBatchModel, TokenBatch, TopKStep } from "../generation/seq2seq-model.js";
import { CompiledBartEncoder } from "./compiled-bart-encode.js";
import { CompiledBartError, type CompiledBartState, type DecoderShape } from "./compiled-bart-state.js";
import { CompiledBartStep } from "./compiled-bart-step.js";
import type { BartShape } from "./compiler/bart-decoder-graph.js";
import type { TokenTableLocation } from "./compiler/token-table-location.js";
import { KvCacheManager } from "./kv-cache-manager.js";
import { PhaseSessions, type SessionResidency } from "./phase-sessions.js";
import type { OrtSessionOptions } from "./session.js";
import { TokenTable } from "./token-table.js";
import { paddedPositionsAfterJoin } from "./running-layout.js";

export { CompiledBartError, CompiledBartState } from "./compiled-bart-state.js";
export { SourceGroup, sourceGroupCut } from "./source-groups.js";

export interface CompiledBartFiles {
  /** Encoder graph: the published one, or one compiled without its token table (then `encoderTable` is set). */
  readonly encoder: string;
  /** Where the compiled encoder's token-embedding rows are read from. */
  readonly encoderTable?: TokenTableLocation;
  readonly step: string;
  /** Where the step graph's input tokens' embedding rows are read from. */
  readonly stepTable: TokenTableLocation;
  readonly crossKv: string;
  readonly shape: BartShape;
  readonly config: string | Readonly<Record<string, unknown>>;
  readonly generationConfig?: string | Readonly<Record<string, unknown>>;
}

function readJson(source: string | Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  return typeof source === "string" ? (JSON.parse(readFileSync(source, "utf8")) as Record<string, unknown>) : source;
}

export class CompiledBartModel implements RunningBatchModel<CompiledBartState> {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly layers: number;
  private readonly encoder: CompiledBartEncoder;
  private readonly step: CompiledBartStep;
  private readonly cache: KvCacheManager;
  private readonly shape: DecoderShape;

  private constructor(
    private readonly encoding: PhaseSessions,
    private readonly decoding: PhaseSessions,
    /** Keep both phases' sessions loaded (else each phase's are released before the other runs). */
    private readonly resident: boolean,
    shape: BartShape,
    readonly maxPositionEmbeddings: number,
    readonly generationDefaults: GenerationOptions,
    encoderTable: TokenTable | null,
    stepTable: TokenTable,
  ) {
    this.vocabSize = shape.vocab;
    this.hiddenSize = shape.dModel;
    this.layers = shape.layers;
    const decoderShape: DecoderShape = { layers: shape.layers, heads: shape.heads, headDim: shape.dModel / shape.heads, maxPositions: maxPositionEmbeddings };
    this.shape = decoderShape;
    this.cache = new KvCacheManager(decoderShape);
    this.encoder = new CompiledBartEncoder(encoding, encoderTable, decoderShape);
    this.step = new CompiledBartStep(decoding, stepTable, decoderShape, shape.vocab, this.cache);
  }

  /** Which phases' sessions are loaded now (for tests and tools). */
  get loadedSessions(): { encoder: boolean; step: boolean } {
    return { encoder: this.encoding.loaded, step: this.decoding.loaded };
  }

  get maxInputLength(): number {
    return this.maxPositionEmbeddings;
  }

  static async load(files: CompiledBartFiles, options: OrtSessionOptions = {}, residency: SessionResidency = {}): Promise<CompiledBartModel> {
    const config = readJson(files.config);
    const generationJson = files.generationConfig !== undefined ? readJson(files.generationConfig) : config;
    const maxPositions = config["max_position_embeddings"];
    if (typeof maxPositions !== "number") throw new CompiledBartError("config.json has no numeric max_position_embeddings");
    // The encoder's activations (attention over up to 1,024 tokens per article) are large and needed once
    // per batch: no arena to keep them. Steps repeat the same small shapes: the arena recycles those.
    const encoding = new PhaseSessions([files.encoder, files.crossKv], { ...options, enableCpuMemArena: false });
    const decoding = new PhaseSessions([files.step], options);
    try {
      // Both phases load now, so a model that does not load fails here (and openBart falls back).
      await encoding.open();
      await decoding.open();
      const table = files.encoderTable ? new TokenTable(files.encoderTable) : null;
      return new CompiledBartModel(
        encoding,
        decoding,
        residency.resident ?? false,
        files.shape,
        maxPositions,
        generationOptionsFromHfJson(generationJson),
        table,
        new TokenTable(files.stepTable),
      );
    } catch (error) {
      await Promise.all([encoding.close(), decoding.close()]);
      throw error;
    }
  }

  /** Encodes the batch (one article at a time, `CompiledBartEncoder.encodeBatch`) with only the encoder's sessions loaded. */
  async encode(batch: TokenBatch): Promise<CompiledBartState> {
    this.checkInputLength(batch.length);
    // The step's weights are not needed while encoding: the encoder's take their place.
    if (!this.resident) await this.decoding.close();
    const { groups, storage } = await this.encoder.encodeBatch(batch);
    if (!this.resident) await this.encoding.close();
    return this.cache.openState(groups, storage);
  }

  async decode(state: CompiledBartState, tokens: Int32Array, width: number): Promise<Float32Array> {
    this.checkLive(state);
    return this.step.decode(state, tokens, width);
  }

  async decodeTopK(state: CompiledBartState, tokens: Int32Array, step: TopKStep): Promise<{ scores: Float32Array; indices: Int32Array; logits?: Float32Array }> {
    this.checkLive(state);
    return this.step.decodeTopK(state, tokens, step);
  }

  /** An empty running batch (`RunningBatchModel`): articles join it one at a time with `join`. */
  openRunning(): CompiledBartState {
    return this.cache.openState(this.encoder.emptyGroups(), new Float32Array(0));
  }

  /**
   * Encodes one article and adds it to a running batch with `beams` rows (see running-layout.ts for where
   * it goes). Both phases' sessions stay loaded: encoding and decoding now alternate step by step.
   */
  async join(state: CompiledBartState, ids: Int32Array, beams: number, key: number): Promise<void> {
    this.checkLive(state);
    this.checkInputLength(ids.length);
    if (state.articles > 0 && state.rows !== state.articles * beams) throw new CompiledBartError(`a running batch has ${state.rows / state.articles} rows per article, not ${beams}`);
    await this.encoder.join(state, ids, beams, key);
  }

  articleKeys(state: CompiledBartState): readonly number[] {
    return state.keys;
  }

  paddingBytesAfterJoin(state: CompiledBartState, sourceLength: number): number {
    // Keys and values of every layer, float32, per source position.
    const { layers, heads, headDim, maxPositions } = this.shape;
    const perPosition = 2 * layers * heads * headDim * 4;
    return perPosition * paddedPositionsAfterJoin(state.groups, sourceLength, maxPositions);
  }

  async replayLogits(state: CompiledBartState): Promise<Float32Array> {
    this.checkLive(state);
    return this.step.replayLogits(state);
  }

  selectRows(state: CompiledBartState, sourceRows: Int32Array): void {
    this.checkLive(state);
    this.cache.selectRows(state, sourceRows);
    state.lastFeeds = null;
  }

  release(state: CompiledBartState): void {
    state.released = true;
    this.cache.release(state);
    this.encoder.release(state);
    state.lastFeeds = null;
  }

  async dispose(): Promise<void> {
    this.encoder.close();
    this.step.close();
    await Promise.all([this.encoding.close(), this.decoding.close()]);
  }

  private checkInputLength(tokens: number): void {
    if (tokens > this.maxPositionEmbeddings) {
      throw new CompiledBartError(`input of ${tokens} tokens exceeds max_position_embeddings ${this.maxPositionEmbeddings}`);
    }
  }

  private checkLive(state: CompiledBartState): void {
    if (state.released) throw new CompiledBartError("decoder state used after release");
  }
}

export async function loadCompiledBart(files: CompiledBartFiles, options: OrtSessionOptions = {}, residency: SessionResidency = {}): Promise<CompiledBartModel> {
  return CompiledBartModel.load(files, options, residency);
}
