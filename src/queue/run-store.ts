import type { Redis } from "ioredis";
import type { AnalysisRecord } from "../core/analysis-record.js";
import { recordHasErrors, recordToJsonLine } from "../io/output-record.js";
import { runKeys, type RunKeys } from "./run-keys.js";

/** What `submit` recorded about a run. */
export interface RunMeta {
  runId: string;
  queue: string;
  /** The input as the user named it. */
  input: string;
  bytes: number;
  /** Items in the input: positions 0 .. total-1. */
  total: number;
  chunkSize: number;
  chunks: number;
  /** Tries per item before a crashing item is given up (and per job for thrown errors). */
  attempts: number;
  submittedAt: number;
  /** When a worker first took a job of the run (ms since epoch), and when one last stored records. */
  startedAt?: number;
  lastStoredAt?: number;
}

/** A record ready to store: its input position and its published JSON line. */
export interface StoredRecord {
  position: number;
  record: AnalysisRecord;
}

/**
 * One run's state in Redis. Every write is idempotent (a hash field per item position, set
 * members), because BullMQ delivers a job at least once: a job redone after its worker died writes
 * the same fields again, and counts are taken from the stored data (HLEN, SCARD), never kept as
 * counters that a redelivery would inflate.
 */
export class RunStore {
  readonly keys: RunKeys;

  constructor(
    private readonly redis: Redis,
    readonly queue: string,
    readonly runId: string,
  ) {
    this.keys = runKeys(queue, runId);
  }

  async writeMeta(meta: RunMeta): Promise<void> {
    await this.redis.hset(this.keys.meta, {
      runId: meta.runId,
      queue: meta.queue,
      input: meta.input,
      bytes: String(meta.bytes),
      total: String(meta.total),
      chunkSize: String(meta.chunkSize),
      chunks: String(meta.chunks),
      attempts: String(meta.attempts),
      submittedAt: String(meta.submittedAt),
    });
  }

  /** The run's metadata, or undefined when no such run was submitted to this queue. */
  async readMeta(): Promise<RunMeta | undefined> {
    const fields = await this.redis.hgetall(this.keys.meta);
    if (fields.total === undefined) return undefined;
    const number = (name: string) => Number(fields[name]);
    return {
      runId: this.runId,
      queue: this.queue,
      input: fields.input ?? "",
      bytes: number("bytes"),
      total: number("total"),
      chunkSize: number("chunkSize"),
      chunks: number("chunks"),
      attempts: number("attempts"),
      submittedAt: number("submittedAt"),
      ...(fields.startedAt !== undefined ? { startedAt: number("startedAt") } : {}),
      ...(fields.lastStoredAt !== undefined ? { lastStoredAt: number("lastStoredAt") } : {}),
    };
  }

  /** Notes that a worker took a job of this run (only the first one counts). */
  async markStarted(now = Date.now()): Promise<void> {
    await this.redis.hsetnx(this.keys.meta, "startedAt", String(now));
  }

  /**
   * Stores records in one transaction; `chunk` (its first position) is marked done with them when
   * they complete it. Readers see all of them or none.
   */
  async store(records: readonly StoredRecord[], chunk?: number): Promise<void> {
    const multi = this.redis.multi();
    if (records.length > 0) {
      const fields: string[] = [];
      for (const { position, record } of records) fields.push(String(position), recordToJsonLine(record));
      multi.hset(this.keys.records, ...fields);
      const failed = records.filter((r) => recordHasErrors(r.record)).map((r) => r.position);
      const ok = records.filter((r) => !recordHasErrors(r.record)).map((r) => r.position);
      if (failed.length > 0) multi.sadd(this.keys.failed, ...failed);
      // A position stored again with a clean record (a late duplicate) must not stay counted as failed.
      if (ok.length > 0) multi.srem(this.keys.failed, ...ok);
      multi.hset(this.keys.meta, "lastStoredAt", String(Date.now()));
    }
    if (chunk !== undefined) multi.sadd(this.keys.doneChunks, chunk);
    await multi.exec();
  }

  /** Which of `positions` already have a record. */
  async storedAmong(positions: readonly number[]): Promise<Set<number>> {
    if (positions.length === 0) return new Set();
    const present = await this.redis.hmget(this.keys.records, ...positions.map(String));
    return new Set(positions.filter((_, i) => present[i] !== null));
  }

  async doneChunks(): Promise<Set<number>> {
    return new Set((await this.redis.smembers(this.keys.doneChunks)).map(Number));
  }

  /** Counts a start of a chunk (`c<first>`) or an item (`i<position>`); returns the count so far. */
  async countTry(what: string): Promise<number> {
    return this.redis.hincrby(this.keys.tries, what, 1);
  }

  /** Takes back a start counted by {@link countTry} that ended because the worker was asked to stop, not by a crash. */
  async uncountTry(what: string): Promise<void> {
    // The job is ours (its lock): no other worker counts it meanwhile, so the two steps need no transaction.
    if ((await this.redis.hincrby(this.keys.tries, what, -1)) <= 0) await this.redis.hdel(this.keys.tries, what);
  }

  async counts(): Promise<{ done: number; failed: number }> {
    const [done, failed] = await Promise.all([this.redis.hlen(this.keys.records), this.redis.scard(this.keys.failed)]);
    return { done, failed };
  }

  /** Removes the run: its records and everything else under its keys (not its queued jobs, if any). */
  async delete(): Promise<void> {
    await this.redis.del(...Object.values(this.keys));
  }

  /**
   * The stored records in input order, `pageSize` positions per round trip; a position without a
   * record yet yields `record: undefined`.
   */
  async *inOrder(total: number, pageSize = 1000): AsyncGenerator<{ position: number; line: string | undefined }> {
    for (let first = 0; first < total; first += pageSize) {
      const positions: string[] = [];
      for (let p = first; p < Math.min(total, first + pageSize); p++) positions.push(String(p));
      const lines = await this.redis.hmget(this.keys.records, ...positions);
      for (let i = 0; i < positions.length; i++) yield { position: first + i, line: lines[i] ?? undefined };
    }
  }
}
