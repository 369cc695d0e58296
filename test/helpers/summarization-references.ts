/**
 * The summarization references (HF transformers 4.57.6 generate() on the tiny distilbart weights) as
 * generate() calls, and the sequences_scores comparison, shared by the tests of every BART runtime.
 */
import { readFileSync } from "node:fs";
import { expect } from "vitest";

export const MODEL_DIR = new URL("../fixtures/models/tiny-distilbart-cnn-6-6/", import.meta.url).pathname;
const reference = JSON.parse(
  readFileSync(new URL("../fixtures/references/summarization.json", import.meta.url), "utf8"),
) as {
  cases: {
    name: string;
    kind: "pipeline" | "generate" | "generate_batch";
    call_kwargs?: Record<string, unknown>;
    generation_kwargs?: Record<string, unknown>;
    input_ids: number[][];
    attention_mask: number[][];
    sequences: number[][];
    sequences_scores?: number[];
    effective_generation_config: Record<string, unknown>;
  }[];
  chunking_cases: { name: string; result: unknown }[];
};

export interface Call {
  name: string;
  kwargs: Record<string, unknown>;
  inputIds: number[][];
  attentionMask?: number[][];
  sequences: number[][];
  scores?: number[];
  effective?: Record<string, unknown>;
}

const TUTORIAL_CALL = { max_length: 300, min_length: 30, do_sample: false };

function collectWindows(name: string, node: unknown, out: Call[]): void {
  if (node === null || typeof node !== "object") return;
  const record = node as Record<string, unknown>;
  if (Array.isArray(record["input_ids"]) && Array.isArray(record["sequences"])) {
    out.push({
      name: `${name}#${out.length}`,
      kwargs: TUTORIAL_CALL,
      inputIds: [record["input_ids"] as number[]],
      sequences: record["sequences"] as number[][],
      scores: record["sequences_scores"] as number[],
    });
  }
  for (const value of Object.values(record)) {
    if (Array.isArray(value)) value.forEach((v) => collectWindows(name, v, out));
    else collectWindows(name, value, out);
  }
}

export const calls: Call[] = reference.cases.map((c) => ({
  name: c.name,
  kwargs: (c.kind === "pipeline" ? c.call_kwargs : c.generation_kwargs) ?? {},
  inputIds: c.input_ids,
  attentionMask: c.attention_mask,
  sequences: c.sequences,
  ...(c.sequences_scores ? { scores: c.sequences_scores } : {}),
  effective: c.effective_generation_config,
}));
for (const c of reference.chunking_cases) collectWindows(c.name, c.result, calls);

/**
 * sequences_scores within 1e-4. With a negative length penalty the score is the log-prob sum
 * *multiplied* by length**|lp| (x79 for the lp=-1 case), which scales ORT's ~1e-6 per-token
 * deviation from PyTorch up to ~1e-2; there the mean log-prob per generated token is compared instead.
 */
export function expectScores(
  got: number[] | undefined,
  expected: number[] | undefined,
  sequences: number[][],
  lengthPenalty: number,
  padTokenId: number,
): void {
  if (!expected) {
    expect(got).toBeUndefined();
    return;
  }
  expect(got).toHaveLength(expected.length);
  got!.forEach((score, i) => {
    if (lengthPenalty >= 0) {
      expect(Math.abs(score - expected[i]!)).toBeLessThanOrEqual(1e-4);
    } else {
      const generated = sequences[i]!.slice(1).filter((t) => t !== padTokenId).length;
      const perToken = (s: number) => (s * generated ** lengthPenalty) / generated;
      expect(Math.abs(perToken(score) - perToken(expected[i]!))).toBeLessThanOrEqual(1e-5);
    }
  });
}

