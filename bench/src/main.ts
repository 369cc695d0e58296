/**
 * `npm run bench`: the tutorial's Python pipeline and news-moe side by side on the same articles and
 * the same full-size (random-weight) models, one system after the other, each in its own process so
 * that its peak RSS is its own. Writes bench/results.json and bench/results.md (or *-quick.* with
 * --quick).
 *
 * Systems: (a) tutorial-python, the baseline every ratio is taken against, measured in this same run;
 * (b) news-moe fp32; (c) news-moe q8 (int8 weights); (d) transformers.js' own summarization pipeline
 * (greedy: it has no beam search), for reference.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, Option } from "commander";
import { buildReport, markdownTable, timingTable, type SystemOutcome } from "./report.js";
import type { PhaseSpec, RunnerResult, RunnerSpec } from "./types.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SYSTEMS = {
  tutorial: "tutorial (Python, transformers 4.57.6)",
  "news-moe-fp32": "news-moe fp32",
  "news-moe-q8": "news-moe q8 (int8)",
  "transformers-js": "transformers.js pipeline (greedy, fp32)",
} as const;
type SystemName = keyof typeof SYSTEMS;
const BASELINE: SystemName = "tutorial";

interface BenchOptions {
  quick: boolean;
  systems: string;
  models: string;
  articles: string;
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
  // The sentiment classifier without its token table (the quantized one is refused and runs as published).
  const tableless = (await import(join(ROOT, "dist", "runtime", "onnx", "compiler", "compile-without-table.js"))) as {
    compileWithoutTokenTable: (source: string, options?: Record<string, unknown>) => Promise<unknown>;
  };
  await tableless.compileWithoutTokenTable(join(classifierDir, "onnx", "model.onnx"), { onCompile: (source: string) => log(`compiling ${source}`) });
}

/** The full-size models: reused when present, else built by the project's Python tooling. */
async function ensureModels(models: string): Promise<{ hf: string; onnx: string }> {
  const hf = join(models, "hf");
  const onnx = join(models, "onnx");
  const needed = [
    join(hf, "distilbart-cnn-6-6", "config.json"),
    join(hf, "distilbert-sst2", "config.json"),
    join(onnx, "distilbart-cnn-6-6", "onnx", "decoder_model_merged.onnx"),
    join(onnx, "distilbart-cnn-6-6", "onnx", "decoder_model_merged_quantized.onnx"),
    join(onnx, "distilbert-sst2", "onnx", "model_quantized.onnx"),
  ];
  if (needed.every((file) => existsSync(file))) return { hf, onnx };
  if (resolve(models) !== join(ROOT, ".cache", "models")) {
    throw new Error(`no full-size models under ${models} (missing ${needed.find((f) => !existsSync(f))}); run tools/make-full-models.sh`);
  }
  log("full-size models missing: building them with tools/make-full-models.sh (one time, ~15 minutes)");
  if (!existsSync(join(ROOT, ".venv-tools"))) {
    if ((await run("bash", ["tools/setup-python.sh"])) !== 0) throw new Error("tools/setup-python.sh failed");
  }
  if ((await run("bash", ["tools/make-full-models.sh"])) !== 0) throw new Error("tools/make-full-models.sh failed");
  return { hf, onnx };
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

async function runSystem(system: SystemName, spec: Omit<RunnerSpec, "system" | "out" | "summarizerModel" | "sentimentModel" | "dtype">, models: { hf: string; onnx: string }, work: string): Promise<SystemOutcome> {
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
      "--summarizer-model", join(models.hf, "distilbart-cnn-6-6"),
      "--sentiment-model", join(models.hf, "distilbert-sst2"),
      "--threads", String(spec.threads),
      "--out", out,
      ...spec.phases.flatMap((p) => ["--phase", `${p.name}=${p.ids.join(",")}`]),
    ]);
  } else {
    const full: RunnerSpec = {
      ...spec,
      system,
      out,
      summarizerModel: join(models.onnx, "distilbart-cnn-6-6"),
      sentimentModel: join(models.onnx, "distilbert-sst2"),
      dtype: system === "news-moe-q8" ? "q8" : "fp32",
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
    .option("--systems <list>", `comma-separated, from: ${Object.keys(SYSTEMS).join(", ")}`, Object.keys(SYSTEMS).join(","))
    .option("--models <dir>", "where the full-size models live (hf/ and onnx/)", join(ROOT, ".cache", "models"))
    .option("--articles <file>", "the bench articles", join(ROOT, "bench", "articles.json"))
    .addOption(new Option("--threads <n>", "threads per system (torch intra-op, ONNX Runtime intra-op)").default(2).argParser((v) => Number.parseInt(v, 10)))
    .option("--out <file>", "results JSON (default bench/results.json, bench/results-quick.json with --quick)")
    .option("--report-only", "rebuild the report from the last run's outputs in bench/work (runs nothing)", false)
    .parse();
  const options = program.opts<BenchOptions>();
  let systems = options.systems.split(",").map((s) => s.trim()) as SystemName[];
  // The quick check leaves out the reference system unless asked for, to stay within ~3 minutes.
  if (options.quick && program.getOptionValueSource("systems") === "default") systems = systems.filter((s) => s !== "transformers-js");
  for (const s of systems) if (!(s in SYSTEMS)) throw new Error(`unknown system "${s}"; known: ${Object.keys(SYSTEMS).join(", ")}`);
  if (!systems.includes(BASELINE)) log("note: without the tutorial baseline there are no ratios");

  const models = options.reportOnly ? { hf: "", onnx: "" } : await ensureModels(options.models);
  if (!options.reportOnly) await precompile(join(models.onnx, "distilbart-cnn-6-6"), join(models.onnx, "distilbert-sst2"));
  const outJson = resolve(options.out ?? join(ROOT, "bench", options.quick ? "results-quick.json" : "results.json"));
  const work = join(ROOT, "bench", "work");
  mkdirSync(work, { recursive: true });
  const phases = choosePhases(options.articles, options.quick);
  const spec = { articles: resolve(options.articles), phases, threads: options.threads, maxLength: 300, minLength: 30 };
  log(`phases: ${phases.map((p) => `${p.name} (${p.ids.length})`).join(", ")}; systems: ${systems.join(", ")}`);

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
  const reports = buildReport(outcomes, BASELINE, ["news-moe-fp32"]);
  // When the runners wrote their results (with --report-only, the earlier run's time).
  const outputs = systems.map((s) => join(work, `${s}.json`)).filter((f) => existsSync(f));
  const measuredAt = new Date(Math.max(...outputs.map((f) => statSync(f).mtimeMs), started.getTime())).toISOString();
  const table = markdownTable(reports);
  const results = {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    measured_at: measuredAt,
    command: `npm run bench${options.quick ? " -- --quick" : ""}`,
    machine: machine(),
    settings: { max_length: 300, min_length: 30, threads: options.threads, models: "full-size random-weight distilbart-cnn-6-6 and distilbert-sst2 (tools/make-full-models.sh)", phases },
    systems: reports,
  };
  mkdirSync(dirname(outJson), { recursive: true });
  writeFileSync(outJson, `${JSON.stringify(results, null, 2)}\n`);
  const md = outJson.replace(/\.json$/, ".md");
  const breakdown = timingTable(outcomes);
  writeFileSync(
    md,
    `Measured ${results.measured_at} on ${String(results.machine["cpu"])} (${String(results.machine["vector_extensions"])}; ` +
      `${String(results.machine["cores"])} cores), \`${results.command}\`.\n\n${table}\n${breakdown ? `\n${breakdown}\n` : ""}`,
  );
  process.stdout.write(`${table}\n\nwrote ${outJson} and ${md}\n`);
  if (outcomes.some((o) => !o.result)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
