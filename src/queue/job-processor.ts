import { validateItem } from "../io/item-schema.js";
import { unroutedRecord } from "../core/orchestrator.js";
import type { AnalysisRecord } from "../core/analysis-record.js";
import type { Task } from "../core/expert.js";
import { withTaskResults } from "../core/task-results.js";
import type { ChunkJobData } from "./job-data.js";
import { RecordCollector } from "./record-collector.js";
import type { RunStore, StoredRecord } from "./run-store.js";

/**
 * Runs raw items, the first at `firstIndex`, through the engine; returns their records. `signal`
 * stops it (the worker is stopping): it then throws instead of returning partial records.
 */
export type AnalyzeSlice = (items: unknown[], firstIndex: number, signal?: AbortSignal) => Promise<StoredRecord[]>;

/** Makes an {@link AnalyzeSlice} from a `run()` call that takes a sink (the worker binds its options). */
export function sliceAnalyzer(
  runWithSink: (input: unknown[], firstIndex: number, sink: RecordCollector, signal?: AbortSignal) => Promise<unknown>,
): AnalyzeSlice {
  return async (items, firstIndex, signal) => {
    const collector = new RecordCollector();
    await runWithSink(items, firstIndex, collector, signal);
    return collector.records;
  };
}

/**
 * A job was stopped because its worker is stopping (SIGTERM), not because it crashed or failed:
 * its try was taken back, so the job goes back to the queue as if never started (what is stored
 * stays stored), and no attempt is spent on it.
 */
export class JobHandedBackError extends Error {
  constructor() {
    super("handed back: the worker is stopping");
    this.name = "JobHandedBackError";
  }
}

/**
 * Runs `analyze` for the try counted under `tryKey`; when `signal` stopped it, takes that try back
 * (a stop asked for is not a crash: it must not bring an item closer to being given up) and throws
 * {@link JobHandedBackError}. A run that finished despite the signal keeps its records.
 */
async function analyzeOrHandBack(
  store: RunStore,
  tryKey: string,
  run: () => Promise<StoredRecord[]>,
  signal: AbortSignal | undefined,
): Promise<StoredRecord[]> {
  try {
    return await run();
  } catch (error) {
    if (!signal?.aborted) throw error;
    await store.uncountTry(tryKey);
    throw new JobHandedBackError();
  }
}

/**
 * The error record of an item that was given up: the same shape `analyze` gives an item that
 * never reached an expert, naming the item as validation messages do, with the error under each
 * tutorial key of the run's `tasks` as the engine completes every record (core/task-results.ts).
 */
export function givenUpRecord(value: unknown, position: number, why: string, tasks: ReadonlySet<Task>): AnalysisRecord {
  const validated = validateItem(value, position);
  if (!validated.ok) {
    const invalid = { id: validated.id, headline: validated.headline, url: validated.url, analyses: {}, routing: null, error: validated.error };
    return withTaskResults(invalid, tasks);
  }
  const id = validated.item.id;
  return withTaskResults(unroutedRecord(validated.item, `item ${position} (id ${JSON.stringify(id)}): ${why}`), tasks);
}

/**
 * Does one job: analyses its items and stores their records, keyed by position.
 *
 * The first time a chunk is started, its items go through the engine together (expert batches).
 * A chunk started again was interrupted: its worker died (killed, out of memory, or an expert
 * that crashes the process on some item), or it threw. Then the items without a record go one at
 * a time, each stored as soon as it is done, and each start is counted per item: an item whose
 * count passes `attempts` has brought its worker down that many times and gets an error record
 * instead of another try. So a poison item ends as its own error record, never in an endless loop.
 */
export async function processChunk(
  job: { data: ChunkJobData },
  store: RunStore,
  analyze: AnalyzeSlice,
  /** The tasks the worker's run has experts for: a given-up item's record gets their keys. */
  tasks: ReadonlySet<Task>,
  /** Aborted when the worker stops: the job is handed back ({@link JobHandedBackError}). */
  signal?: AbortSignal,
): Promise<void> {
  const { start, items, attempts } = job.data;
  await store.markStarted();
  const chunkTries = await store.countTry(`c${start}`);
  if (chunkTries === 1) {
    await store.store(await analyzeOrHandBack(store, `c${start}`, () => analyze(items, start, signal), signal), start);
    return;
  }
  const positions = items.map((_, i) => start + i);
  const stored = await store.storedAmong(positions);
  for (const position of positions) {
    if (stored.has(position)) continue;
    const value = items[position - start];
    const tries = await store.countTry(`i${position}`);
    if (tries > attempts) {
      const why = `given up after ${attempts} tries: the worker process died each time while analysing it`;
      await store.store([{ position, record: givenUpRecord(value, position, why, tasks) }]);
      continue;
    }
    await store.store(await analyzeOrHandBack(store, `i${position}`, () => analyze([value], position, signal), signal));
  }
  await store.store([], start);
}

/**
 * The last resort when a job throws on its final BullMQ attempt (not a crash: an error, e.g. an
 * engine failure): its items still without a record get error records, so the run can complete.
 */
export async function failRemaining(data: ChunkJobData, store: RunStore, error: unknown, tasks: ReadonlySet<Task>): Promise<void> {
  const positions = data.items.map((_, i) => data.start + i);
  const stored = await store.storedAmong(positions);
  const reason = error instanceof Error ? error.message : String(error);
  const records = positions
    .filter((p) => !stored.has(p))
    .map((position) => ({
      position,
      record: givenUpRecord(data.items[position - data.start], position, `given up after ${data.attempts} tries: ${reason}`, tasks),
    }));
  await store.store(records, data.start);
}
