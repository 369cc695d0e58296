/**
 * news-moe as a library. The one-liner is `analyze(pathOrItems, options)`; everything the CLI is
 * built from is exported too, so a pipeline can be assembled from its parts.
 */
export { analyze, analyzeStream, type AnalyzeOptions } from "./engine/analyze.js";
export type { NewsItem } from "./core/news-item.js";
export {
  SUMMARIZATION,
  SENTIMENT,
  ExpertUnavailableError,
  type Availability,
  type Expert,
  type ExpertContext,
  type ExpertOutput,
  type SentimentLabel,
  type SentimentOutput,
  type SummaryOutput,
  type Task,
} from "./core/expert.js";
export { ExpertRegistry } from "./core/registry.js";
export { isExpertError, type AnalysisRecord, type ExpertError } from "./core/analysis-record.js";
export { CombinerRegistry, combineSentiment, selectHeaviest, type Combiner, type Contribution } from "./core/mixture.js";
export { Orchestrator, type OrchestratorOptions, type PipelineInput, type RunStats } from "./core/orchestrator.js";
export { createDefaultRegistry, EXPERT_GROUPS, type DefaultRegistryOptions } from "./experts/default-registry.js";
export { ExtractiveSummarizerExpert, LexiconSentimentExpert } from "./experts/embedded/index.js";
export {
  NeuralSentimentExpert,
  NeuralSummarizerExpert,
  type NeuralModelOptions,
  type NeuralSentimentOptions,
  type NeuralSummarizerOptions,
} from "./experts/neural/index.js";
export { gate, type GateCandidate, type GateOptions } from "./routing/gate.js";
export { AllRouter } from "./routing/all-router.js";
export { RulesRouter } from "./routing/rules-router.js";
export { DEFAULT_RULES } from "./routing/default-rules.js";
export { loadRulesConfig, parseRulesConfig, type RulesConfig, type Rule } from "./routing/rules-config.js";
export type { Condition } from "./routing/conditions.js";
export { computeFeatures } from "./routing/features.js";
export type { ExpertProfile, ItemFeatures, RouteChoice, Router, RoutingDecision } from "./core/router.js";
export { createRouter, type RouterName } from "./engine/create-router.js";
