/** Scaling out on Redis (BullMQ): submit a file, run workers anywhere, collect every record once. */
export { collectRecords, waitForCompletion, type CollectResult } from "./collect.js";
export { connectRedis, DEFAULT_REDIS_URL, describeRedisError, openCommandRedis, redactUrl, RedisUnavailableError, RedisUrlError, type CommandRedis } from "./connection.js";
export { type ChunkJobData } from "./job-data.js";
export { processChunk, sliceAnalyzer, type AnalyzeSlice } from "./job-processor.js";
export { DEFAULT_QUEUE, isRunId, jobIdFor, runKeys } from "./run-keys.js";
export { RunStore, type RunMeta } from "./run-store.js";
export { runStatus, type RunStatus } from "./status.js";
export { DEFAULT_ATTEMPTS, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_WAITING, submit, SubmitInterruptedError, type SubmitOptions, type SubmitResult } from "./submit.js";
export { DEFAULT_STALL_TIMEOUT_MS, startQueueWorker, type QueueWorker, type QueueWorkerOptions, type StopOutcome } from "./worker.js";
