import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { AnalysisRecord } from "../src/core/analysis-record.js";
import { ExpertUnavailableError, type Expert, type ExpertOutput, type LoadContext, type SentimentOutput } from "../src/core/expert.js";
import type { RouteContext, RouteRequest, Router, RoutingDecision } from "../src/core/router.js";
import type { NewsItem } from "../src/core/news-item.js";
import { Orchestrator, type PipelineInput } from "../src/core/orchestrator.js";
import { ExpertRegistry } from "../src/core/registry.js";
import { ExtractiveSummarizerExpert, LexiconSentimentExpert } from "../src/experts/embedded/index.js";
import { AllRouter } from "../src/routing/all-router.js";
import { DEFAULT_RULES } from "../src/catalogue/catalogue.js";
import { computeFeatures } from "../src/routing/item-features.js";
import { parseRulesConfig } from "../src/routing/rules-config.js";
import { RulesRouter } from "../src/routing/rules-router.js";

/**
 * An expert whose behaviour the tests control: it records the batches it is given, takes a
 * per-item time, fails on content containing "POISON" and keeps track of items held at once.
 */
class ProbeExpert implements Expert {
  readonly description = "test expert";
  readonly requires = "nothing";
  readonly batches: string[][] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    readonly name: string,
    readonly task: string,
    readonly maxBatchSize: number,
    private readonly msPerItem = 0,
    private readonly loadError?: string,
  ) {}

  async load(_context?: LoadContext): Promise<void> {
    if (this.loadError) throw new ExpertUnavailableError(this.name, this.loadError);
  }

  async analyze(items: readonly NewsItem[]): Promise<Array<ExpertOutput | Error>> {
    this.batches.push(items.map((i) => i.id));
    this.inFlight += items.length;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    // Later items finish first when msPerItem varies by id: exercises the reorder buffer.
    await sleep(this.msPerItem * items.length + (Number(items[0]?.id.slice(1)) % 3));
    this.inFlight -= items.length;
    if (items.some((i) => i.content.includes("POISON"))) throw new Error("poisoned batch");
    return items.map((i) => ({ seen: i.id }));
  }
}

class FixedSentiment implements Expert<SentimentOutput> {
  readonly task = "sentiment";
  readonly description = "fixed";
  readonly requires = "nothing";
  readonly maxBatchSize = 8;
  constructor(
    readonly name: string,
    private readonly probabilities: SentimentOutput["probabilities"],
  ) {}
  async load(): Promise<void> {}
  async analyze(items: readonly NewsItem[]): Promise<SentimentOutput[]> {
    const [label, score] = Object.entries(this.probabilities).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))[0] ?? ["NEUTRAL", 0];
    return items.map(() => ({
      sentiment_label: label as SentimentOutput["sentiment_label"],
      sentiment_score: score ?? 0,
      probabilities: this.probabilities,
    }));
  }
}

function news(n: number, content = "Harbour Town won again on Saturday. The fans were delighted with the result."): PipelineInput[] {
  return Array.from({ length: n }, (_, index) => ({ index, item: { id: `n${index}`, headline: `H${index}`, content } }));
}

async function* slowly(entries: PipelineInput[]): AsyncGenerator<PipelineInput> {
  for (const entry of entries) {
    yield entry;
    await sleep(0);
  }
}

async function collect(orchestrator: Orchestrator, entries: PipelineInput[]): Promise<AnalysisRecord[]> {
  const records: AnalysisRecord[] = [];
  for await (const { record } of orchestrator.run(slowly(entries))) records.push(record);
  return records;
}

describe("Orchestrator", () => {
  it("batches per expert, never beyond its batch size, and emits records in input order", async () => {
    const a = new ProbeExpert("A", "summarization", 4, 2);
    const b = new ProbeExpert("B", "sentiment", 16, 1);
    const registry = new ExpertRegistry().register(a).register(b);
    const orchestrator = new Orchestrator({ registry, experts: ["A", "B"], router: new AllRouter(), features: computeFeatures });
    const records = await collect(orchestrator, news(40));
    expect(records.map((r) => r.id)).toEqual(Array.from({ length: 40 }, (_, i) => `n${i}`));
    expect(Math.max(...a.batches.map((batch) => batch.length))).toBeLessThanOrEqual(4);
    expect(a.batches.flat().sort()).toEqual(records.map((r) => r.id).sort());
    // A busy expert's queue becomes its next batch: far fewer calls than items.
    expect(b.batches.length).toBeLessThan(40);
    // Each expert's own output under its name; each tutorial task's final value under the tutorial's key.
    expect(records[0]?.analyses).toEqual({
      NewsSummarizationLLMExpert: { seen: "n0", expert: "A" },
      SentimentAnalysisLLMExpert: { seen: "n0", expert: "B" },
      A: { seen: "n0" },
      B: { seen: "n0" },
    });
    expect(orchestrator.stats).toMatchObject({ items: 40, succeeded: 40, withExpertErrors: 0, invalid: 0 });
  });

  it("isolates a failing item: its batch-mates succeed, it gets an error, the run goes on", async () => {
    const a = new ProbeExpert("A", "summarization", 8);
    const registry = new ExpertRegistry().register(a).register(new LexiconSentimentExpert());
    const orchestrator = new Orchestrator({
      registry,
      experts: ["A", "LexiconSentimentExpert"],
      router: new AllRouter(),
      features: computeFeatures,
    });
    const entries = news(12);
    const poisoned = entries[5];
    if (poisoned && "item" in poisoned) poisoned.item.content = "POISON in this one. It is still a sentence.";
    const records = await collect(orchestrator, entries);
    expect(records).toHaveLength(12);
    expect(records[5]?.analyses.A).toEqual({ error: "poisoned batch" });
    expect(records[5]?.analyses.LexiconSentimentExpert).toHaveProperty("sentiment_label");
    expect(records.filter((r, i) => i !== 5).every((r) => (r.analyses.A as { seen?: string }).seen === r.id)).toBe(true);
    expect(orchestrator.stats.withExpertErrors).toBe(1);
    expect(orchestrator.stats.experts.A?.errors).toBe(1);
  });

  it("keeps invalid items as error entries in their place", async () => {
    const registry = new ExpertRegistry().register(new ExtractiveSummarizerExpert());
    const orchestrator = new Orchestrator({ registry, experts: ["ExtractiveSummarizerExpert"], router: new AllRouter(), features: computeFeatures });
    const entries: PipelineInput[] = [
      ...news(2),
      { index: 2, invalid: { error: "item 2: content: expected a string, got number", id: "bad", headline: null, url: null } },
      { index: 3, item: { id: "n3", content: "" } },
    ];
    const records = await collect(orchestrator, entries);
    expect(records.map((r) => r.id)).toEqual(["n0", "n1", "bad", "n3"]);
    expect(records[2]).toEqual({
      id: "bad",
      headline: null,
      url: null,
      // The tutorial's way: the task's key carries the error, so its consumers skip the entry.
      analyses: { NewsSummarizationLLMExpert: { error: "item 2: content: expected a string, got number" } },
      routing: null,
      error: "item 2: content: expected a string, got number",
    });
    expect(records[3]?.analyses.ExtractiveSummarizerExpert).toEqual({ error: expect.stringContaining("content is empty") });
    expect(orchestrator.stats).toMatchObject({ items: 4, succeeded: 2, withExpertErrors: 1, invalid: 1 });
  });

  it("holds a bounded number of items however long the input", async () => {
    const slow = new ProbeExpert("Slow", "summarization", 2, 3);
    const registry = new ExpertRegistry().register(slow);
    const orchestrator = new Orchestrator({ registry, experts: ["Slow"], router: new AllRouter(), features: computeFeatures, maxInFlight: 6 });
    let admittedAhead = 0;
    let maxAhead = 0;
    let emitted = 0;
    async function* counting(): AsyncGenerator<PipelineInput> {
      for (const entry of news(60)) {
        admittedAhead = entry.index - emitted;
        maxAhead = Math.max(maxAhead, admittedAhead);
        yield entry;
      }
    }
    for await (const _ of orchestrator.run(counting())) emitted++;
    expect(emitted).toBe(60);
    // The source is pulled at most one item beyond the window.
    expect(maxAhead).toBeLessThanOrEqual(7);
  });

  it("hands out every admitted item before a failing source's error surfaces", async () => {
    const slow = new ProbeExpert("Slow", "summarization", 2, 5);
    const registry = new ExpertRegistry().register(slow);
    const orchestrator = new Orchestrator({ registry, experts: ["Slow"], router: new AllRouter(), features: computeFeatures });
    async function* failing(): AsyncGenerator<PipelineInput> {
      yield* news(5);
      throw new Error("news.json:9:3: unexpected end of input");
    }
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const { record } of orchestrator.run(failing())) seen.push(record.id ?? "");
      })(),
    ).rejects.toThrow("news.json:9:3");
    expect(seen).toEqual(["n0", "n1", "n2", "n3", "n4"]);
  });

  it("says once when an expert cannot load and where its work goes, then falls back", async () => {
    const broken = new ProbeExpert("Broken", "summarization", 4, 0, "model files missing");
    const registry = new ExpertRegistry().register(broken).register(new ExtractiveSummarizerExpert());
    const notices: string[] = [];
    const orchestrator = new Orchestrator({
      registry,
      experts: ["Broken", "ExtractiveSummarizerExpert"],
      router: new RulesRouter(parseRulesConfig({ priors: { Broken: 5 } }, "t")),
      features: computeFeatures,
      onNotice: (m) => notices.push(m),
    });
    const records = await collect(orchestrator, news(5));
    expect(notices).toEqual(["Broken is unavailable, so its summarization work goes to ExtractiveSummarizerExpert.\n  Why: model files missing"]);
    expect(broken.batches).toHaveLength(0);
    for (const record of records) {
      expect(Object.keys(record.analyses)).toEqual(["NewsSummarizationLLMExpert", "ExtractiveSummarizerExpert"]);
      expect(record.analyses.NewsSummarizationLLMExpert).toMatchObject({ expert: "ExtractiveSummarizerExpert" });
      expect(record.routing?.experts[0]?.reason).toMatch(/^fallback: Broken is unavailable \(model files missing\)/);
    }
  });

  it("records an explicit error when no expert of a chosen task can run", async () => {
    const registry = new ExpertRegistry().register(new ProbeExpert("Broken", "summarization", 4, 0, "no weights"));
    const orchestrator = new Orchestrator({ registry, experts: ["Broken"], router: new AllRouter(), features: computeFeatures, onNotice: () => {} });
    const [record] = await collect(orchestrator, news(1));
    expect(record?.analyses.Broken).toEqual({ error: "Broken is unavailable: no weights" });
  });

  it("mixes two sentiment experts by gate weight and keeps each expert's own result", async () => {
    const registry = new ExpertRegistry()
      .register(new FixedSentiment("Confident", { POSITIVE: 0.9, NEGATIVE: 0.1 }))
      .register(new FixedSentiment("Doubtful", { POSITIVE: 0.2, NEGATIVE: 0.3, NEUTRAL: 0.5 }));
    const rules = parseRulesConfig({ priors: { Confident: 1 }, topK: { sentiment: 2 } }, "t");
    const orchestrator = new Orchestrator({ registry, experts: ["Confident", "Doubtful"], router: new RulesRouter(rules), features: computeFeatures });
    const [record] = await collect(orchestrator, news(1));
    const w = 1 / (1 + Math.exp(-1)); // softmax(1, 0) weight of Confident
    const mixed = record?.mixture?.sentiment as { probabilities: Record<string, number>; sentiment_label: string; weights: Record<string, number> };
    expect(mixed.weights.Confident).toBeCloseTo(w, 12);
    expect(mixed.probabilities.POSITIVE).toBeCloseTo(w * 0.9 + (1 - w) * 0.2, 12);
    expect(mixed.probabilities.NEGATIVE).toBeCloseTo(w * 0.1 + (1 - w) * 0.3, 12);
    expect(mixed.probabilities.NEUTRAL).toBeCloseTo((1 - w) * 0.5, 12);
    expect(mixed.sentiment_label).toBe("POSITIVE");
    expect(record?.analyses.Confident).toMatchObject({ sentiment_label: "POSITIVE" });
    expect(record?.analyses.Doubtful).toMatchObject({ sentiment_label: "NEUTRAL" });
  });

  it("runs the embedded experts end to end under the auto router", async () => {
    const registry = new ExpertRegistry().register(new ExtractiveSummarizerExpert()).register(new LexiconSentimentExpert());
    const orchestrator = new Orchestrator({
      registry,
      experts: registry.names(),
      router: new RulesRouter(DEFAULT_RULES, "auto"),
      features: computeFeatures,
    });
    const [record] = await collect(orchestrator, news(1, "Harbour Town won a thrilling final on Saturday. The supporters were overjoyed and the captain lifted the trophy."));
    expect(record?.analyses.ExtractiveSummarizerExpert).toHaveProperty("summary");
    expect(record?.analyses.LexiconSentimentExpert).toMatchObject({ sentiment_label: "POSITIVE" });
    expect(record?.routing?.router).toBe("auto");
  });
});

/**
 * A router as a learned gate would be: it loads once (seeing the load context), scores whole
 * batches asynchronously, reads injected features, and can fail one item alone.
 */
class BatchGate implements Router {
  readonly name = "batch-gate";
  readonly maxBatchSize = 8;
  readonly batches: number[] = [];
  loads = 0;
  sawSignal = false;

  async load(context: LoadContext): Promise<void> {
    this.loads++;
    this.sawSignal = context.signal !== undefined;
    context.warn?.("gate weights are a test stub");
  }

  async route(batch: readonly RouteRequest[], context: RouteContext): Promise<Array<RoutingDecision | Error>> {
    this.batches.push(batch.length);
    await sleep(5);
    return batch.map(({ item, features }) => {
      if (item.content.includes("UNROUTABLE")) return new Error("no score for this one");
      const expert = context.experts.find((e) => e.task === "summarization" && e.available)!;
      return { router: this.name, experts: [{ expert: expert.name, task: expert.task, weight: 1, reason: `length ${String(features.length)}` }] };
    });
  }
}

describe("Orchestrator with an asynchronous, batched router and injected features", () => {
  it("loads the router once, routes in batches up to its size, and uses the injected features", async () => {
    const a = new ProbeExpert("A", "summarization", 16, 0);
    const registry = new ExpertRegistry().register(a);
    const gate = new BatchGate();
    const warnings: unknown[] = [];
    const entries = news(30);
    const poisoned = entries[7] as { index: number; item: NewsItem };
    poisoned.item = { ...poisoned.item, content: "UNROUTABLE item" };
    const orchestrator = new Orchestrator({
      registry,
      experts: ["A"],
      router: gate,
      features: async (item) => ({ ...computeFeatures(item), length: item.content.length }),
      signal: new AbortController().signal,
      onEvent: (event) => warnings.push(event),
    });
    const records = await collect(orchestrator, entries);
    expect(records.map((r) => r.id)).toEqual(entries.map((e) => ("item" in e ? e.item.id : null)));
    expect(gate.loads).toBe(1);
    expect(gate.sawSignal).toBe(true);
    expect(warnings).toContainEqual({ type: "warning", source: "router batch-gate", message: "gate weights are a test stub" });
    expect(Math.max(...gate.batches)).toBeLessThanOrEqual(8);
    expect(gate.batches.reduce((sum, n) => sum + n, 0)).toBe(30);
    expect(gate.batches.length).toBeLessThan(30);
    expect(records[0]?.routing?.experts[0]?.reason).toBe(`length ${entries[0] && "item" in entries[0] ? entries[0].item.content.length : 0}`);
    expect(records[7]).toMatchObject({ analyses: {}, routing: null, error: "routing failed: no score for this one" });
  });

  it("passes each expert a load context and names the stand-in the gate chose in the notice", async () => {
    const contexts: LoadContext[] = [];
    const broken = new ProbeExpert("Broken", "summarization", 4, 0, "model files missing");
    const original = broken.load.bind(broken);
    broken.load = async (context: LoadContext) => {
      contexts.push(context);
      return original();
    };
    const registry = new ExpertRegistry().register(broken).register(new ProbeExpert("Second", "summarization", 4)).register(new ProbeExpert("Third", "summarization", 4));
    const events: unknown[] = [];
    // The rules prefer Third over Second: the notice must name Third, the gate's choice, not the next registered.
    const router = new RulesRouter(parseRulesConfig({ priors: { Broken: 2, Third: 1 } }, "test"));
    const orchestrator = new Orchestrator({
      registry,
      experts: ["Broken", "Second", "Third"],
      router,
      features: computeFeatures,
      onEvent: (event) => events.push(event),
    });
    const records = await collect(orchestrator, news(3));
    expect(contexts).toHaveLength(1);
    expect(typeof contexts[0]?.warn).toBe("function");
    expect(typeof contexts[0]?.progress).toBe("function");
    expect(records.every((r) => Object.keys(r.analyses).join() === "NewsSummarizationLLMExpert,Third")).toBe(true);
    expect(events.filter((e) => (e as { type: string }).type === "expert-unavailable")).toEqual([
      { type: "expert-unavailable", expert: "Broken", task: "summarization", standIn: "Third", reason: "model files missing", error: expect.any(ExpertUnavailableError) },
    ]);
  });

  it("lets dozens of calls in flight listen on the run's signal without Node's possible-leak warning", async () => {
    // A streaming expert that, like the summariser's worker client, listens on the signal per item.
    class ListeningExpert extends ProbeExpert {
      readonly streaming = true;
      override async analyze(items: readonly NewsItem[], context?: { signal?: AbortSignal }): Promise<Array<ExpertOutput | Error>> {
        const listener = () => undefined;
        context?.signal?.addEventListener("abort", listener, { once: true });
        try {
          return await super.analyze(items);
        } finally {
          context?.signal?.removeEventListener("abort", listener);
        }
      }
    }
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const registry = new ExpertRegistry().register(new ListeningExpert("Listening", "summarization", 32, 50));
      const controller = new AbortController();
      const orchestrator = new Orchestrator({ registry, experts: ["Listening"], router: new AllRouter(), features: computeFeatures, signal: controller.signal });
      const records = await collect(orchestrator, news(40));
      expect(records).toHaveLength(40);
      expect((registry.get("Listening") as ListeningExpert).maxInFlight).toBeGreaterThan(10);
      await sleep(10); // warnings are emitted on the next tick
      expect(warnings.map((w) => w.name)).not.toContain("MaxListenersExceededWarning");
    } finally {
      process.off("warning", onWarning);
    }
  });
});
