import { batchSizeProblem, type Expert, type Task } from "./expert.js";

/**
 * The experts a run can route to, in registration order. Order matters: within a task it is the
 * fallback order (the first registered is the preferred one, the next stands in when it can't load).
 */
export class ExpertRegistry {
  private readonly experts = new Map<string, Expert>();

  register(expert: Expert, options: { replace?: boolean } = {}): this {
    if (this.experts.has(expert.name) && !options.replace) {
      throw new Error(`an expert named "${expert.name}" is already registered (pass { replace: true } to swap it)`);
    }
    const problem = batchSizeProblem(expert);
    if (problem) throw new Error(problem);
    this.experts.set(expert.name, expert);
    return this;
  }

  unregister(name: string): boolean {
    return this.experts.delete(name);
  }

  has(name: string): boolean {
    return this.experts.has(name);
  }

  get(name: string): Expert {
    const expert = this.experts.get(name);
    if (!expert) {
      throw new Error(`no expert named "${name}"; registered: ${this.names().join(", ") || "(none)"}`);
    }
    return expert;
  }

  names(): string[] {
    return [...this.experts.keys()];
  }

  list(): Expert[] {
    return [...this.experts.values()];
  }

  tasks(): Task[] {
    return [...new Set(this.list().map((expert) => expert.task))];
  }

  byTask(task: Task): Expert[] {
    return this.list().filter((expert) => expert.task === task);
  }

  /** Releases every expert's resources (models, worker threads); for whoever created the registry. */
  async dispose(): Promise<void> {
    await Promise.all(this.list().map((expert) => expert.dispose?.().catch(() => undefined)));
  }
}
