import type { PipelineInput } from "../core/orchestrator.js";
import { validateItem } from "../io/item-schema.js";

export interface RawItem {
  index: number;
  value: unknown;
}

/**
 * Validates raw input values into pipeline entries. Items the resume filter recognises as already
 * finished are dropped here, before they cost anything.
 */
export async function* toPipelineInput(
  raw: AsyncIterable<RawItem>,
  options: { skip?: (item: { index: number; id: string | null }) => boolean; onSkip?: () => void } = {},
): AsyncGenerator<PipelineInput> {
  for await (const { index, value } of raw) {
    const validated = validateItem(value, index);
    const id = validated.ok ? validated.item.id : validated.id;
    if (options.skip?.({ index, id })) {
      options.onSkip?.();
      continue;
    }
    if (validated.ok) {
      yield { index, item: validated.item };
    } else {
      const { error, headline, url } = validated;
      yield { index, invalid: { error, id, headline, url } };
    }
  }
}

/**
 * Numbers entries of an in-memory or async collection from `first` (default 0): for library callers
 * who pass items directly, and for front ends that number a slice by its place in a whole input.
 */
export async function* enumerate(values: Iterable<unknown> | AsyncIterable<unknown>, first = 0): AsyncGenerator<RawItem> {
  let index = first;
  for await (const value of values as AsyncIterable<unknown>) yield { index: index++, value };
}
