/**
 * The catalogue: every built-in expert, router and sink, with every setting the engine reads, each
 * written once. Read it top to bottom like a table. The CLI's engine flags and their help
 * (cli/setting-flags.ts), the default registry, the `--experts` groups, the built-in router's
 * priors, the router and sink names and the library's setting types are all derived from it; a
 * plugin adds entries of the same types (catalogue/entries.ts) to the catalogue of the process or
 * run that loads it (engine/plugins.ts), and from there they count everywhere a built-in does.
 *
 * Adding a built-in expert: one file with the expert, one entry in EXPERTS below.
 */
import { Writable } from "node:stream";
import { z } from "zod";
import type { Router } from "../core/router.js";
import { EXTRACTIVE_SUMMARIZER_NAME, ExtractiveSummarizerExpert, LEXICON_SENTIMENT_NAME, LexiconSentimentExpert } from "../experts/embedded/index.js";
import {
  DEFAULT_NEUTRAL_THRESHOLD,
  DEFAULT_SUMMARY_STATE_MIB,
  NEURAL_SENTIMENT_NAME,
  NEURAL_SUMMARIZER_NAME,
  NeuralSentimentExpert,
  NeuralSummarizerExpert,
  TUTORIAL_MAX_LENGTH,
  TUTORIAL_MIN_LENGTH,
} from "../experts/neural/index.js";
import { LONG_ARTICLE_STRATEGIES, SUMMARY_BATCHING_MODES } from "../experts/neural/options.js";
import { MODEL_DTYPES } from "../models/model-files.js";
import { DEFAULT_SENTIMENT_MODEL, DEFAULT_SUMMARIZER_MODEL } from "../models/model-store.js";
import { AllRouter } from "../routing/all-router.js";
import { builtInRules } from "../routing/default-rules.js";
import { RulesRouter } from "../routing/rules-router.js";
import { FileSink } from "../sinks/file-sink.js";
import { JournalSink } from "../sinks/journal-sink.js";
import { StreamSink } from "../sinks/stream-sink.js";
import { Catalogue, type ExpertEntry, type RouterEntry, type SinkEntry } from "./entries.js";
import { learnedRouter, rulesRouter } from "./router-factories.js";
import { setting } from "./setting.js";

const positiveInteger = () => z.number().int().min(1);
const probability = () => z.number().min(0).max(1);

// ---------------------------------------------------------------------------------------------
// Routers: --router NAME. A router's own settings (--rules, --gate) imply it.
// ---------------------------------------------------------------------------------------------

const RULES_SETTINGS = z.object({
  rules: setting("--rules <file>", z.string().optional(), "routing rules (JSON); implies --router rules"),
});
const LEARNED_SETTINGS = z.object({
  gate: setting("--gate <file>", z.string().optional(), "trained gate (news-moe gate train); implies --router learned"),
  budget: setting("--budget <p>", probability().optional(), "learned router: most share of items (0..1) each task's neural expert may get, neediest first"),
});
const NO_SETTINGS = z.object({});

export const ROUTERS: RouterEntry[] = [
  {
    kind: "router",
    name: "auto",
    description: "built-in rules over the experts' priors",
    options: NO_SETTINGS,
    create: (settings, setup): Router | Promise<Router> =>
      settings.rules === undefined ? new RulesRouter(builtInRules(setup.priors), "auto") : rulesRouter(settings.rules, setup.registry, "auto"),
  },
  { kind: "router", name: "all", description: "every expert on every item (the tutorial's routing)", options: NO_SETTINGS, create: () => new AllRouter() },
  { kind: "router", name: "rules", description: "--rules FILE", options: RULES_SETTINGS, create: (settings, setup) => rulesRouter(settings.rules, setup.registry, "rules") },
  { kind: "router", name: "learned", description: "--gate FILE", options: LEARNED_SETTINGS, create: (settings, setup) => learnedRouter(settings, setup) },
];

// ---------------------------------------------------------------------------------------------
// Settings of the engine itself (every front end that runs it: analyze, serve, worker).
// ---------------------------------------------------------------------------------------------

export const ENGINE_SETTINGS = {
  experts: setting("--experts <list>", z.array(z.string()).optional(), "experts to use: names, tasks, 'embedded', 'neural' or 'all' (comma-separated)", "comma"),
  plugin: setting("--plugin <file>", z.array(z.string()).default([]), "load experts, routers or sinks from a JavaScript module (repeatable)", "repeat"),
  router: setting(
    "--router <router>",
    z.string().optional(),
    `gating network: ${ROUTERS.map((r) => r.name).join(", ")} (${ROUTERS.filter((r) => r.name !== "all").map((r) => `${r.name}: ${r.description}`).join(", ")}), or one a --plugin adds`,
  ),
  dryRun: setting("--dry-run", z.boolean().default(false), "route only: write each item's routing with empty analyses, run no expert"),
  clean: setting("--no-clean", z.boolean().default(true), "hand experts the content as scraped (default: strip HTML and scraper boilerplate first)"),
};

// ---------------------------------------------------------------------------------------------
// Experts. Settings shared by the neural experts first, then each expert with its own.
// ---------------------------------------------------------------------------------------------

/** How both neural experts get and run a model. Settings without a flag are the library's only. */
export const MODEL_SETTINGS = {
  offline: setting("--offline", z.boolean().default(false), "never touch the network (also HF_HUB_OFFLINE=1)"),
  dtype: setting("--dtype <dtype>", z.enum(MODEL_DTYPES).default(MODEL_DTYPES[0]), "model weights: fp32 or q8 (int8)"),
  threads: setting("--threads <n>", positiveInteger().optional(), "CPU threads per model (default: all cores)"),
  cacheDir: setting("--cache-dir <dir>", z.string().optional(), "model cache (default: the Hugging Face cache, $HF_HOME/hub)"),
  /** How messages name the switch that set `offline` (the CLI: "--offline"). */
  offlineLabel: z.string().optional(),
  /** Padded tokens per ONNX run (default: each expert's own). */
  tokenBudget: positiveInteger().optional(),
};

export const SUMMARIZER_SETTINGS = z.object({
  ...MODEL_SETTINGS,
  summarizerModel: setting("--summarizer-model <id|dir>", z.string().default(DEFAULT_SUMMARIZER_MODEL), "summarisation model: hub id or local directory in the ONNX layout"),
  long: setting("--long <mode>", z.enum(LONG_ARTICLE_STRATEGIES).default(LONG_ARTICLE_STRATEGIES[0]), "articles longer than the summariser's window: chunk (map-reduce) or truncate"),
  maxLength: setting("--max-length <n>", positiveInteger().default(TUTORIAL_MAX_LENGTH), "summary length limit in tokens (as the tutorial)"),
  minLength: setting("--min-length <n>", z.number().int().min(0).default(TUTORIAL_MIN_LENGTH), "summary minimum in tokens (as the tutorial)"),
  numBeams: setting("--num-beams <n>", positiveInteger().optional(), "beam width (default: the model's generation config)"),
  summaryMemoryMib: setting(
    "--summary-memory <MiB>",
    positiveInteger().default(DEFAULT_SUMMARY_STATE_MIB),
    "neural summariser: decoder state the running batch (or one static call) may hold (less is leaner; static calls are faster with more)",
  ),
  batching: setting(
    "--batching <mode>",
    z.enum(SUMMARY_BATCHING_MODES).default(SUMMARY_BATCHING_MODES[0]),
    "neural summariser: continuous (articles join the running decoder batch at every step and leave when done) or static (calls that run until their longest summary ends)",
  ),
  /** One-line notices while loading (default: the load context's warnings). */
  onNotice: z.custom<(message: string) => void>((value) => typeof value === "function").optional(),
  /** Force the compiled or the published decoder (default auto). */
  decoderEngine: z.enum(["auto", "compiled", "published"]).optional(),
});

export const SENTIMENT_SETTINGS = z.object({
  ...MODEL_SETTINGS,
  sentimentModel: setting("--sentiment-model <id|dir>", z.string().default(DEFAULT_SENTIMENT_MODEL), "sentiment model: hub id or local directory in the ONNX layout"),
  neutralThreshold: setting("--neutral-threshold <p>", probability().default(DEFAULT_NEUTRAL_THRESHOLD), "neural sentiment is NEUTRAL when its top probability is below this"),
});

/**
 * The built-in experts. Their order is the fallback order within each task: the neural expert
 * first (the tutorial's models, best quality), then the embedded one that needs no download.
 */
export const EXPERTS: ExpertEntry[] = [
  expert({
    name: NEURAL_SUMMARIZER_NAME,
    task: "summarization",
    group: "neural",
    defaultModel: { spec: DEFAULT_SUMMARIZER_MODEL, kind: "seq2seq" },
    workerKind: "seq2seq-worker",
    prior: 1,
    costly: true,
    options: SUMMARIZER_SETTINGS,
    create: ({ maxLength, minLength, numBeams, ...options }) =>
      new NeuralSummarizerExpert({ ...options, generation: { maxLength, minLength, ...(numBeams !== undefined ? { numBeams } : {}) } }),
  }),
  expert({
    name: EXTRACTIVE_SUMMARIZER_NAME,
    task: "summarization",
    group: "embedded",
    workerKind: "embedded-pool",
    prior: 0,
    costly: false,
    options: NO_SETTINGS,
    create: () => new ExtractiveSummarizerExpert(),
  }),
  expert({
    name: NEURAL_SENTIMENT_NAME,
    task: "sentiment",
    group: "neural",
    defaultModel: { spec: DEFAULT_SENTIMENT_MODEL, kind: "classifier" },
    workerKind: "main-thread",
    prior: 1,
    costly: true,
    options: SENTIMENT_SETTINGS,
    create: (options) => new NeuralSentimentExpert(options),
  }),
  expert({
    name: LEXICON_SENTIMENT_NAME,
    task: "sentiment",
    group: "embedded",
    workerKind: "embedded-pool",
    prior: 0,
    costly: false,
    options: NO_SETTINGS,
    create: () => new LexiconSentimentExpert(),
  }),
];

// ---------------------------------------------------------------------------------------------
// Sinks: where records go. The front end picks them (an output file, stdout); the journal is the
// engine's own; a plugin's sinks receive every record of an analyze run.
// ---------------------------------------------------------------------------------------------

export const SINKS: SinkEntry[] = [
  sink({
    name: "file",
    description: "records to a file, written whole or not at all: the tutorial's JSON array, or JSON Lines",
    everyRun: false,
    options: z.object({ path: z.string(), format: z.enum(["json", "jsonl"]).default("json") }),
    create: ({ path, format }) => new FileSink(path, format),
  }),
  sink({
    name: "stream",
    description: "records as JSON Lines to a stream (stdout for -o -)",
    everyRun: false,
    options: z.object({ stream: z.custom<Writable>((value) => value instanceof Writable).optional() }),
    create: ({ stream }) => new StreamSink(stream),
  }),
  sink({
    name: "journal",
    description: "crash safety: every finished record appended at once, replayed on --resume",
    everyRun: false,
    options: z.object({
      path: z.string(),
      input: z.string(),
      resume: z.boolean().default(false),
      overwrite: z.boolean().default(false),
      itemFingerprint: z.custom<(index: number) => string | undefined>((value) => typeof value === "function").optional(),
    }),
    create: ({ path, ...options }) => new JournalSink(path, options),
  }),
];

// ---------------------------------------------------------------------------------------------
// What is derived from the table.
// ---------------------------------------------------------------------------------------------

/** The built-in catalogue: a fresh copy each call, so a plugin's entries stay in the run that loaded them. */
export function builtInCatalogue(): Catalogue {
  const catalogue = new Catalogue(ENGINE_SETTINGS);
  for (const entry of [...ROUTERS, ...EXPERTS, ...SINKS]) catalogue.add(entry);
  return catalogue;
}

/** Every built-in setting by its one name, with its type after parsing (the CLI's parsed engine flags). */
const BUILT_IN_SETTINGS = z.object({
  ...ENGINE_SETTINGS,
  ...RULES_SETTINGS.shape,
  ...LEARNED_SETTINGS.shape,
  ...SUMMARIZER_SETTINGS.shape,
  ...SENTIMENT_SETTINGS.shape,
});
export type EngineSettings = z.output<typeof BUILT_IN_SETTINGS>;

/** What the library takes for the built-in experts' settings, by their one name (the CLI's flags, camel-cased). */
export type ExpertSettings = Partial<z.input<typeof SUMMARIZER_SETTINGS> & z.input<typeof SENTIMENT_SETTINGS>>;

/** Names usable in `--experts` besides expert names and tasks, for the built-in experts. */
export const EXPERT_GROUPS: Readonly<Record<string, readonly string[]>> = builtInCatalogue().groups();

/** The `auto` router's policy over the built-in experts. */
export const DEFAULT_RULES = builtInRules(builtInCatalogue().priors());

/** Typed entry helpers: each entry's factory is checked against its own option schema. */
function expert<S extends z.ZodObject>(entry: Omit<ExpertEntry<S>, "kind">): ExpertEntry {
  return { kind: "expert", ...entry } as unknown as ExpertEntry;
}

function sink<S extends z.ZodObject>(entry: Omit<SinkEntry<S>, "kind">): SinkEntry {
  return { kind: "sink", ...entry } as unknown as SinkEntry;
}
