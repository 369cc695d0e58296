import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { NewsItem } from "../src/core/news-item.js";
import { ExpertRegistry } from "../src/core/registry.js";
import { createRouter, RulesRequiredError } from "../src/engine/create-router.js";
import { AllRouter } from "../src/routing/all-router.js";
import { DEFAULT_RULES } from "../src/catalogue/catalogue.js";
import { computeFeatures } from "../src/routing/item-features.js";
import { softmaxTopK } from "../src/routing/softmax-top-k.js";
import { loadRulesConfig, parseRulesConfig } from "../src/routing/rules-config.js";
import { RulesRouter } from "../src/routing/rules-router.js";
import type { ExpertProfile, RoutingDecision } from "../src/core/router.js";
import { ExtractiveSummarizerExpert, LexiconSentimentExpert } from "../src/experts/embedded/index.js";

const PROFILES: ExpertProfile[] = [
  { name: "NewsSummarizationLLMExpert", task: "summarization", languages: ["eng"], available: true },
  { name: "ExtractiveSummarizerExpert", task: "summarization", available: true },
  { name: "SentimentAnalysisLLMExpert", task: "sentiment", languages: ["eng"], available: true },
  { name: "LexiconSentimentExpert", task: "sentiment", languages: ["eng"], available: true },
];

const ENGLISH_MATCH_REPORT =
  "Harbour Town won the derby at a sold-out Riverside Park on Saturday. The home side scored twice before half-time " +
  "and held on after the break despite a late penalty. Their manager praised a disciplined defensive display and " +
  "said the squad had earned the result after weeks of hard training. Supporters sang long after the final whistle, " +
  "and the club confirmed that the captain's knee problem is not serious. The win lifts them to third in the table.";

function item(overrides: Partial<NewsItem> = {}): NewsItem {
  return { id: "t1", headline: "Derby win", content: ENGLISH_MATCH_REPORT, topics: ["Football"], ...overrides };
}

function route(router: { decide: RulesRouter["decide"] }, news: NewsItem, profiles = PROFILES) {
  return router.decide(news, computeFeatures(news), profiles);
}

describe("the router contract: a batch of items and features in, decisions out", () => {
  it("routes a batch asynchronously, one decision per item in order, the same as item by item", async () => {
    const auto = new RulesRouter(DEFAULT_RULES, "auto");
    const brief = item({ id: "brief", content: "A short brief of a few words about the match." });
    const batch = [item(), brief].map((news) => ({ item: news, features: computeFeatures(news) }));
    const decisions = await auto.route(batch, { experts: PROFILES });
    expect(decisions).toEqual([route(auto, item()), route(auto, brief)]);
  });

  it("reads injected features: a rule on words sees the router's features, not the text", async () => {
    const auto = new RulesRouter(DEFAULT_RULES, "auto");
    const news = item();
    const [decision] = await auto.route([{ item: news, features: { ...computeFeatures(news), words: 5 } }], { experts: PROFILES });
    expect((decision as RoutingDecision).experts.find((c) => c.task === "summarization")?.expert).toBe("ExtractiveSummarizerExpert");
  });

  it("reports each fallback with the stand-in the gate actually chose", async () => {
    const profiles = PROFILES.map((p) => (p.name === "NewsSummarizationLLMExpert" ? { ...p, available: false, unavailableReason: "no model" } : p));
    const fallbacks: unknown[] = [];
    await new AllRouter().route([{ item: item(), features: computeFeatures(item()) }], {
      experts: profiles,
      onFallback: (f) => fallbacks.push(f),
    });
    expect(fallbacks).toEqual([{ task: "summarization", unavailable: ["NewsSummarizationLLMExpert"], standIn: "ExtractiveSummarizerExpert" }]);
  });
});

describe("gate", () => {
  it("softmaxes per task, keeps top-k and renormalises the kept weights", () => {
    const chosen = softmaxTopK(
      [
        { expert: "a", task: "x", score: 2, reason: "" },
        { expert: "b", task: "x", score: 1, reason: "" },
        { expert: "c", task: "x", score: 0, reason: "" },
        { expert: "d", task: "y", score: 5, reason: "" },
      ],
      { topK: (task) => (task === "x" ? 2 : 1) },
    );
    expect(chosen.map((c) => c.expert)).toEqual(["a", "b", "d"]);
    // softmax(2,1,0) = (.665,.245,.090); top-2 renormalised = e^2/(e^2+e^1) = 1/(1+e^-1)
    expect(chosen[0]?.weight).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(chosen[1]?.weight).toBeCloseTo(1 / (1 + Math.exp(1)), 12);
    expect(chosen[2]?.weight).toBe(1);
  });

  it("sharpens with a lower temperature, breaks ties by candidate order and skips -Infinity", () => {
    const candidates = [
      { expert: "first", task: "x", score: 0, reason: "" },
      { expert: "second", task: "x", score: 0, reason: "" },
      { expert: "never", task: "x", score: -Infinity, reason: "" },
    ];
    expect(softmaxTopK(candidates, { topK: () => 1 }).map((c) => c.expert)).toEqual(["first"]);
    expect(softmaxTopK(candidates, { topK: () => 3 }).map((c) => c.expert)).toEqual(["first", "second"]);
    const sharp = softmaxTopK(
      [
        { expert: "a", task: "x", score: 1, reason: "" },
        { expert: "b", task: "x", score: 0, reason: "" },
      ],
      { topK: () => 2, temperature: 0.25 },
    );
    expect(sharp[0]?.weight).toBeCloseTo(Math.exp(4) / (Math.exp(4) + 1), 12);
  });
});

describe("AllRouter", () => {
  it("runs every expert, with equal weights within a task, in registry order", () => {
    const decision = route(new AllRouter(), item());
    expect(decision.experts.map((c) => [c.expert, c.weight])).toEqual([
      ["NewsSummarizationLLMExpert", 0.5],
      ["ExtractiveSummarizerExpert", 0.5],
      ["SentimentAnalysisLLMExpert", 0.5],
      ["LexiconSentimentExpert", 0.5],
    ]);
  });

  it("drops an expert that cannot load and gives its task wholly to the others", () => {
    const profiles = PROFILES.map((p) =>
      p.name === "SentimentAnalysisLLMExpert" ? { ...p, available: false, unavailableReason: "no model" } : p,
    );
    const decision = route(new AllRouter(), item(), profiles);
    expect(decision.experts.filter((c) => c.task === "sentiment").map((c) => [c.expert, c.weight])).toEqual([
      ["LexiconSentimentExpert", 1],
    ]);
  });
});

describe("auto router (built-in rules)", () => {
  const auto = new RulesRouter(DEFAULT_RULES, "auto");

  it("prefers the neural experts when they are available, one per task", () => {
    const decision = route(auto, item());
    expect(decision.experts.map((c) => c.expert)).toEqual(["NewsSummarizationLLMExpert", "SentimentAnalysisLLMExpert"]);
    expect(decision.experts.every((c) => c.weight === 1)).toBe(true);
    expect(decision.experts[0]?.reason).toContain("prior 1");
  });

  it("falls back to the next expert of the task when the preferred one cannot load, and says why", () => {
    const profiles = PROFILES.map((p) =>
      p.name === "NewsSummarizationLLMExpert"
        ? { ...p, available: false, unavailableReason: "model Xenova/distilbart-cnn-6-6 not in the cache" }
        : p,
    );
    const decision = route(auto, item(), profiles);
    const summary = decision.experts.find((c) => c.task === "summarization");
    expect(summary?.expert).toBe("ExtractiveSummarizerExpert");
    expect(summary?.reason).toMatch(/^fallback: NewsSummarizationLLMExpert is unavailable \(model Xenova/);
  });

  it("keeps a task whose every expert is unavailable, so the item shows the error instead of losing the task", () => {
    const profiles = PROFILES.map((p) =>
      p.task === "sentiment" ? { ...p, available: false, unavailableReason: "broken" } : p,
    );
    const decision = route(auto, item(), profiles);
    expect(decision.experts.find((c) => c.task === "sentiment")?.expert).toBe("SentimentAnalysisLLMExpert");
  });

  it("sends a brief to the extractive summariser, explaining the rule", () => {
    const brief = item({ content: "Harbour Town beat Eastfield 2-1 on Saturday to reach the final." });
    const summary = route(auto, brief).experts.find((c) => c.task === "summarization");
    expect(summary?.expert).toBe("ExtractiveSummarizerExpert");
    expect(summary?.reason).toContain('rule "brief-article" (words < 60) +2');
  });

  it("routes around experts that do not support the item's language when another does", () => {
    const spanish = item({
      content:
        "El Atlético Ribera ganó el derbi regional con dos goles en la segunda parte. El entrenador elogió la " +
        "intensidad del equipo y la afición celebró hasta muy tarde en las calles del centro de la ciudad. " +
        "La próxima jornada el equipo visitará al líder de la categoría con la moral por las nubes.",
    });
    const decision = route(auto, spanish);
    expect(computeFeatures(spanish).language).toBe("spa");
    expect(decision.experts.find((c) => c.task === "summarization")?.expert).toBe("ExtractiveSummarizerExpert");
    expect(decision.experts.find((c) => c.task === "summarization")?.reason).not.toContain("language");
    // Both sentiment experts are English-only: the task is skipped, and the reason says why.
    expect(decision.experts.find((c) => c.task === "sentiment")).toBeUndefined();
    expect(decision.skipped).toEqual([
      {
        task: "sentiment",
        reason:
          'language "spa" (detected) is not handled by any sentiment expert that can run ' +
          "(SentimentAnalysisLLMExpert: eng; LexiconSentimentExpert: eng)",
      },
    ]);
  });

  it("gives a positive German article no English-lexicon sentiment, and summarises it extractively", () => {
    const german = item({
      content:
        "Die Mannschaft war großartig und hat das Spiel verdient gewonnen. Die Fans feierten bis tief in die Nacht, " +
        "und der Trainer lobte den Einsatz seiner Spieler. Es war der erste Sieg in dieser Saison.",
    });
    expect(computeFeatures(german).language).toBe("deu");
    const decision = route(auto, german);
    expect(decision.experts.map((c) => c.expert)).toEqual(["ExtractiveSummarizerExpert"]);
    expect(decision.skipped?.[0]?.task).toBe("sentiment");
    expect(decision.skipped?.[0]?.reason).toContain('language "deu" (detected) is not handled by any sentiment expert');
  });

  it("never takes short English reports for another language (franc said Scots or Nynorsk for these)", () => {
    const reports = [
      "“Days like this are why you play sport,” said Hannah Moreau. “Enjoy it — they don’t come around often.”",
      "Eastmoor Saints have now won five of their last 23 matches, their best run in more than a decade. The win was built on a solid defensive display and clinical finishing when it mattered.",
      "“I can’t explain it, and I’m not going to try,” said Arjun Brannigan. “It wasn’t good enough.”",
      "Rovers won 2-0 at home. Smith scored twice.",
    ];
    for (const content of reports) {
      expect(computeFeatures(item({ content })).language, content).toBe("eng");
      expect(route(auto, item({ content })).skipped, content).toBeUndefined();
    }
  });

  it("runs English-only experts on other languages when the rules turn language support off", () => {
    const router = new RulesRouter(parseRulesConfig({ priors: DEFAULT_RULES.priors, respectLanguages: false }, "t"));
    const german = item({ content: "Die Mannschaft war großartig und hat das Spiel verdient gewonnen. Die Fans feierten lange." });
    const decision = route(router, german);
    expect(decision.skipped).toBeUndefined();
    expect(decision.experts.map((c) => c.task)).toEqual(["summarization", "sentiment"]);
  });
});

describe("language support meets availability", () => {
  it("skips the task when only an unavailable expert supports the language, and names it", () => {
    const profiles: ExpertProfile[] = [
      { name: "Multilingual", task: "sentiment", available: false, unavailableReason: "no model" },
      { name: "EnglishOnly", task: "sentiment", languages: ["eng"], available: true },
    ];
    const router = new RulesRouter(parseRulesConfig({ priors: { Multilingual: 1 } }, "t"));
    const spanish = item({
      content:
        "El Atlético Ribera ganó el derbi regional con dos goles en la segunda parte y la afición celebró hasta muy tarde.",
    });
    const decision = route(router, spanish, profiles);
    expect(decision.experts).toEqual([]);
    expect(decision.skipped).toEqual([
      {
        task: "sentiment",
        reason:
          'language "spa" (detected) is not handled by any sentiment expert that can run (Multilingual: any; EnglishOnly: eng); ' +
          "Multilingual would handle it but is unavailable",
      },
    ]);
  });
});

describe("rules router", () => {
  const config = parseRulesConfig(
    {
      priors: { NewsSummarizationLLMExpert: 1, SentimentAnalysisLLMExpert: 1 },
      rules: [
        { name: "tennis-mix", when: { topics: { any: ["tennis"] } }, then: { topK: { sentiment: 2 } } },
        {
          name: "no-headline-no-summary",
          when: { all: [{ hasHeadline: false }, { not: { words: { gte: 1000 } } }] },
          then: { skip: ["summarization"] },
        },
        { name: "bbc-lexicon", when: { field: "author", equals: "BBC" }, then: { exclude: ["SentimentAnalysisLLMExpert"] } },
        { name: "url-rule", when: { field: "url", matches: "/cricket/" }, then: { boost: { ExtractiveSummarizerExpert: 3 } } },
      ],
    },
    "test rules",
  );
  const router = new RulesRouter(config);

  it("widens top-k to mix two sentiment experts with softmax weights", () => {
    const decision = route(router, item({ topics: ["Tennis"] }));
    const sentiment = decision.experts.filter((c) => c.task === "sentiment");
    expect(sentiment.map((c) => c.expert)).toEqual(["SentimentAnalysisLLMExpert", "LexiconSentimentExpert"]);
    expect(sentiment[0]?.weight).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(sentiment[1]?.weight).toBeCloseTo(1 / (1 + Math.exp(1)), 12);
  });

  it("skips a task, excludes an expert and boosts by a regex on a field", () => {
    const decision = route(router, item({ headline: null, author: "BBC", url: "https://www.bbc.com/sport/cricket/articles/x" }));
    expect(decision.experts.map((c) => c.expert)).toEqual(["LexiconSentimentExpert"]);
    expect(decision.skipped).toEqual([{ task: "summarization", reason: expect.stringContaining("no-headline-no-summary") }]);
    const boosted = route(router, item({ url: "https://www.bbc.com/sport/cricket/articles/x" }));
    expect(boosted.experts.find((c) => c.task === "summarization")?.expert).toBe("ExtractiveSummarizerExpert");
  });

  it("rejects malformed rules with the path of each problem", async () => {
    expect(() => parseRulesConfig({ rules: [{ name: "x", when: { words: { lt: "ten" } }, then: {} }] }, "bad.json")).toThrow(
      /bad\.json: invalid routing rules\n\s+at rules\[0\]/,
    );
    const dir = await mkdtemp(join(tmpdir(), "news-moe-rules-"));
    const file = join(dir, "rules.json");
    await writeFile(file, '{"rules": [}');
    await expect(loadRulesConfig(file)).rejects.toThrow(/rules\.json: routing rules are not valid JSON/);
  });

  it("refuses rules that name experts the registry does not have", async () => {
    const registry = new ExpertRegistry().register(new ExtractiveSummarizerExpert()).register(new LexiconSentimentExpert());
    const typo = parseRulesConfig({ priors: { LexiconSentimentExpertt: 1 } }, "typo.json");
    await expect(createRouter("rules", registry, typo)).rejects.toThrow(/unknown experts: LexiconSentimentExpertt/);
    await expect(createRouter("rules", registry)).rejects.toBeInstanceOf(RulesRequiredError);
    await expect(createRouter("trained", registry, undefined, ["learned-gate"])).rejects.toMatchObject({ router: "trained", choices: ["auto", "all", "rules", "learned", "learned-gate"] });
  });

  it("accepts the bundled example rules", async () => {
    const rules = await loadRulesConfig(new URL("../examples/rules.json", import.meta.url).pathname);
    expect(rules.rules.length).toBeGreaterThan(0);
  });
});
