import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AnalysisRecord } from "../core/analysis-record.js";
import { recordHasErrors } from "../io/output-record.js";

/**
 * The server's Prometheus metrics, in a registry of its own (not prom-client's global one, so two
 * servers in one process, as in tests, do not share counters).
 */
export class ServerMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: "newsmoe_http_requests_total",
    help: "HTTP requests answered, by route and status code.",
    labelNames: ["route", "status"] as const,
    registers: [this.registry],
  });

  readonly requestSeconds = new Histogram({
    name: "newsmoe_http_request_duration_seconds",
    help: "Time from a request's arrival to the end of its answer.",
    labelNames: ["route"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly items = new Counter({
    name: "newsmoe_items_total",
    help: "Items analysed, by outcome: ok, failed (an expert failed or the item was unusable).",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });

  readonly activations = new Counter({
    name: "newsmoe_expert_activations_total",
    help: "Items the gate sent to each expert.",
    labelNames: ["expert"] as const,
    registers: [this.registry],
  });

  readonly fallbacks = new Counter({
    name: "newsmoe_routing_fallbacks_total",
    help: "Activations where an expert stood in for one that could not load.",
    labelNames: ["expert"] as const,
    registers: [this.registry],
  });

  readonly accepted = new Counter({
    name: "newsmoe_items_accepted_total",
    help: "Items accepted into the queue (each is answered, unless its request's deadline passes).",
    registers: [this.registry],
  });

  readonly rejected = new Counter({
    name: "newsmoe_items_rejected_total",
    help: "Items refused before any work, by reason: queue_full, draining.",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  /**
   * Items per expert batch. Batches larger than any one request show that items of concurrent
   * requests were analysed together (the bucket bounds include 20, the test's largest request).
   */
  readonly batchItems = new Histogram({
    name: "newsmoe_expert_batch_items",
    help: "Items in each batch an expert analysed.",
    labelNames: ["expert"] as const,
    buckets: [1, 2, 4, 8, 16, 20, 24, 32, 48, 64, 128],
    registers: [this.registry],
  });

  readonly batchSeconds = new Histogram({
    name: "newsmoe_expert_batch_duration_seconds",
    help: "Time each expert batch took.",
    labelNames: ["expert"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly queueDepth: Gauge;

  constructor(depth: () => number) {
    this.queueDepth = new Gauge({
      name: "newsmoe_queue_depth",
      help: "Items accepted and not yet answered (waiting or inside the engine).",
      registers: [this.registry],
      collect() {
        this.set(depth());
      },
    });
  }

  /** Counts what one finished record says about routing and outcome. */
  observeRecord(record: AnalysisRecord): void {
    this.items.inc({ outcome: recordHasErrors(record) ? "failed" : "ok" });
    for (const choice of record.routing?.experts ?? []) {
      this.activations.inc({ expert: choice.expert });
      if (choice.reason.startsWith("fallback: ")) this.fallbacks.inc({ expert: choice.expert });
    }
  }

  observeBatch(expert: string, items: number, seconds: number): void {
    this.batchItems.observe({ expert }, items);
    this.batchSeconds.observe({ expert }, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
