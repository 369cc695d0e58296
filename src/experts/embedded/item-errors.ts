import type { NewsItem } from "../../core/news-item.js";

/** The per-item error both embedded experts return for blank content. */
export function emptyContentError(item: NewsItem): Error {
  return new Error(`content is empty (item ${JSON.stringify(item.id)})`);
}

export function isBlank(content: unknown): boolean {
  return typeof content !== "string" || content.trim().length === 0;
}

/** Wraps an unexpected failure on one item so the batch goes on and the message names the item. */
export function itemFailure(item: NewsItem, error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(`item ${JSON.stringify(item.id)}: ${reason}`, { cause: error });
}

/**
 * An embedded expert's batch on the calling thread: each item analysed alone by `one`, a blank
 * content or a failure becoming that item's error, so the batch goes on. The run's stop signal is
 * checked between items.
 */
export function analyzeEach<O>(items: readonly NewsItem[], signal: AbortSignal | undefined, one: (item: NewsItem) => O): Array<O | Error> {
  const results: Array<O | Error> = [];
  for (const item of items) {
    signal?.throwIfAborted();
    if (isBlank(item.content)) {
      results.push(emptyContentError(item));
      continue;
    }
    try {
      results.push(one(item));
    } catch (error) {
      results.push(itemFailure(item, error));
    }
  }
  return results;
}
