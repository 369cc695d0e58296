#!/usr/bin/env node
/**
 * Times `generate()` on the compiled decoder (full-size distilbart-cnn-6-6 from .cache/models/onnx, beam 4,
 * three articles of 180-300 tokens, 60 tokens each) from one or more built `dist/` folders in one process,
 * round by round interleaved (order alternating), on the process's CPU clock. For checking that a change
 * to the decoder's JavaScript (src/runtime/onnx/compiled-bart*.ts, kv-cache-manager.ts) did not move its
 * speed: build the old commit's dist into another folder and compare.
 *
 *   node scripts/decode-timing.mjs [DIST ...] [--rounds 12] [--precision int8|fp32] [--models DIR]
 *
 * With two folders it prints the second's time over the first's per round. In one process the system
 * loaded second ran ~3% faster whichever it was (2-core EPYC, shared): run both orders and compare.
 * Sessions stay resident, so only the decode is timed, not reloading; the first round warms up.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(new URL("..", import.meta.url).pathname);
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    precision: { type: "string", default: "int8" },
    rounds: { type: "string", default: "12" },
    models: { type: "string", default: join(ROOT, ".cache", "models", "onnx") },
  },
});
const dists = positionals.length > 0 ? positionals.map((dist) => resolve(dist)) : [join(ROOT, "dist")];
const bart = join(values.models, "distilbart-cnn-6-6");
const config = JSON.parse(readFileSync(join(bart, "config.json"), "utf8"));
const generationConfig = JSON.parse(readFileSync(join(bart, "generation_config.json"), "utf8"));
const suffix = values.precision === "int8" ? "_quantized" : "";

/** Deterministic token ids: BOS, `length - 2` ids spread over the vocabulary, EOS. */
function article(length, seed) {
  let state = seed;
  const ids = [0];
  for (let i = 1; i < length - 1; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    ids.push(1000 + (state % 40000));
  }
  ids.push(2);
  return ids;
}
const inputIds = [article(300, 1), article(180, 2), article(240, 3)];

const systems = [];
for (const dist of dists) {
  const { openBart } = await import(join(dist, "runtime", "onnx", "open-bart.js"));
  const { generate } = await import(join(dist, "runtime", "generation", "generate.js"));
  const files = {
    encoder: join(bart, "onnx", `encoder_model${suffix}.onnx`),
    decoderMerged: join(bart, "onnx", `decoder_model_merged${suffix}.onnx`),
    config,
    generationConfig,
  };
  const { model } = await openBart(files, { engine: "compiled", intraOpNumThreads: 1, residentSessions: true });
  systems.push({ dist, model, generate, times: [], checksum: 0 });
}
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
for (let round = 0; round <= Number(values.rounds); round++) {
  for (const system of round % 2 ? [...systems].reverse() : systems) {
    const start = cpuMs();
    const out = await system.generate(system.model, { inputIds }, { numBeams: 4, maxLength: 60, minLength: 56 });
    if (round > 0) system.times.push(cpuMs() - start);
    // The same tokens from every folder, or the comparison is of different work.
    system.checksum = out.sequences.flat().reduce((a, b) => (a * 31 + b) % 1000003, 7);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const { dist, times, checksum } of systems) {
  console.log(JSON.stringify({ dist, precision: values.precision, cpuMs: times.map(Math.round), median: Math.round(median(times)), min: Math.round(Math.min(...times)), checksum }));
}
if (systems.length === 2) {
  const ratios = systems[1].times.map((time, i) => time / systems[0].times[i]);
  console.log(JSON.stringify({ secondOverFirst: median(ratios).toFixed(3), ratios: ratios.map((x) => x.toFixed(2)) }));
}
for (const { model } of systems) await model.dispose();
