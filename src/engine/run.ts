import type { AnalysisRecord } from "../core/analysis-record.js";
import type { CombinerRegistry } from "../core/mixture.js";
import { Orchestrator, type RunEvent, type RunStats } from "../core/orchestrator.js";
import type { ExpertRegistry } from "../core/registry.js";
import type { FeatureExtractor, Router } from "../core/router.js";
import type { Sink, SinkWrite } from "../core/sink.js";
import type { Catalogue } from "../catalogue/entries.js";
import type { ExpertSettings } from "../catalogue/catalogue.js";
import { fingerprintItem } from "../io/input-fingerprint.js";
import { openInput, type InputReader } from "../io/input-reader.js";
import { journalPathFor } from "../io/journal.js";
import { recordHasErrors } from "../io/output-record.js";
import type { RulesConfig } from "../routing/rules-config.js";
import type { NewsItem } from "../core/news-item.js";
import { cleanItem, type CleaningOptions } from "../text/clean.js";
import type { GateModel } from "../learned-gate/gate-file.js";
import { computeFeatures } from "../routing/item-features.js";
import { RoutingStats } from "./routing-stats.js";
import type { RouterName } from "./create-router.js";
import { assembleRun, type DefaultRegistryOptions, type RunOutput } from "./assemble-run.js";
import { checkBeforeWork } from "./preflight.js";
import { enumerate, toPipelineInput, type RawItem } from "./pipeline-input.js";

export type RunInput = string | Iterable<unknown> | AsyncIterable<unknown>;

/**
 * What a run tells its front end as it goes, as data (the CLI words it): the orchestrator's
 * events, plus the resumed journal and each finished record.
 */
export type EngineEvent =
  | RunEvent
  | { type: "resumed"; journal: string; records: number }
  | { type: "record"; record: AnalysisRecord; index: number; failed: boolean };

export interface RunOptions extends DefaultRegistryOptions {
  /** A file path (JSON array or JSON Lines; `-` for stdin) or any (async) iterable of raw items. */
  input: RunInput;
  /** Input format when `input` is a path (default: detected). */
  inputFormat?: "auto" | "json" | "jsonl";
  /**
   * Text cleaning before routing and experts (HTML, scraper boilerplate; see text/clean.ts):
   * options, or false to hand experts the content as it came. Default: on, built-in rules.
   */
  cleaning?: false | CleaningOptions;
  /** Experts, routers and sinks to choose from; default: the built-in catalogue (catalogue/catalogue.ts). */
  catalogue?: Catalogue;
  /** Experts to route between; default: the catalogue's, made with `settings`. */
  registry?: ExpertRegistry;
  /** The built-in experts' settings by their one name, as the CLI's flags: `{ summaryMemoryMib: 512, dtype: "q8" }`. */
  settings?: ExpertSettings;
  /** Expert names, tasks or groups ("embedded", "neural", "all"); default: every registered expert. */
  experts?: readonly string[];
  /** Gating network: a built-in's name, a registered router's name, or a Router; default "auto". */
  router?: RouterName | string | Router;
  /** Routers besides the built-ins, selectable by name (plugins register here). */
  routers?: ReadonlyMap<string, Router>;
  /** Rules for the "rules" router: a JSON file path or a parsed config. */
  rules?: string | RulesConfig;
  /** Trained gate for the "learned" router: a gate file path or a loaded gate; implies router "learned". */
  gate?: string | GateModel;
  /** The learned router's cap on each task's costliest expert, as a share of items (0..1). */
  budget?: number;
  /** Route without running any expert: records with `routing` and empty `analyses`. */
  dryRun?: boolean;
  /** Item features for the router; default: words, characters, language, headline, topics. */
  features?: FeatureExtractor;
  combiners?: CombinerRegistry;
  /** Batches each expert may run at once (default 1). */
  concurrency?: number;
  /** An output file (`-`: stdout, JSON Lines) made by the catalogue's file or stream sink; with it, plugin sinks receive every record too. */
  output?: RunOutput;
  /** Where records go, besides the journal and `output`. */
  sinks?: readonly Sink[];
  /**
   * Crash safety: every finished record is appended to this journal file the moment it is done,
   * and a run that is killed can be resumed from it (`resume`). Default: none.
   */
  journal?: string;
  /** Continue the interrupted run the journal belongs to: its items are skipped, its records replayed to the sinks. */
  resume?: boolean;
  /** Replace a journal that holds an interrupted run's items instead of refusing (JournalExistsError). */
  overwrite?: boolean;
  /**
   * The input (async) iterable yields `{ index, value }` pairs instead of bare items: the caller
   * numbers its items, and the index names each item in validation messages and in
   * `SinkWrite.index`. For front ends whose run holds only part of a larger input: the HTTP server
   * merges every request into one run and numbers each request's items from 0, as `analyze` would;
   * a queue worker runs a slice of a file and numbers it by its place in the whole file
   * (`enumerate(items, first)` from pipeline-input.ts).
   */
  numbered?: boolean;
  /**
   * "input" (default): every sink gets the records in input order. "completion": each record as soon
   * as its item is finished, with `SinkWrite.sequence` saying which item it is; for a front end that
   * puts records back in order itself (the HTTP server, per request). Not with a journal, whose
   * resume needs input order.
   */
  recordOrder?: "input" | "completion";
  /** How the journal names a non-file input (default "-"). */
  inputName?: string;
  /** Stops the run: nothing more is admitted or journaled, the journal is kept and RunAbortedError thrown. */
  signal?: AbortSignal;
  onEvent?: (event: EngineEvent) => void;
  /** Called with the input reader when `input` is a path, for progress displays (bytes read of total). */
  onInput?: (reader: InputReader) => void;
  /** One-off messages in words (an expert that cannot load, where its work goes). */
  onNotice?: (message: string) => void;
}

export interface RunSummary {
  stats: RunStats;
  /** Records an interrupted run had finished, taken from the journal. */
  resumed: number;
  /** Of those, records with errors. */
  failedBefore: number;
  /** Records of this run with an item or expert error. */
  failed: number;
  /** A sink's destination went away (a closed pipe) and the run stopped early, quietly. */
  stoppedBySink: boolean;
  /** The journal, when one was kept (a run stopped early keeps it). */
  keptJournal?: string;
  /** How this run's items were routed (records replayed from a journal are not counted). */
  routing: RoutingStats;
  seconds: number;
  /** True when the run was stopped by its signal (the summary then comes with RunAbortedError). */
  aborted: boolean;
}

/** The run was stopped by its signal. Finished items are in the journal, if there is one. */
export class RunAbortedError extends Error {
  constructor(
    /** The journal that keeps the finished items, and how many. */
    readonly journal: { path: string; records: number } | undefined,
    options?: { cause?: unknown },
    /** What the run did before it was stopped (`aborted: true`): statistics, items finished. */
    readonly summary?: RunSummary,
  ) {
    super(
      journal ? `interrupted; ${journal.records} finished items are kept in ${journal.path}` : "interrupted",
      options,
    );
    this.name = "RunAbortedError";
  }
}

/** The run failed (malformed input, a sink that cannot write); what was finished is in the journal. */
export class RunFailedError extends Error {
  constructor(
    readonly journal: { path: string; records: number } | undefined,
    options: { cause: unknown },
  ) {
    super(
      `${options.cause instanceof Error ? options.cause.message : String(options.cause)}` +
        (journal && journal.records > 0 ? ` (${journal.records} finished items are kept in ${journal.path})` : ""),
      options,
    );
    this.name = "RunFailedError";
  }
}

/** The journal file of an output path: `<output>.journal`. */
export { journalPathFor };

/**
 * The engine's one entry point, used by the CLI and the library alike:
 * source -> validation -> features -> gate -> experts -> mixture -> sinks, with the journal
 * (crash safety, resume), abort and statistics inside. Records reach every sink in input order
 * (or as they finish, `recordOrder`);
 * on success every sink is closed (the journal last, which deletes it), otherwise every sink is
 * aborted and the journal kept.
 */
export async function run(options: RunOptions): Promise<RunSummary> {
  const started = performance.now();
  const signal = options.signal;
  if (options.recordOrder === "completion" && options.journal) {
    throw new RangeError("run: recordOrder \"completion\" cannot be used with a journal (resume needs records in input order)");
  }
  // Stopped before it started: the same error as a run stopped midway, so callers handle one kind.
  if (signal?.aborted) throw new RunAbortedError(undefined, { cause: signal.reason });

  // Each item's fingerprint, from when it is read until its record is journaled (or it is skipped).
  const itemFingerprints = new Map<number, string>();
  const { registry, ownsRegistry, experts, router, sinks, journal } = await assembleRun({
    ...options,
    ...(options.journal
      ? {
          journal: {
            path: options.journal,
            resume: options.resume ?? false,
            overwrite: options.overwrite ?? false,
            input: typeof options.input === "string" ? options.input : (options.inputName ?? "-"),
            itemFingerprint: (index: number) => {
              const fingerprint = itemFingerprints.get(index);
              itemFingerprints.delete(index);
              return fingerprint;
            },
          },
        }
      : { journal: undefined }),
  });
  checkBeforeWork({
    input: options.input,
    sinks,
    ...(options.journal ? { journal: options.journal } : {}),
    ...(options.resume ? { resume: true } : {}),
  });
  const journalState = () => (journal ? { path: journal.path, records: journal.count } : undefined);

  const orchestrator = new Orchestrator({
    registry,
    experts,
    router,
    features: options.features ?? computeFeatures,
    ...(options.cleaning !== false ? { clean: (item: NewsItem) => cleanItem(item, options.cleaning || {}) } : {}),
    ...(options.combiners ? { combiners: options.combiners } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.onNotice ? { onNotice: options.onNotice } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(signal ? { signal } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.recordOrder ? { recordOrder: options.recordOrder } : {}),
  });

  const opened: Sink[] = [];
  const summary: RunSummary = {
    stats: orchestrator.stats,
    resumed: 0,
    failedBefore: 0,
    failed: 0,
    stoppedBySink: false,
    routing: new RoutingStats(),
    seconds: 0,
    aborted: false,
  };
  const abortedSummary = (): RunSummary => {
    summary.aborted = true;
    summary.seconds = (performance.now() - started) / 1000;
    return summary;
  };
  const deliver = async (record: AnalysisRecord, info: SinkWrite): Promise<boolean> => {
    for (const sink of sinks) {
      if ((await sink.write(record, info)) === false) return false;
    }
    return true;
  };

  let raw: AsyncIterable<{ index: number; value: unknown }>;
  try {
    // The input first: one that cannot be read leaves nothing behind (no journal, no output).
    if (typeof options.input === "string") {
      const reader = openInput(options.input, { format: options.inputFormat ?? "auto" });
      options.onInput?.(reader);
      raw = reader;
    } else {
      raw = options.numbered ? (options.input as AsyncIterable<RawItem>) : enumerate(options.input);
    }
  } catch (error) {
    await orchestrator.dispose({ experts: ownsRegistry });
    throw new RunFailedError(undefined, { cause: error });
  }

  try {
    // Output destinations before the journal, so that a bad output path is reported as such and
    // no journal is left for a run that never started.
    for (const sink of [...sinks.filter((s) => s !== journal), ...(journal ? [journal] : [])]) {
      await sink.open?.(signal ? { signal } : {});
      opened.push(sink);
    }
    // A file's identity was checked when the journal opened; a stream's cannot be before it is read.
    if (journal && journal.resumed > 0 && (typeof options.input !== "string" || options.input === "-")) {
      const name = options.input === "-" ? "stdin" : (options.inputName ?? "a stream");
      const message =
        `resuming a run on ${name}: a stream cannot be checked for changes before it is read, so its items are ` +
        "matched to the journal by id; pipe the same input as before";
      // As the orchestrator's warnings: an event for front ends that word their own, a notice for the rest.
      options.onEvent?.({ type: "warning", source: "resume", message });
      options.onNotice?.(`resume: ${message}`);
    }
    if (journal && journal.resumed > 0) {
      summary.resumed = journal.resumed;
      options.onEvent?.({ type: "resumed", journal: journal.path, records: journal.resumed });
      for await (const { record, index } of journal.replay()) {
        if (recordHasErrors(record)) summary.failedBefore++;
        if (!(await deliver(record, { index, replayed: true }))) {
          summary.stoppedBySink = true;
          break;
        }
      }
    }
    const resumeSkip = journal?.resumeFilter();
    const skip = resumeSkip
      ? (item: { index: number; id: string | null }) => {
          const skipped = resumeSkip(item);
          if (skipped) itemFingerprints.delete(item.index);
          return skipped;
        }
      : undefined;
    if (journal) raw = fingerprinted(raw, itemFingerprints);
    if (!summary.stoppedBySink) {
      for await (const { index, sequence, record } of orchestrator.run(toPipelineInput(raw, skip ? { skip } : {}))) {
        // After an abort, experts fail what they were doing: those records are not finished work.
        if (signal?.aborted) break;
        const failed = recordHasErrors(record);
        if (!(await deliver(record, { index, sequence, replayed: false }))) {
          summary.stoppedBySink = true;
          break;
        }
        if (failed) summary.failed++;
        summary.routing.add(record);
        options.onEvent?.({ type: "record", record, index, failed });
      }
    }
    if (signal?.aborted) throw new RunAbortedError(journalState(), { cause: signal.reason }, abortedSummary());
  } catch (error) {
    const kept = journalState();
    await Promise.all(opened.map((sink) => sink.abort?.(error).catch(() => undefined)));
    await orchestrator.dispose({ experts: ownsRegistry });
    if (error instanceof RunAbortedError) throw error;
    if (signal?.aborted) throw new RunAbortedError(kept, { cause: error }, abortedSummary());
    throw new RunFailedError(kept, { cause: error });
  }

  if (summary.stoppedBySink) {
    // The reader went away: nothing more can be delivered. The journal stays for a resume.
    const kept = journalState();
    await Promise.all(opened.map((sink) => sink.abort?.(new Error("a sink stopped the run")).catch(() => undefined)));
    if (kept) summary.keptJournal = kept.path;
  } else {
    const records = summary.resumed + orchestrator.stats.items;
    try {
      // The journal last: it is deleted only once every other sink has made its output durable.
      for (const sink of [...sinks.filter((s) => s !== journal), ...(journal ? [journal] : [])]) {
        await sink.close({ records });
      }
    } catch (error) {
      const kept = journalState();
      await Promise.all(opened.map((sink) => sink.abort?.(error).catch(() => undefined)));
      await orchestrator.dispose({ experts: ownsRegistry });
      throw new RunFailedError(kept, { cause: error });
    }
  }
  await orchestrator.dispose({ experts: ownsRegistry });
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

/** Passes items through, noting each one's fingerprint for the journal. */
async function* fingerprinted(
  raw: AsyncIterable<{ index: number; value: unknown }>,
  into: Map<number, string>,
): AsyncGenerator<{ index: number; value: unknown }> {
  for await (const entry of raw) {
    into.set(entry.index, fingerprintItem(entry.value));
    yield entry;
  }
}
