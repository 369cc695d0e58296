import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ModelDtype, ModelKind } from "../../src/models/model-files.js";

/**
 * Writes a directory laid out like a published transformers.js ONNX repo. The graphs are
 * deterministic pseudo-random bytes, not real ONNX: the model store moves and verifies files, it
 * never parses them, and a few hundred KB per graph keeps transfers (and cuts half-way) realistic.
 */

export interface FakeModelRepoOptions {
  kind: ModelKind;
  dtypes?: readonly ModelDtype[];
  /** Seq2seq only: write decoder_model_merged (default true). */
  mergedDecoder?: boolean;
  /** Seq2seq only: write the decoder_model + decoder_with_past_model pair (default true). */
  splitDecoder?: boolean;
  /** Seq2seq only: write generation_config.json (default true). */
  generationConfig?: boolean;
  /** Bytes per graph; the default is big enough for many chunks. */
  graphBytes?: number;
  /** Changes every byte generated, to make a "new commit" of the same repo. */
  seed?: string;
}

export function pseudoRandomBytes(length: number, seed: string): Buffer {
  const chunks: Buffer[] = [];
  let block = createHash("sha256").update(seed).digest();
  for (let total = 0; total < length; total += block.length) {
    chunks.push(block);
    block = createHash("sha256").update(block).digest();
  }
  return Buffer.concat(chunks).subarray(0, length);
}

export async function writeFakeModelRepo(dir: string, options: FakeModelRepoOptions): Promise<string[]> {
  const seed = options.seed ?? "v1";
  const files = new Map<string, Buffer | string>();
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  if (options.kind === "seq2seq") {
    files.set(
      "config.json",
      json({ model_type: "bart", is_encoder_decoder: true, architectures: ["BartForConditionalGeneration"], seed }),
    );
    if (options.generationConfig ?? true) files.set("generation_config.json", json({ num_beams: 4, max_length: 142 }));
  } else {
    files.set(
      "config.json",
      json({
        model_type: "distilbert",
        architectures: ["DistilBertForSequenceClassification"],
        id2label: { "0": "NEGATIVE", "1": "POSITIVE" },
        seed,
      }),
    );
  }
  files.set("tokenizer.json", json({ version: "1.0", model: { type: "BPE", vocab: { a: 0, b: 1 } }, seed }));
  files.set("tokenizer_config.json", json({ model_max_length: 1024 }));
  files.set("special_tokens_map.json", json({ bos_token: "<s>", eos_token: "</s>" }));

  const graphBytes = options.graphBytes ?? 200_000;
  const graphs =
    options.kind === "classifier"
      ? ["model"]
      : [
          "encoder_model",
          ...((options.mergedDecoder ?? true) ? ["decoder_model_merged"] : []),
          ...((options.splitDecoder ?? true) ? ["decoder_model", "decoder_with_past_model"] : []),
        ];
  for (const dtype of options.dtypes ?? ["fp32", "q8"]) {
    for (const [index, graph] of graphs.entries()) {
      const name = `onnx/${graph}${dtype === "q8" ? "_quantized" : ""}.onnx`;
      // Quantized graphs are about a quarter of the size, as in the real repos.
      const size = Math.round((dtype === "q8" ? graphBytes / 4 : graphBytes) + index * 1_000);
      files.set(name, pseudoRandomBytes(size, `${seed}:${name}`));
    }
  }

  for (const [path, content] of files) {
    const target = join(dir, ...path.split("/"));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return [...files.keys()].sort();
}
