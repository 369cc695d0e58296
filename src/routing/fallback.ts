import type { Task } from "../core/expert.js";
import { softmaxTopK, type GateCandidate, type GateOptions } from "./softmax-top-k.js";
import type { ExpertProfile, RouteChoice, RouteContext } from "../core/router.js";

/**
 * Availability-aware gating. The gate first runs as if every expert could load; any chosen expert
 * that cannot is then replaced by re-running the gate for its task without the unavailable ones, so
 * the task goes to the next expert by score (and, on equal scores, by registration order); each
 * expert it then goes to has a reason starting `fallback: X is unavailable (...)`. A task
 * with no available expert keeps its original choice, which the orchestrator turns into an explicit
 * per-item error rather than silently dropping the task.
 */
export function gateWithFallback(
  candidates: readonly GateCandidate[],
  experts: readonly ExpertProfile[],
  options: GateOptions,
  onFallback?: RouteContext["onFallback"],
): RouteChoice[] {
  const intended = softmaxTopK(candidates, options);
  const profile = new Map(experts.map((expert) => [expert.name, expert]));
  const isAvailable = (name: string) => profile.get(name)?.available !== false;
  const tasksNeedingFallback = new Set<Task>(
    intended.filter((choice) => !isAvailable(choice.expert)).map((choice) => choice.task),
  );
  if (tasksNeedingFallback.size === 0) return intended;

  const result: RouteChoice[] = [];
  for (const task of new Set(intended.map((choice) => choice.task))) {
    const original = intended.filter((choice) => choice.task === task);
    if (!tasksNeedingFallback.has(task)) {
      result.push(...original);
      continue;
    }
    const usable = candidates.filter((c) => c.task === task && isAvailable(c.expert));
    const replacement = softmaxTopK(usable, options);
    if (replacement.length === 0) {
      result.push(...original);
      continue;
    }
    const missing = original.filter((choice) => !isAvailable(choice.expert));
    const heaviest = replacement[0];
    if (heaviest) onFallback?.({ task, unavailable: missing.map((choice) => choice.expert), standIn: heaviest.expert });
    const standIns = missing
      // First line only: the full reason (where we looked, how to fix it) is printed once on stderr.
      .map((choice) => `${choice.expert} is unavailable (${(profile.get(choice.expert)?.unavailableReason ?? "failed to load").split("\n")[0]})`)
      .join("; ");
    // Every expert the task now runs says so, also one the gate had chosen anyway (router 'all',
    // a mixture): it runs without the missing one, at a weight the gate did not give it, and the
    // run's statistics count a fallback for it.
    for (const choice of replacement) result.push({ ...choice, reason: `fallback: ${standIns}; ${choice.reason}` });
  }
  return result;
}
