import type { Expert } from "../core/expert.js";
import { ExpertRegistry } from "../core/registry.js";

/**
 * The same experts, each wrapped so that every `analyze` call (one batch) is reported with its
 * size and duration. The wrapper forwards everything else to the expert itself, so routing, loading
 * and outputs are untouched; the engine cannot tell the difference.
 */
export function observeBatches(
  registry: ExpertRegistry,
  onBatch: (expert: string, items: number, seconds: number) => void,
): ExpertRegistry {
  const observed = new ExpertRegistry();
  for (const expert of registry.list()) observed.register(observe(expert, onBatch));
  return observed;
}

function observe(expert: Expert, onBatch: (expert: string, items: number, seconds: number) => void): Expert {
  const analyze: Expert["analyze"] = async (items, context) => {
    const started = performance.now();
    try {
      return await expert.analyze(items, context);
    } finally {
      onBatch(expert.name, items.length, (performance.now() - started) / 1000);
    }
  };
  return new Proxy(expert, {
    get(target, property) {
      if (property === "analyze") return analyze;
      const value: unknown = Reflect.get(target, property, target);
      // Methods run on the expert itself: class private fields do not exist on a proxy.
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
