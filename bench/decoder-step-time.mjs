// The summariser's decoder step time on the realistic bench model, for A/B runs between two builds
// (copy dist/ of each build beside it, e.g. to .ab-old/ and .ab-new/, and alternate):
//   node bench/decoder-step-time.mjs [DIST] [DTYPE] [ARTICLES]    (defaults: dist, q8, 24)
// Prints one JSON line: wall seconds and the generation timing the library reports (encode and
// decode milliseconds, steps, row-steps); decode ms per row-step is the number to compare.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname);
const [dist = "dist", dtype = "q8", count = "24"] = process.argv.slice(2);
const lib = await import(resolve(root, dist, "index.js"));
const names = await import(resolve(root, dist, "experts/neural/options.js"));
const models = resolve(root, ".cache/models/onnx");
const registry = lib.createDefaultRegistry({
  summarizer: { summarizerModel: `${models}/distilbart-cnn-6-6-realistic`, dtype, offline: true, threads: 2, generation: { maxLength: 300, minLength: 30 } },
});
const summarizer = registry.get(names.NEURAL_SUMMARIZER_NAME);
await summarizer.load({});
const articles = JSON.parse(readFileSync(resolve(root, "bench/articles-realistic.json"), "utf8")).slice(0, Number(count));
const started = performance.now();
await Promise.all(articles.map((article) => summarizer.analyze([article], {})));
const wall = (performance.now() - started) / 1000;
const timing = Object.fromEntries(Object.entries(await summarizer.generationTiming()).filter(([, v]) => typeof v === "number"));
console.log(JSON.stringify({ dist, dtype, articles: articles.length, wall: Number(wall.toFixed(2)), ...timing, decodeMsPerRowStep: Number((timing.decodeMs / timing.rowSteps).toFixed(3)) }));
await registry.dispose();
