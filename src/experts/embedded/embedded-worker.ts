/**
 * Entry point of an embedded-expert worker thread (see worker-pool.ts): builds the requested
 * expert once per options, with workers off, and analyses each chunk it is sent.
 */
import { parentPort } from "node:worker_threads";
import type { NewsItem } from "../../core/news-item.js";
import { ExtractiveSummarizerExpert, type ExtractiveSummarizerOptions } from "./extractive-summarizer.js";
import { LexiconSentimentExpert, type LexiconSentimentOptions } from "./lexicon-sentiment.js";
import type { WorkerRequest, WorkerResponse, WorkerResult } from "./worker-pool.js";

interface InlineExpert {
  analyzeInline(items: readonly NewsItem[]): Array<unknown | Error>;
}

const experts = new Map<string, InlineExpert>();

function expertFor(request: WorkerRequest): InlineExpert {
  const key = `${request.kind} ${JSON.stringify(request.options)}`;
  let expert = experts.get(key);
  if (!expert) {
    expert =
      request.kind === "summarize"
        ? new ExtractiveSummarizerExpert({ ...(request.options as ExtractiveSummarizerOptions), workers: false })
        : new LexiconSentimentExpert({ ...(request.options as LexiconSentimentOptions), workers: false });
    experts.set(key, expert);
  }
  return expert;
}

parentPort?.on("message", (request: WorkerRequest) => {
  let response: WorkerResponse;
  try {
    const results: WorkerResult[] = expertFor(request)
      .analyzeInline(request.items as NewsItem[])
      .map((result) => (result instanceof Error ? { error: result.message } : { ok: result }));
    response = { job: request.job, results };
  } catch (error) {
    response = { job: request.job, failure: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(response);
});
