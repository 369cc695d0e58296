/**
 * Search-algorithm fidelity: our generate() against HF transformers' generate() on the toy model
 * (test/generation-toy-model.ts), references from tools/python/gen_reference_extra.py.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generate, generationOptionsFromHfJson } from "../src/runtime/generation/index.js";
import { ToySeq2Seq } from "./generation-toy-model.js";

interface ToyCase {
  name: string;
  vocab_size: number;
  max_position_embeddings: number;
  q: number;
  eos_ids: number[];
  input_ids: number[][];
  kwargs: Record<string, unknown>;
  sequences: number[][];
  sequences_scores?: number[];
}

const reference = JSON.parse(
  readFileSync(new URL("./fixtures/references/extra-toy-beam.json", import.meta.url), "utf8"),
) as { cases: ToyCase[] };

describe("generate() matches HF generate() on the toy seq2seq model", () => {
  for (const c of reference.cases) {
    const options = generationOptionsFromHfJson(c.kwargs);
    for (const dropFinished of [true, false]) {
      it(`${c.name} ${JSON.stringify(c.kwargs)} dropFinished=${dropFinished}`, async () => {
        const model = new ToySeq2Seq(c.vocab_size, c.eos_ids, c.q, c.max_position_embeddings);
        const result = await generate(model, { inputIds: c.input_ids }, options, { dropFinished });
        expect(result.sequences).toEqual(c.sequences);
        if (c.sequences_scores) {
          const scores = result.sequencesScores!;
          expect(scores).toHaveLength(c.sequences_scores.length);
          scores.forEach((s, i) => expect(Math.abs(s - c.sequences_scores![i]!)).toBeLessThanOrEqual(1e-5));
        } else {
          expect(result.sequencesScores).toBeUndefined();
        }
        expect(model.released).toBe(1);
      });
    }
  }
});
