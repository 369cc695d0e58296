/**
 * Entry point of an embedded-expert worker thread (see worker-pool.ts): builds the requested
 * expert once per options, with workers off, from the module the request names, and analyses
 * each chunk it is sent.
 */
import { parentPort } from "node:worker_threads";
import type { NewsItem } from "../../core/news-item.js";
import type { WorkerRequest, WorkerResponse, WorkerResult } from "./worker-pool.js";

interface InlineExpert {
  analyzeInline(items: readonly NewsItem[]): Array<unknown | Error>;
}

type InlineExpertClass = new (options: unknown) => InlineExpert;

const experts = new Map<string, InlineExpert>();

async function expertFor(request: WorkerRequest): Promise<InlineExpert> {
  const { module, exportName } = request.expert;
  const key = `${module}#${exportName} ${JSON.stringify(request.options)}`;
  let expert = experts.get(key);
  if (!expert) {
    const exported = ((await import(new URL(module, import.meta.url).href)) as Record<string, unknown>)[exportName];
    if (typeof exported !== "function") throw new Error(`${module} exports no expert class named ${exportName}`);
    expert = new (exported as InlineExpertClass)({ ...(request.options as object), workers: false });
    experts.set(key, expert);
  }
  return expert;
}

parentPort?.on("message", async (request: WorkerRequest) => {
  let response: WorkerResponse;
  try {
    const results: WorkerResult[] = (await expertFor(request))
      .analyzeInline(request.items as NewsItem[])
      .map((result) => (result instanceof Error ? { error: result.message } : { ok: result }));
    response = { job: request.job, results };
  } catch (error) {
    response = { job: request.job, failure: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(response);
});
