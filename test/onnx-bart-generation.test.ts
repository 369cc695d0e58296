/**
 * End to end: generate() on the tiny distilbart ONNX fixture must give the token ids HF transformers
 * 4.57.6 generate() gave on the same weights in PyTorch (test/fixtures/references/summarization.json),
 * with the split decoder pair and with the merged decoder, and sequences_scores within 1e-4.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate, generationOptionsFromHfJson, resolveForModel, type GenerationOptions } from "../src/runtime/generation/index.js";
import { loadBartOnnx, type BartOnnxModel } from "../src/runtime/onnx/index.js";
import { calls, expectScores, MODEL_DIR } from "./helpers/summarization-references.js";

for (const layout of ["split", "merged"] as const) {
  describe(`tiny distilbart, ${layout} decoder: token-identical to HF generate()`, () => {
    let model: BartOnnxModel;
    beforeAll(async () => {
      model = await loadBartOnnx(MODEL_DIR, { decoder: layout, intraOpNumThreads: 1 });
    });
    afterAll(async () => {
      await model.dispose();
    });

    it("uses the requested decoder graphs", () => {
      expect(model.merged).toBe(layout === "merged");
      expect(model.layers).toBe(6);
    });

    for (const call of calls) {
      it(`${call.name} ${JSON.stringify(call.kwargs)}`, async () => {
        const options: GenerationOptions = generationOptionsFromHfJson(call.kwargs);
        if (call.effective) {
          const resolved = resolveForModel(model, options);
          const e = call.effective;
          expect({
            maxLength: resolved.maxLength, minLength: resolved.minLength, numBeams: resolved.numBeams,
            lengthPenalty: resolved.lengthPenalty, earlyStopping: resolved.earlyStopping,
            noRepeatNgramSize: resolved.noRepeatNgramSize, forcedBos: resolved.forcedBosTokenId,
            forcedEos: resolved.forcedEosTokenIds?.[0] ?? null, decoderStart: resolved.decoderStartTokenId,
            numReturnSequences: resolved.numReturnSequences,
          }).toEqual({
            maxLength: e["max_new_tokens"] != null ? (e["max_new_tokens"] as number) + 1 : e["max_length"],
            minLength: e["min_length"], numBeams: e["num_beams"], lengthPenalty: e["length_penalty"],
            earlyStopping: e["early_stopping"], noRepeatNgramSize: e["no_repeat_ngram_size"],
            forcedBos: e["forced_bos_token_id"], forcedEos: e["forced_eos_token_id"],
            decoderStart: e["decoder_start_token_id"], numReturnSequences: e["num_return_sequences"],
          });
        }
        const input = call.attentionMask
          ? { inputIds: call.inputIds, attentionMask: call.attentionMask }
          : { inputIds: call.inputIds };
        const result = await generate(model, input, options);
        expect(result.sequences).toEqual(call.sequences);
        const resolved = resolveForModel(model, options);
        expectScores(result.sequencesScores, call.scores, call.sequences, resolved.lengthPenalty, resolved.padTokenId!);
      });
    }
  });
}
