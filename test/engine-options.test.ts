/**
 * The engine flags analyze, serve and worker share, as the registry receives them.
 */
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { addEngineOptions, registryOptions, type EngineFlags } from "../src/cli/engine-options.js";
import { resolveSummarizerOptions } from "../src/experts/neural/options.js";

function flags(...argv: string[]): EngineFlags {
  return addEngineOptions(new Command().exitOverride().configureOutput({ writeErr: () => undefined })).parse(["node", "news-moe", ...argv]).opts() as EngineFlags;
}

describe("engine flags -> registry options", () => {
  it("--summary-memory becomes the summariser's decoder-state budget; without it the expert keeps its default", () => {
    expect(registryOptions(flags("--summary-memory", "256")).summarizer).toMatchObject({ stateMemoryMib: 256 });
    expect(registryOptions(flags()).summarizer).not.toHaveProperty("stateMemoryMib");
    expect(registryOptions(flags("--summary-memory", "256")).sentiment).not.toHaveProperty("stateMemoryMib");
  });

  it("generation and model flags go to the expert they are for", () => {
    const options = registryOptions(flags("--max-length", "120", "--num-beams", "2", "--threads", "1", "--dtype", "q8"));
    expect(options.summarizer).toMatchObject({ generation: { maxLength: 120, numBeams: 2 }, threads: 1, dtype: "q8" });
    expect(options.sentiment).toMatchObject({ threads: 1, dtype: "q8" });
    expect(options.sentiment).not.toHaveProperty("generation");
  });

  it("--batching picks the summariser's decoder batching; the expert defaults to continuous and refuses other words", () => {
    expect(registryOptions(flags("--batching", "static")).summarizer).toMatchObject({ batching: "static" });
    expect(registryOptions(flags()).summarizer).toMatchObject({ batching: "continuous" });
    expect(() => flags("--batching", "dynamic")).toThrow(/continuous, static/);
    expect(resolveSummarizerOptions({}).batching).toBe("continuous");
    expect(resolveSummarizerOptions({ batching: "static" }).batching).toBe("static");
    expect(() => resolveSummarizerOptions({ batching: "dynamic" as never })).toThrow(/batching must be continuous or static, got dynamic/);
  });
});
