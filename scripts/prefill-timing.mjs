#!/usr/bin/env node
/**
 * Times the prefill graphs of the full-size models, article by article, in one process: the summariser's
 * encoder (published int8, compiled int8, compiled fp32, and the published fp32 for reference) and the
 * sentiment classifier (published and compiled, fp32 and int8). Systems are interleaved round by round,
 * so a machine whose speed drifts (shared cores) slows every system alike; the report gives each
 * system's median and spread (min-max) per article length, and its ratio to the first system measured
 * in the same rounds.
 *
 *   node scripts/prefill-timing.mjs [--models .cache/models/onnx] [--threads 2] [--rounds 7]
 *                                   [--lengths 250,680] [--only encoder|classifier] [--clock wall|cpu]
 *
 * `--clock cpu` times the process's CPU time instead of the wall clock: with `--threads 1` (no pool
 * threads spinning) it counts the work a run does, whatever else the machine runs meanwhile.
 *
 * Peak memory is not measured here (several sessions share the process): `--system NAME --lengths N`
 * loads one system alone, runs it, and prints its peak RSS (VmHWM). `--loads N` times opening each
 * system (a compilation reused, the session created) N times, interleaved, on the chosen clock.
 *
 * Needs `npm run build` first (it imports dist/).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import ort from "onnxruntime-node";

const ROOT = resolve(new URL("..", import.meta.url).pathname);
const dist = (path) => import(join(ROOT, "dist", "runtime", "onnx", path));
const { OnnxSession } = await dist("session.js");
const { TokenTable } = await dist("token-table.js");
const { compileEncoder } = await dist("open-bart.js");
const { OnnxSequenceClassifier } = await dist("sequence-classifier.js");
const { lengthBatches } = await import(join(ROOT, "dist", "experts", "neural", "length-batches.js"));
const { DEFAULT_SENTIMENT_TOKEN_BUDGET } = await import(join(ROOT, "dist", "experts", "neural", "neural-sentiment-expert.js"));

const { values } = parseArgs({
  options: {
    models: { type: "string", default: join(ROOT, ".cache", "models", "onnx") },
    threads: { type: "string", default: "2" },
    rounds: { type: "string", default: "7" },
    lengths: { type: "string", default: "250,680" },
    only: { type: "string" },
    system: { type: "string" },
    clock: { type: "string", default: "wall" },
    loads: { type: "string" },
  },
});
const threads = Number(values.threads);
/** Milliseconds on the chosen clock. */
const now = values.clock === "cpu" ? () => { const { user, system } = process.cpuUsage(); return (user + system) / 1000; } : () => performance.now();
const lengths = values.lengths.split(",").map(Number);
const bart = join(values.models, "distilbart-cnn-6-6");
const sst2 = join(values.models, "distilbert-sst2");

/** Deterministic token ids: BOS, `length - 2` ids spread over the vocabulary, EOS. */
function article(length, vocab, bos, eos, seed) {
  let state = seed;
  const ids = [bos];
  for (let i = 1; i < length - 1; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    ids.push(1000 + (state % (vocab - 2000)));
  }
  ids.push(eos);
  return ids;
}

/** An encoder system: opens its session, encodes one article (ids) per call. */
async function encoderSystem(name, precision, engine) {
  const config = JSON.parse(readFileSync(join(bart, "config.json"), "utf8"));
  const source = join(bart, "onnx", precision === "int8" ? "encoder_model_quantized.onnx" : "encoder_model.onnx");
  const compiled = engine === "compiled" ? await compileEncoder({ encoder: source, config }) : null;
  if (engine === "compiled" && !compiled) throw new Error(`${source} did not compile`);
  // The options the summariser opens its encoder with (phase-sessions, no arena).
  const session = await OnnxSession.create(compiled?.graph ?? source, { intraOpNumThreads: threads, enableCpuMemArena: false });
  const table = compiled?.table ? new TokenTable(compiled.table) : null;
  return {
    name,
    vocab: config.vocab_size,
    special: [config.bos_token_id ?? 0, config.eos_token_id ?? 2],
    async run(ids) {
      const dims = [1, ids.length];
      const feeds = {};
      if (session.hasInput("input_ids")) feeds.input_ids = new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), dims);
      if (session.hasInput("attention_mask")) feeds.attention_mask = new ort.Tensor("int64", new BigInt64Array(ids.length).fill(1n), dims);
      if (table) feeds.token_embeddings = table.lookup(ids, dims);
      const out = await session.run(feeds);
      for (const tensor of Object.values(out)) tensor.dispose();
    },
    async dispose() {
      table?.close();
      await session.release();
    },
  };
}

/** A classifier system: the windows one article of `length` tokens gives the sentiment expert, batched as it does. */
async function classifierSystem(name, file, compiled) {
  const config = JSON.parse(readFileSync(join(sst2, "config.json"), "utf8"));
  const path = join(sst2, "onnx", file);
  const options = { padTokenId: config.pad_token_id ?? 0, threads, maxInputLength: config.max_position_embeddings };
  const classifier = compiled ? await OnnxSequenceClassifier.open(path, options) : await OnnxSequenceClassifier.create(path, options);
  const window = config.max_position_embeddings;
  return {
    name,
    vocab: config.vocab_size,
    special: [101, 102],
    async run(ids) {
      // The expert's windows: at most max_position_embeddings ids each (specials included), in its
      // length batches (a budget of padded tokens).
      const body = ids.slice(1, -1);
      const rows = [];
      for (let at = 0; at < body.length; at += window - 2) rows.push([ids[0], ...body.slice(at, at + window - 2), ids.at(-1)]);
      for (const batch of lengthBatches(rows.map((row) => row.length), DEFAULT_SENTIMENT_TOKEN_BUDGET)) await classifier.logits(batch.map((i) => rows[i]));
    },
    dispose: () => classifier.dispose(),
  };
}

const SYSTEMS = {
  "encoder published int8": () => encoderSystem("encoder published int8", "int8", "published"),
  "encoder compiled int8": () => encoderSystem("encoder compiled int8", "int8", "compiled"),
  "encoder compiled fp32": () => encoderSystem("encoder compiled fp32", "fp32", "compiled"),
  "encoder published fp32": () => encoderSystem("encoder published fp32", "fp32", "published"),
  "classifier published int8": () => classifierSystem("classifier published int8", "model_quantized.onnx", false),
  "classifier compiled int8": () => classifierSystem("classifier compiled int8", "model_quantized.onnx", true),
  "classifier compiled fp32": () => classifierSystem("classifier compiled fp32", "model.onnx", true),
  "classifier published fp32": () => classifierSystem("classifier published fp32", "model.onnx", false),
};

function peakRssMb() {
  const line = readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith("VmHWM:"));
  return Number(line.split(/\s+/)[1]) / 1024;
}

if (values.system) {
  const make = SYSTEMS[values.system];
  if (!make) throw new Error(`no system ${values.system}; one of: ${Object.keys(SYSTEMS).join(", ")}`);
  const before = peakRssMb();
  const system = await make();
  const loaded = peakRssMb();
  for (const length of lengths) for (let r = 0; r < 3; r++) await system.run(article(length, system.vocab, ...system.special, 7 + r));
  console.log(JSON.stringify({ system: values.system, lengths, peakRssMb: Math.round(peakRssMb()), afterLoadMb: Math.round(loaded), startMb: Math.round(before) }));
  process.exit(0);
}

if (values.loads) {
  const names = Object.keys(SYSTEMS).filter((name) => !values.only || name.startsWith(values.only));
  const times = new Map(names.map((name) => [name, []]));
  for (const name of names) await (await SYSTEMS[name]()).dispose(); // compiled once, outside the timing
  for (let round = 0; round < Number(values.loads); round++) {
    for (const name of names) {
      const start = now();
      const system = await SYSTEMS[name]();
      times.get(name).push(now() - start);
      await system.dispose();
    }
  }
  console.log(`# ${new Date().toISOString()}, opening each system ${values.loads} times, ${values.clock} clock (ms)`);
  for (const [name, xs] of times) console.log(`${name}: ${xs.map((x) => x.toFixed(0)).join(" ")}`);
  process.exit(0);
}

const groups = Object.keys(SYSTEMS).filter((name) => !values.only || name.startsWith(values.only));
const kinds = [...new Set(groups.map((name) => name.split(" ")[0]))];
console.log(`# ${new Date().toISOString()}, ${threads} threads, ${values.rounds} interleaved rounds, ${values.clock} clock`);
for (const kind of kinds) {
  const systems = [];
  for (const name of groups.filter((n) => n.startsWith(kind))) systems.push(await SYSTEMS[name]());
  const times = new Map(systems.map((s) => [s.name, new Map(lengths.map((l) => [l, []]))]));
  // One warm-up run each, then rounds: every system on every length, the order rotated each round.
  for (const system of systems) for (const length of lengths) await system.run(article(length, system.vocab, ...system.special, 1));
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const length of lengths) {
      for (let i = 0; i < systems.length; i++) {
        const system = systems[(i + round) % systems.length];
        const ids = article(length, system.vocab, ...system.special, 100 + round);
        const start = now();
        await system.run(ids);
        times.get(system.name).get(length).push(now() - start);
      }
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`\n| ${kind} | ${lengths.map((l) => `${l} tokens: median ms (min-max) | x first | ratio to first, per round (min-max)`).join(" | ")} |`);
  console.log(`|---|${lengths.map(() => "---|---|---").join("|")}|`);
  const first = times.get(systems[0].name);
  for (const system of systems) {
    const cells = lengths.map((length) => {
      const xs = times.get(system.name).get(length);
      const base = first.get(length);
      const ratios = xs.map((x, r) => x / base[r]);
      return `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}) | ${(median(xs) / median(base)).toFixed(2)} | ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
    });
    console.log(`| ${system.name} | ${cells.join(" | ")} |`);
  }
}
