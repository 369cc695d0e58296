/**
 * `npm run bench`: the tutorial's Python pipeline and news-moe side by side on the same articles and
 * the same full-size (random-weight) models, one system after the other, each in its own process so
 * that its peak RSS is its own. Writes bench/results-<workload>.json and .md (or
 * bench/results-quick-<workload>.* with --quick).
 *
 * Workloads (workloads.ts): "realistic" (default), summaries that end at varied lengths, on 50 common
 * articles and the long ones; "worst", the model that never emits the end token (every summary 300 steps).
 *
 * Systems: (a) tutorial-python, the baseline every ratio is taken against, measured in this same run;
 * (b) news-moe fp32 (continuous batching: articles join and leave the decoder's batch at every step);
 * (b') news-moe fp32 with static batching (a generate call runs until its longest summary ends);
 * (c) news-moe q8 (int8 weights); (d) transformers.js' own summarization pipeline (greedy: it has no
 * beam search), for reference.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, Option } from "commander";
import { buildReport, lengthTable, markdownTable, timingTable, type SystemOutcome } from "./report.js";
import type { PhaseSpec, RunnerResult, RunnerSpec } from "./types.js";
import { WORKLOADS, workloadNamed, type Workload } from "./workloads.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SYSTEMS = {
  tutorial: "tutorial (Python, transformers 4.57.6)",
  "news-moe-fp32": "news-moe fp32",
  "news-moe-fp32-static": "news-moe fp32, static batching",
  "news-moe-q8": "news-moe q8 (int8)",
  "transformers-js": "transformers.js pipeline (greedy, fp32)",
} as const;
type SystemName = keyof typeof SYSTEMS;
const BASELINE: SystemName = "tutorial";
/** Systems whose summaries must be the tutorial's tokens, article by article (fp32, both batchings). */
const IDENTITY_SYSTEMS: SystemName[] = ["news-moe-fp32", "news-moe-fp32-static"];
const MAX_LENGTH = 300;
const MIN_LENGTH = 30;

interface BenchOptions {
  quick: boolean;
  workload: string;
  systems: string;
  models: string;
  articles?: string;
  threads: number;
  out?: string;
  reportOnly: boolean;
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Runs a command with the bench's stderr showing through; resolves with its exit code. */
function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("close", (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)));
  });
}

/**
 * Compiles the summariser's graphs (both precisions) and the classifier's here, before any system runs: a
 * first compilation reads the whole source graph, and inside a runner that would count in its load time
 * and peak memory.
 */
async function precompile(modelDir: string, classifierDir: string): Promise<void> {
  type Compiler = (files: Record<string, unknown>, options?: Record<string, unknown>) => Promise<unknown>;
  const bart = (await import(join(ROOT, "dist", "runtime", "onnx", "open-bart.js"))) as { compileBart: Compiler; compileEncoder: Compiler };
  const config = JSON.parse(readFileSync(join(modelDir, "config.json"), "utf8")) as Record<string, unknown>;
  for (const suffix of ["", "_quantized"]) {
    const onCompile = (source: string) => log(`compiling ${source}`);
    await bart.compileBart({ decoderMerged: join(modelDir, "onnx", `decoder_model_merged${suffix}.onnx`), config }, { onCompile });
    await bart.compileEncoder({ encoder: join(modelDir, "onnx", `encoder_model${suffix}.onnx`), config }, { onCompile });
  }
  // The sentiment classifier, both precisions: fp32 without its token table, int8 rebuilt with fused attention.
  const classifier = (await import(join(ROOT, "dist", "runtime", "onnx", "sequence-classifier.js"))) as {
    compileClassifier: (source: string, options?: Record<string, unknown>) => Promise<unknown>;
  };
  for (const file of ["model.onnx", "model_quantized.onnx"]) {
    await classifier.compileClassifier(join(classifierDir, "onnx", file), { onCompile: (source: string) => log(`compiling ${source}`) });
  }
}

/** Where a workload's models are: HF checkpoints (for the tutorial) and ONNX exports (for news-moe). */
interface ModelPaths {
  hfSummarizer: string;
  hfSentiment: string;
  onnxSummarizer: string;
  onnxSentiment: string;
}

function modelPaths(models: string, workload: Workload): ModelPaths {
  return {
    hfSummarizer: join(models, "hf", workload.summarizer),
    hfSentiment: join(models, "hf", workload.sentiment),
    onnxSummarizer: join(models, "onnx", workload.summarizer),
    onnxSentiment: join(models, "onnx", workload.sentiment),
  };
}

/** The files a run reads, which the scripts below make. */
function modelFiles(paths: ModelPaths): string[] {
  return [
    join(paths.hfSummarizer, "config.json"),
    join(paths.hfSentiment, "config.json"),
    join(paths.onnxSummarizer, "onnx", "decoder_model_merged.onnx"),
    join(paths.onnxSummarizer, "onnx", "decoder_model_merged_quantized.onnx"),
    join(paths.onnxSentiment, "onnx", "model_quantized.onnx"),
  ];
}

/**
 * The workload's models: reused when present, else built by the project's Python tooling (the
 * full-size models first, then for the realistic workload its variant of the summariser).
 */
async function ensureModels(models: string, workload: Workload): Promise<ModelPaths> {
  const paths = modelPaths(models, workload);
  const missing = () => modelFiles(paths).find((file) => !existsSync(file));
  if (missing() === undefined) return paths;
  if (resolve(models) !== join(ROOT, ".cache", "models")) {
    const script = workload.name === "realistic" ? "tools/make-full-models.sh, then tools/make-realistic-model.sh" : "tools/make-full-models.sh";
    throw new Error(`no ${workload.name} workload models under ${models} (missing ${missing()}); run ${script}`);
  }
  if (!existsSync(join(ROOT, ".venv-tools"))) {
    if ((await run("bash", ["tools/setup-python.sh"])) !== 0) throw new Error("tools/setup-python.sh failed");
  }
  const full = modelPaths(models, WORKLOADS.worst);
  if (modelFiles(full).some((file) => !existsSync(file))) {
    log("full-size models missing: building them with tools/make-full-models.sh (one time, ~15 minutes)");
    if ((await run("bash", ["tools/make-full-models.sh"])) !== 0) throw new Error("tools/make-full-models.sh failed");
  }
  if (missing() !== undefined && workload.name === "realistic") {
    log("realistic-length summariser missing: building it with tools/make-realistic-model.sh (one time, ~10 minutes)");
    if ((await run("bash", ["tools/make-realistic-model.sh"])) !== 0) throw new Error("tools/make-realistic-model.sh failed");
  }
  if (missing() !== undefined) throw new Error(`still missing after building: ${missing()}`);
  return paths;
}

/**
 * The articles by size: short (< 300 words) and medium ones make the "common" phase every system can
 * take; long ones (over 600 words, beyond the model's 1,024 positions) make their own phase, where
 * the tutorial fails at once and news-moe splits the article.
 */
function choosePhases(articlesPath: string, quick: boolean): PhaseSpec[] {
  const articles = JSON.parse(readFileSync(articlesPath, "utf8")) as Array<{ id: string; content: string }>;
  const words = (a: { content: string }) => a.content.split(/\s+/).filter(Boolean).length;
  const short = articles.filter((a) => words(a) < 300).map((a) => a.id);
  const medium = articles.filter((a) => words(a) >= 300 && words(a) <= 600).map((a) => a.id);
  const long = articles.filter((a) => words(a) > 600).map((a) => a.id);
  if (quick) return [{ name: "common", ids: short.slice(0, 2) }];
  return [
    { name: "common", ids: [...short, ...medium] },
    { name: "long", ids: long },
  ];
}

/**
 * The articles news-moe's default text cleaning changes (scraper boilerplate such as a lone
 * "Advertisement", HTML): the tutorial reads every article as it is, so on these the two systems
 * summarise different text and their tokens cannot be compared. The bench's own articles have none.
 */
async function changedByCleaning(articlesPath: string, ids: readonly string[]): Promise<string[]> {
  const { cleanText } = (await import(join(ROOT, "dist", "text", "clean.js"))) as { cleanText: (text: string) => { text: string } };
  const wanted = new Set(ids);
  const articles = JSON.parse(readFileSync(articlesPath, "utf8")) as Array<{ id: string; content: string }>;
  return articles.filter((a) => wanted.has(a.id) && cleanText(a.content).text !== a.content).map((a) => a.id);
}

async function runSystem(system: SystemName, spec: Omit<RunnerSpec, "system" | "out" | "summarizerModel" | "sentimentModel" | "dtype">, models: ModelPaths, work: string): Promise<SystemOutcome> {
  const out = join(work, `${system}.json`);
  const label = SYSTEMS[system];
  let code: number;
  const started = performance.now();
  if (system === "tutorial") {
    const py = join(ROOT, "tools", "py");
    if (!existsSync(join(ROOT, ".venv-tools"))) return { system, label, error: "no Python venv: run tools/setup-python.sh" };
    code = await run(py, [
      "tools/python/bench_tutorial.py",
      "--articles", spec.articles,
      "--summarizer-model", models.hfSummarizer,
      "--sentiment-model", models.hfSentiment,
      "--threads", String(spec.threads),
      "--out", out,
      ...spec.phases.flatMap((p) => ["--phase", `${p.name}=${p.ids.join(",")}`]),
    ]);
  } else {
    const full: RunnerSpec = {
      ...spec,
      system,
      out,
      summarizerModel: models.onnxSummarizer,
      sentimentModel: models.onnxSentiment,
      dtype: system === "news-moe-q8" ? "q8" : "fp32",
      ...(system.startsWith("news-moe") ? { batching: system === "news-moe-fp32-static" ? ("static" as const) : ("continuous" as const) } : {}),
    };
    const specPath = join(work, `${system}.spec.json`);
    writeFileSync(specPath, JSON.stringify(full, null, 2));
    const runner = system === "transformers-js" ? "transformers-js.js" : "news-moe.js";
    code = await run(process.execPath, [join(ROOT, "bench", "dist", "runners", runner), specPath]);
  }
  log(`${system}: exit ${code} after ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (code !== 0 || !existsSync(out)) return { system, label, error: `runner exited with code ${code}` };
  return { system, label, result: JSON.parse(readFileSync(out, "utf8")) as RunnerResult };
}

function machine(): Record<string, unknown> {
  const lscpu = spawnSync("lscpu", [], { encoding: "utf8" });
  const model = /^Model name:\s+(.+)$/m.exec(lscpu.stdout ?? "")?.[1] ?? cpus()[0]?.model ?? "unknown";
  // int8 and fp32 speed depend on these: name them next to every number.
  const flags = /^Flags:\s+(.+)$/m.exec(lscpu.stdout ?? "")?.[1]?.split(/\s+/) ?? [];
  const vector = ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8"].filter((f) => flags.includes(f));
  return {
    cpu: model,
    vector_extensions: vector.length > 0 ? vector.join(" ") : "unknown",
    cores: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
    node: process.versions.node,
  };
}

async function main(): Promise<void> {
  const program = new Command("bench")
    .description("news-moe vs the tutorial's Python pipeline on the same articles and full-size models")
    .option("--quick", "a small run (2 short articles, without transformers.js unless --systems names it) to check the setup in under 3 minutes", false)
    .addOption(
      new Option("--workload <name>", "realistic: summaries end at varied lengths (50 common articles + the long ones); worst: no summary ends before 300 tokens")
        .choices(Object.keys(WORKLOADS))
        .default("realistic"),
    )
    .option("--systems <list>", `comma-separated, from: ${Object.keys(SYSTEMS).join(", ")}`, Object.keys(SYSTEMS).join(","))
    .option("--models <dir>", "where the full-size models live (hf/ and onnx/)", join(ROOT, ".cache", "models"))
    .option("--articles <file>", "the bench articles (default: the workload's, bench/articles-realistic.json or bench/articles.json)")
    .addOption(new Option("--threads <n>", "threads per system (torch intra-op, ONNX Runtime intra-op)").default(2).argParser((v) => Number.parseInt(v, 10)))
    .option("--out <file>", "results JSON (default bench/results-<workload>.json, bench/results-quick-<workload>.json with --quick)")
    .option("--report-only", "rebuild the report from the last run's outputs in bench/work/<workload> (runs nothing)", false)
    .parse();
  const options = program.opts<BenchOptions>();
  let systems = options.systems.split(",").map((s) => s.trim()) as SystemName[];
  // The quick check leaves out the reference system unless asked for, to stay within ~3 minutes.
  if (options.quick && program.getOptionValueSource("systems") === "default") systems = systems.filter((s) => s !== "transformers-js");
  for (const s of systems) if (!(s in SYSTEMS)) throw new Error(`unknown system "${s}"; known: ${Object.keys(SYSTEMS).join(", ")}`);
  if (!systems.includes(BASELINE)) log("note: without the tutorial baseline there are no ratios");

  const workload = workloadNamed(options.workload);
  const articles = resolve(options.articles ?? join(ROOT, workload.articles));
  const models = options.reportOnly ? modelPaths(options.models, workload) : await ensureModels(options.models, workload);
  if (!options.reportOnly) await precompile(models.onnxSummarizer, models.onnxSentiment);
  const outJson = resolve(options.out ?? join(ROOT, "bench", `results-${options.quick ? "quick-" : ""}${workload.name}.json`));
  const work = join(ROOT, "bench", "work", workload.name);
  mkdirSync(work, { recursive: true });
  const phases = choosePhases(articles, options.quick);
  const spec = { articles, phases, threads: options.threads, maxLength: MAX_LENGTH, minLength: MIN_LENGTH };
  log(`workload ${workload.name}; phases: ${phases.map((p) => `${p.name} (${p.ids.length})`).join(", ")}; systems: ${systems.join(", ")}`);
  const cleaned = await changedByCleaning(articles, phases.flatMap((p) => p.ids));
  if (cleaned.length > 0) {
    log(`note: news-moe's text cleaning changes ${cleaned.length} article(s) (${cleaned.join(", ")}): their summaries cannot be the tutorial's tokens`);
  }

  const started = new Date();
  const outcomes: SystemOutcome[] = [];
  // Baseline first, the others in a fixed order, one at a time: nothing else competes for the 2 cores.
  for (const system of [BASELINE, ...systems.filter((s) => s !== BASELINE)].filter((s) => systems.includes(s))) {
    if (options.reportOnly) {
      const out = join(work, `${system}.json`);
      outcomes.push(
        existsSync(out)
          ? { system, label: SYSTEMS[system], result: JSON.parse(readFileSync(out, "utf8")) as RunnerResult }
          : { system, label: SYSTEMS[system], error: `no ${out}` },
      );
      continue;
    }
    log(`running ${system}`);
    outcomes.push(await runSystem(system, spec, models, work));
  }
  const reports = buildReport(outcomes, BASELINE, IDENTITY_SYSTEMS, MAX_LENGTH);
  // When the runners wrote their results (with --report-only, the earlier run's time).
  const outputs = systems.map((s) => join(work, `${s}.json`)).filter((f) => existsSync(f));
  const measuredAt = new Date(Math.max(...outputs.map((f) => statSync(f).mtimeMs), started.getTime())).toISOString();
  const table = markdownTable(reports);
  const results = {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    measured_at: measuredAt,
    command: `npm run bench -- --workload ${workload.name}${options.quick ? " --quick" : ""}`,
    machine: machine(),
    workload: workload.name,
    settings: {
      max_length: MAX_LENGTH,
      min_length: MIN_LENGTH,
      threads: options.threads,
      models: `${workload.summarizer} and ${workload.sentiment}: ${workload.description}`,
      articles: articles.startsWith(ROOT) ? articles.slice(ROOT.length + 1) : articles,
      phases,
    },
    systems: reports,
  };
  mkdirSync(dirname(outJson), { recursive: true });
  writeFileSync(outJson, `${JSON.stringify(results, null, 2)}\n`);
  const md = outJson.replace(/\.json$/, ".md");
  const breakdown = timingTable(outcomes);
  const lengths = lengthTable(reports);
  writeFileSync(
    md,
    `Measured ${results.measured_at} on ${String(results.machine["cpu"])} (${String(results.machine["vector_extensions"])}; ` +
      `${String(results.machine["cores"])} cores), \`${results.command}\`.\n\n${table}\n` +
      `${lengths ? `\n${lengths}\n` : ""}${breakdown ? `\n${breakdown}\n` : ""}`,
  );
  process.stdout.write(`${table}\n${lengths ? `\n${lengths}\n` : ""}\nwrote ${outJson} and ${md}\n`);
  if (outcomes.some((o) => !o.result)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
