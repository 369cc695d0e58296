/**
 * news-moe as a library. The one-liner is `analyze(pathOrItems, options)`; `run(options)` is the
 * engine the CLI itself calls (sinks, journal, resume, abort, statistics); everything the CLI is
 * built from is exported too, so a pipeline can be assembled from its parts.
 */
export { analyze, analyzeStream, type AnalyzeOptions } from "./engine/analyze.js";
export {
  run,
  journalPathFor,
  RunAbortedError,
  RunFailedError,
  type EngineEvent,
  type RunInput,
  type RunOptions,
  type RunSummary,
} from "./engine/run.js";
export { loadPlugins, PluginError, isCatalogueEntry, isExpert, isRouter, isSink, type LoadedPlugins } from "./engine/plugins.js";
export { selectExperts, ExpertSelectionError } from "./engine/expert-selection.js";
export { toPipelineInput, enumerate } from "./engine/pipeline-input.js";
export type { Sink, SinkSummary, SinkWrite } from "./core/sink.js";
export { FileSink, JournalSink, StreamSink, type JournalSinkOptions } from "./sinks/index.js";
export { Journal, JournalExistsError, JournalInputMismatchError, JournalCorruptError } from "./io/journal.js";
export { openInput, type InputReader, type OpenInputOptions } from "./io/input-reader.js";
export { InputFormatError } from "./io/input-error.js";
export { validateItem } from "./io/item-schema.js";
export { ModelNotAvailableError, type ModelNotAvailableDetails } from "./models/model-errors.js";
export { modelFilePlan, planPaths, type ModelDtype, type ModelFilePlan, type ModelKind } from "./models/model-files.js";
export type { NewsItem } from "./core/news-item.js";
export {
  SUMMARIZATION,
  SENTIMENT,
  ExpertUnavailableError,
  type Availability,
  type Expert,
  type ExpertContext,
  type LoadContext,
  type LoadProgress,
  type ExpertOutput,
  type SentimentLabel,
  type SentimentOutput,
  type SummaryOutput,
  type Task,
} from "./core/expert.js";
export { ExpertRegistry } from "./core/registry.js";
export { isExpertError, type AnalysisRecord, type ExpertError } from "./core/analysis-record.js";
export { CombinerRegistry, combineSentiment, selectHeaviest, type Combiner, type Contribution } from "./core/mixture.js";
export { Orchestrator, type OrchestratorOptions, type PipelineInput, type RunEvent, type RunStats } from "./core/orchestrator.js";
export { createDefaultRegistry, assembleRun, outputSinks, type DefaultRegistryOptions, type RunSpec, type AssembledRun, type RunOutput } from "./engine/assemble-run.js";
export {
  builtInCatalogue,
  EXPERT_GROUPS,
  DEFAULT_RULES,
  EXPERTS,
  ROUTERS,
  SINKS,
  ENGINE_SETTINGS,
  MODEL_SETTINGS,
  SUMMARIZER_SETTINGS,
  SENTIMENT_SETTINGS,
  type EngineSettings,
  type ExpertSettings,
} from "./catalogue/catalogue.js";
export {
  Catalogue,
  UnknownRouterError,
  SettingConflictError,
  SettingValueError,
  WORKER_KINDS,
  type CatalogueEntry,
  type ExpertEntry,
  type RouterEntry,
  type SinkEntry,
  type RouterSettings,
  type RouterSetup,
  type WorkerKind,
} from "./catalogue/entries.js";
export { setting, FLAG_SPELLINGS, type FlagSpelling } from "./catalogue/setting.js";
export { ExtractiveSummarizerExpert, LexiconSentimentExpert } from "./experts/embedded/index.js";
export {
  NeuralSentimentExpert,
  NeuralSummarizerExpert,
  type NeuralModelOptions,
  type NeuralSentimentOptions,
  type NeuralSummarizerOptions,
} from "./experts/neural/index.js";
export { softmaxTopK, type GateCandidate, type GateOptions } from "./routing/softmax-top-k.js";
/** @deprecated The old name of {@link softmaxTopK}; kept so existing library users keep compiling. */
export { softmaxTopK as gate } from "./routing/softmax-top-k.js";
export { AllRouter } from "./routing/all-router.js";
export { RulesRouter } from "./routing/rules-router.js";
export { builtInRules } from "./routing/default-rules.js";
export { loadRulesConfig, parseRulesConfig, RulesConfigError, type RulesConfig, type Rule } from "./routing/rules-config.js";
export type { Condition } from "./routing/conditions.js";
export { computeFeatures } from "./routing/item-features.js";
export { LearnedRouter, type LearnedRouterOptions } from "./learned-gate/learned-router.js";
export { loadGate, parseGate, serializeGate, GateFileError, GATE_VERSION, type GateModel, type TaskGate } from "./learned-gate/gate-file.js";
export { trainGate, evaluateGate, DEFAULT_TRAIN_OPTIONS, type TrainGateOptions } from "./learned-gate/train.js";
export { readLabelled, GateDataError, type LabelledItem } from "./learned-gate/dataset.js";
export { distill, rougeL, type DistillOptions, type TeacherRecord } from "./learned-gate/distill.js";
export { DEFAULT_FEATURE_SPEC, extractFeatures, type FeatureSpec, type GateItemFeatures } from "./learned-gate/gate-features.js";
export { DEFAULT_BOOST_OPTIONS, type BoostOptions } from "./learned-gate/trees.js";
export type { GateReport, TaskReport } from "./learned-gate/report.js";
export { RoutingStats, type RoutingStatsJson } from "./engine/routing-stats.js";
export type {
  ExpertProfile,
  FeatureExtractor,
  ItemFeatures,
  RouteChoice,
  RouteContext,
  RouteRequest,
  Router,
  RoutingDecision,
} from "./core/router.js";
export { createRouter, RulesRequiredError, ROUTER_NAMES, type RouterName, type LearnedRouterSetup } from "./engine/create-router.js";
