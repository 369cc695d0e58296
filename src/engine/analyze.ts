import type { AnalysisRecord } from "../core/analysis-record.js";
import type { CombinerRegistry } from "../core/mixture.js";
import type { NewsItem } from "../core/news-item.js";
import { Orchestrator, type RunStats } from "../core/orchestrator.js";
import type { ExpertRegistry } from "../core/registry.js";
import { createDefaultRegistry, EXPERT_GROUPS, type DefaultRegistryOptions } from "../experts/default-registry.js";
import { openInput } from "../io/input-reader.js";
import type { RulesConfig } from "../routing/rules-config.js";
import { computeFeatures } from "../routing/features.js";
import type { Router } from "../routing/types.js";
import { cleanItem, type CleaningOptions } from "../text/clean.js";
import { createRouter, type RouterName } from "./create-router.js";
import { selectExperts } from "./expert-selection.js";
import { enumerate, toPipelineInput } from "./pipeline-input.js";

export interface AnalyzeOptions extends DefaultRegistryOptions {
  /** Experts to route between; default: the built-ins (`createDefaultRegistry`). */
  registry?: ExpertRegistry;
  /** Expert names, tasks or groups ("embedded", "neural", "all"); default: every registered expert. */
  experts?: string[];
  /** Gating network; default "auto" (built-in rules with fallback). */
  router?: RouterName | Router;
  /** Rules for the "rules" router: a JSON file path or a parsed config. */
  rules?: string | RulesConfig;
  combiners?: CombinerRegistry;
  /**
   * Text cleaning before routing and experts (HTML, scraper boilerplate; see text/clean.ts):
   * options, or false to hand experts the content as it came. Default: on, built-in rules.
   */
  cleaning?: false | CleaningOptions;
  /** Batches each expert may run at once (default 1). */
  concurrency?: number;
  /** Input format when `input` is a path (default: detected). */
  inputFormat?: "auto" | "json" | "jsonl";
  /** One-off messages (an expert that cannot load, where its work goes). Default: stderr. */
  onNotice?: (message: string) => void;
  signal?: AbortSignal;
  /** Receives the run's statistics when the stream ends. */
  onStats?: (stats: RunStats) => void;
}

/**
 * Analyses news items as a stream: records come out in input order while later items are still
 * being read, so any input size runs in bounded memory. `input` is a file path (JSON array or
 * JSON Lines, `-` for stdin) or any (async) iterable of raw items, which are validated here.
 */
export async function* analyzeStream(
  input: string | Iterable<unknown> | AsyncIterable<unknown>,
  options: AnalyzeOptions = {},
): AsyncGenerator<AnalysisRecord> {
  const registry = options.registry ?? createDefaultRegistry(options);
  const router = await createRouter(options.router ?? (options.rules ? "rules" : "auto"), registry, options.rules);
  const orchestrator = new Orchestrator({
    registry,
    experts: selectExperts(registry, options.experts, EXPERT_GROUPS),
    router,
    features: computeFeatures,
    ...(options.cleaning !== false ? { clean: (item: NewsItem) => cleanItem(item, options.cleaning || {}) } : {}),
    onNotice: options.onNotice ?? ((message) => process.stderr.write(`news-moe: ${message}\n`)),
    ...(options.combiners ? { combiners: options.combiners } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const raw = typeof input === "string" ? openInput(input, { format: options.inputFormat ?? "auto" }) : enumerate(input);
  for await (const { record } of orchestrator.run(toPipelineInput(raw))) yield record;
  options.onStats?.(orchestrator.stats);
}

/** Analyses every item and returns the records in input order. For large inputs prefer `analyzeStream`. */
export async function analyze(
  input: string | Iterable<unknown> | AsyncIterable<unknown>,
  options: AnalyzeOptions = {},
): Promise<AnalysisRecord[]> {
  const records: AnalysisRecord[] = [];
  for await (const record of analyzeStream(input, options)) records.push(record);
  return records;
}
