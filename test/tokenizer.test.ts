import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { HfTokenizer } from "../src/runtime/tokenizer.js";

// References: tools/python/make_extra_neural_tokenizer_refs.py (HF transformers fast tokenizers).
const FIXTURES = join(import.meta.dirname, "fixtures");
const MODELS = process.env["NEWS_MOE_TEST_MODELS"] ?? join(FIXTURES, "models");

interface TokenizerCase {
  text: string;
  ids: number[];
  ids_plain: number[];
  ids_truncated: number[];
  decoded: string;
  decoded_no_cleanup: string;
  decoded_cleanup: string;
  decoded_with_specials: string;
}
interface ExtraReferences {
  truncate_at: number;
  tokenizers: Record<string, { cases: TokenizerCase[]; random_decodes?: { ids: number[]; pipeline_decoded: string }[] }>;
}

const extra = JSON.parse(
  readFileSync(join(FIXTURES, "references", "extra-neural-tokenizer.json"), "utf8"),
) as ExtraReferences;

async function loadTokenizer(model: string): Promise<HfTokenizer> {
  return HfTokenizer.fromFiles(join(MODELS, model, "tokenizer.json"), join(MODELS, model, "tokenizer_config.json"));
}

describe.each(Object.keys(extra.tokenizers))("HfTokenizer %s against HF transformers", (model) => {
  const reference = extra.tokenizers[model]!;
  let tokenizer: HfTokenizer;
  beforeAll(async () => {
    tokenizer = await loadTokenizer(model);
  });

  it.each(reference.cases.map((c) => [JSON.stringify(c.text).slice(0, 50), c] as const))(
    "encodes and decodes %s",
    (_, c) => {
      expect(tokenizer.encode(c.text)).toEqual(c.ids);
      expect(tokenizer.encode(c.text, { addSpecialTokens: false })).toEqual(c.ids_plain);
      expect(tokenizer.encode(c.text, { maxLength: extra.truncate_at })).toEqual(c.ids_truncated);
      expect(tokenizer.wrap(c.ids_plain)).toEqual(c.ids);
      expect(tokenizer.decode(c.ids, { skipSpecialTokens: true })).toBe(c.decoded);
      expect(tokenizer.decode(c.ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false })).toBe(
        c.decoded_no_cleanup,
      );
      expect(tokenizer.decode(c.ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: true })).toBe(
        c.decoded_cleanup,
      );
      expect(tokenizer.decode(c.ids)).toBe(c.decoded_with_specials);
    },
  );

  if (reference.random_decodes) {
    it("decodes random generations (incl. invalid UTF-8 byte pieces) like the summarization pipeline", () => {
      for (const c of reference.random_decodes!) {
        expect(tokenizer.decode(c.ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false }), JSON.stringify(c.ids)).toBe(
          c.pipeline_decoded,
        );
      }
    });
  }
});

describe("HfTokenizer special tokens", () => {
  it("knows BART's specials and window size", async () => {
    const bart = await loadTokenizer("tiny-distilbart-cnn-6-6");
    expect(bart.specialTokens).toEqual({ prefix: [0], suffix: [2] });
    expect([bart.bosTokenId, bart.padTokenId, bart.eosTokenId]).toEqual([0, 1, 2]);
    expect(bart.modelMaxLength).toBe(1024);
  });

  it("knows DistilBERT's specials and window size", async () => {
    const bert = await loadTokenizer("tiny-distilbert-sst2");
    expect(bert.specialTokens).toEqual({ prefix: [101], suffix: [102] });
    expect(bert.padTokenId).toBe(0);
    expect(bert.modelMaxLength).toBe(512);
  });

  it("decodes an empty id list to an empty string instead of throwing", async () => {
    const bart = await loadTokenizer("tiny-distilbart-cnn-6-6");
    expect(bart.decode([], { skipSpecialTokens: true })).toBe("");
    expect(bart.decode([2, 0, 2], { skipSpecialTokens: true })).toBe("");
  });

  it("names the file when it cannot load", async () => {
    await expect(HfTokenizer.fromFiles("/nonexistent/tokenizer.json", "/nonexistent/tokenizer_config.json")).rejects.toThrow(
      /\/nonexistent\/tokenizer\.json: file not found/,
    );
  });
});

// The helper references (tools/python/make_references.py): every text HF tokenised for them.
const REFERENCES = join(FIXTURES, "references");
const readReference = (name: string) => JSON.parse(readFileSync(join(REFERENCES, name), "utf8")) as Record<string, any>;

describe("HfTokenizer reproduces every input_ids in the HF reference files", () => {
  let bart: HfTokenizer;
  let bert: HfTokenizer;
  beforeAll(async () => {
    [bart, bert] = await Promise.all([loadTokenizer("tiny-distilbart-cnn-6-6"), loadTokenizer("tiny-distilbert-sst2")]);
  });

  it("tokenizer.json: BART and DistilBERT ids, BART ids with the pipeline prefix, decodes", () => {
    const reference = readReference("tokenizer.json");
    for (const c of reference["cases"]) {
      expect(bart.encode(c.text), c.name).toEqual(c.bart.input_ids);
      expect(bart.encode(" " + c.text), c.name).toEqual(c.bart.with_prefix_input_ids);
      expect(bart.decode(c.bart.input_ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false }), c.name).toBe(
        c.bart.decoded,
      );
      expect(bert.encode(c.text), c.name).toEqual(c.bert.input_ids);
      expect(bert.decode(c.bert.input_ids, { skipSpecialTokens: true }), c.name).toBe(c.bert.decoded);
    }
    for (const c of reference["bart_decode_cases"]) {
      expect(bart.decode(c.ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false }), c.name).toBe(
        c.skip_special_tokens,
      );
      expect(bart.decode(c.ids, { cleanUpTokenizationSpaces: false }), c.name).toBe(c.keep_special_tokens);
    }
  });

  it("summarization.json: encoder ids of every case and chunk window, decoded summaries", () => {
    const reference = readReference("summarization.json");
    const decode = (ids: number[]) => bart.decode(ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false });
    let checked = 0;
    for (const c of reference["cases"]) {
      const texts: string[] = c.encoder_texts ?? [c.encoder_text];
      texts.forEach((text, i) => {
        const expected: number[] = c.input_ids[i].slice(0, c.attention_mask[i].filter((m: number) => m === 1).length);
        expect(bart.encode(text), `${c.name}[${i}]`).toEqual(expected);
        checked++;
      });
      c.sequences.forEach((sequence: number[], i: number) => expect(decode(sequence), `${c.name} text ${i}`).toBe(c.texts[i]));
    }
    const visit = (node: any) => {
      const windows = node.chunked ? node.windows : [node];
      for (const w of windows) {
        expect(bart.encode(" " + w.text)).toEqual(w.input_ids);
        expect(decode(w.sequences[0])).toBe(w.summary_text);
        checked++;
      }
      if (node.resummary) visit(node.resummary);
    };
    for (const c of reference["chunking_cases"]) visit(c.result);
    expect(checked).toBeGreaterThan(30);
  });

  it("sentiment.json: ids of every case, the padded batch and the long text", () => {
    const reference = readReference("sentiment.json");
    for (const c of reference["cases"]) expect(bert.encode(c.text), c.name).toEqual(c.input_ids);
    const batch = reference["padded_batch"];
    batch.texts.forEach((text: string, i: number) => {
      const length = batch.attention_mask[i].filter((m: number) => m === 1).length;
      expect(bert.encode(text)).toEqual(batch.input_ids[i].slice(0, length));
    });
    expect(bert.encode(reference["long_text"].text)).toEqual(reference["long_text"].full_input_ids);
  });
});
