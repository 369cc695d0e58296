/**
 * The engine flags analyze, serve and worker share, as the experts receive them: each flag is a
 * catalogue setting, parsed under its one name and handed to the expert under that name.
 */
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { builtInCatalogue } from "../src/catalogue/catalogue.js";
import { addEngineOptions, pluginPaths, type EngineFlags } from "../src/cli/engine-options.js";
import { createRegistry } from "../src/engine/assemble-run.js";
import { NEURAL_SENTIMENT_NAME, NEURAL_SUMMARIZER_NAME, type NeuralSentimentExpert, type NeuralSummarizerExpert } from "../src/experts/neural/index.js";
import { resolveSummarizerOptions } from "../src/experts/neural/options.js";

const engine = { catalogue: builtInCatalogue(), plugins: { experts: [], routers: [], sinks: [] } };

function flags(...argv: string[]): EngineFlags {
  const command = addEngineOptions(new Command().exitOverride().configureOutput({ writeErr: () => undefined }), engine);
  return command.parse(["node", "news-moe", ...argv]).opts() as EngineFlags;
}

function experts(parsed: EngineFlags): { summarizer: NeuralSummarizerExpert; sentiment: NeuralSentimentExpert } {
  const registry = createRegistry(engine.catalogue, { settings: parsed });
  return {
    summarizer: registry.get(NEURAL_SUMMARIZER_NAME) as NeuralSummarizerExpert,
    sentiment: registry.get(NEURAL_SENTIMENT_NAME) as NeuralSentimentExpert,
  };
}

describe("engine flags -> expert options", () => {
  it("--summary-memory is summaryMemoryMib from the parsed flags to the summariser; without it the schema's 512", () => {
    expect(flags("--summary-memory", "256").summaryMemoryMib).toBe(256);
    expect(experts(flags("--summary-memory", "256")).summarizer.options.summaryMemoryMib).toBe(256);
    expect(experts(flags()).summarizer.options.summaryMemoryMib).toBe(512);
    expect(experts(flags("--summary-memory", "256")).sentiment.options).not.toHaveProperty("summaryMemoryMib");
    // The library's older name still reaches the same option.
    expect(resolveSummarizerOptions({ stateMemoryMib: 300 }).summaryMemoryMib).toBe(300);
  });

  it("generation and model flags go to the expert they are for", () => {
    const { summarizer, sentiment } = experts(flags("--max-length", "120", "--num-beams", "2", "--threads", "1", "--dtype", "q8"));
    expect(summarizer.options).toMatchObject({ generation: { maxLength: 120, minLength: 30, numBeams: 2 }, threads: 1, dtype: "q8" });
    expect(sentiment.options).toMatchObject({ threads: 1, dtype: "q8", neutralThreshold: 0.75 });
    expect(sentiment.options).not.toHaveProperty("generation");
  });

  it("--batching picks the summariser's decoder batching; the expert defaults to continuous and refuses other words", () => {
    expect(experts(flags("--batching", "static")).summarizer.options.batching).toBe("static");
    expect(experts(flags()).summarizer.options.batching).toBe("continuous");
    expect(() => flags("--batching", "dynamic")).toThrow(/continuous, static/);
    expect(resolveSummarizerOptions({}).batching).toBe("continuous");
    expect(() => resolveSummarizerOptions({ batching: "dynamic" as never })).toThrow(/batching must be continuous or static, got dynamic/);
  });

  it("numbers outside a setting's schema are refused with the flag's name and the rule", () => {
    expect(() => flags("--summary-memory", "0")).toThrow(/--summary-memory must be a whole number ≥ 1/);
    expect(() => flags("--threads", "1.5")).toThrow(/--threads must be a whole number ≥ 1/);
    expect(() => flags("--neutral-threshold", "1.2")).toThrow(/--neutral-threshold must be a number between 0 and 1/);
    expect(() => flags("--budget", "")).toThrow(/--budget must be a number between 0 and 1/);
  });

  it("--plugin paths are found before the command line is parsed, in both spellings, not after --", () => {
    expect(pluginPaths(["analyze", "x.json", "--plugin", "a.mjs", "--plugin=b.mjs", "--", "--plugin", "c.mjs"])).toEqual(["a.mjs", "b.mjs"]);
  });
});
