/** The learned router's budget: the neediest items keep the neural expert, counted over the whole run. */
import { describe, expect, it } from "vitest";
import type { ExpertProfile, RouteRequest, RoutingDecision } from "../src/core/router.js";
import { DEFAULT_FEATURE_SPEC } from "../src/learned-gate/gate-features.js";
import { LearnedRouter } from "../src/learned-gate/learned-router.js";
import { seededRandom } from "../src/learned-gate/random.js";
import { DEFAULT_TRAIN_OPTIONS, trainGate } from "../src/learned-gate/train.js";
import { computeFeatures } from "../src/routing/item-features.js";

const NEURAL = "SentimentAnalysisLLMExpert";
const CHEAP = "LexiconSentimentExpert";
const experts: ExpertProfile[] = [
  { name: NEURAL, task: "sentiment", available: true },
  { name: CHEAP, task: "sentiment", available: true },
];

/** Items with 0..4 "crisis" words among filler: the more crises, the surer the gate is the neural expert is needed. */
function items(count: number, seed: number) {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const crises = Math.floor(random() * 5);
    const words = Array.from({ length: 30 }, (_, j) => (j < crises ? "crisis" : ["match", "goal", "team", "season", "coach"][Math.floor(random() * 5)]));
    return { item: { id: `i${seed}-${i}`, content: words.join(" ") }, crises };
  });
}

const gate = trainGate(
  items(400, 1).map(({ item, crises }) => ({ item, route: { sentiment: crises > 0 ? NEURAL : CHEAP } })),
  { ...DEFAULT_TRAIN_OPTIONS, features: DEFAULT_FEATURE_SPEC, holdOut: 0 },
).gate;

const requests = (batch: ReturnType<typeof items>): RouteRequest[] => batch.map(({ item }) => ({ item, features: computeFeatures(item) }));
const chosen = (d: RoutingDecision | Error) => (d instanceof Error ? "error" : d.experts[0]?.expert);
const need = (d: RoutingDecision | Error) => Number((d as RoutingDecision).experts[0]?.reason.match(/P\(SentimentAnalysisLLMExpert\)=(\d\.\d+)/)?.[1] ?? 0);

describe("learned router budget", () => {
  it("gives the neural expert to the neediest items of a batch, up to the budget", async () => {
    const batch = items(20, 2);
    const free = await new LearnedRouter(gate, { costly: new Set([NEURAL]) }).route(requests(batch), { experts });
    const wanted = free.filter((d) => chosen(d) === NEURAL).length;
    expect(wanted).toBeGreaterThan(6);
    const capped = await new LearnedRouter(gate, { costly: new Set([NEURAL]), budget: 0.3 }).route(requests(batch), { experts });
    const kept = capped.map((d, i) => ({ d, i })).filter(({ d }) => chosen(d) === NEURAL).map(({ i }) => i);
    expect(kept).toHaveLength(6);
    // Every item that lost the neural expert needed it no more than any item that kept it.
    const keptNeeds = kept.map((i) => need(free[i]!));
    for (const [i, d] of capped.entries()) {
      if (chosen(free[i]!) === NEURAL && chosen(d) !== NEURAL) {
        expect(need(free[i]!)).toBeLessThanOrEqual(Math.min(...keptNeeds));
        expect((d as RoutingDecision).experts[0]?.reason).toMatch(/^budget: SentimentAnalysisLLMExpert is capped at 30% of items/);
      }
    }
  });

  it("counts across batches, so a stream stays under the budget at every point", async () => {
    const router = new LearnedRouter(gate, { costly: new Set([NEURAL]), budget: 0.25 });
    let seen = 0;
    let neural = 0;
    for (let b = 0; b < 8; b++) {
      const batch = items(5, 10 + b);
      const decisions = await router.route(requests(batch), { experts });
      seen += batch.length;
      neural += decisions.filter((d) => chosen(d) === NEURAL).length;
      expect(neural).toBeLessThanOrEqual(Math.floor(0.25 * seen));
    }
    expect(neural).toBe(10);
  });
});
