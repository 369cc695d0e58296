/**
 * Hugging Face tokenizers from `tokenizer.json` + `tokenizer_config.json`, behaving like the
 * Python `PreTrainedTokenizerFast` that transformers' pipelines use, token for token.
 *
 * The heavy lifting is @huggingface/tokenizers (pure JS). On top of it:
 *   - two places where the JS port of `BertNormalizer`/`Lowercase` departs from the Rust crate,
 *     corrected before the text reaches it (see `rustNormalizerParity`);
 *   - truncation and special-token wrapping as separate steps, so callers that cut long texts into
 *     windows can tokenise once and wrap each window (`wrap`), which HF's `encode` cannot express;
 *   - `decode` with explicit `skip_special_tokens` / `clean_up_tokenization_spaces`, and no throw on
 *     an empty id list (the JS port throws; HF returns "").
 */
import { readFile } from "node:fs/promises";
import { Tokenizer } from "@huggingface/tokenizers";

export interface EncodeOptions {
  /** Add the model's special tokens ([CLS] … [SEP], <s> … </s>). Default true, as in HF. */
  addSpecialTokens?: boolean;
  /**
   * HF `truncation=True, max_length=maxLength`: the text's tokens are cut from the right so that
   * the result, specials included, has at most `maxLength` ids.
   */
  maxLength?: number;
}

export interface DecodeOptions {
  /** Drop special tokens (<s>, </s>, <pad>, [CLS] …). Default false, as in HF. */
  skipSpecialTokens?: boolean;
  /**
   * Undo tokenisation spaces (" ." → ".", " n't" → "n't" …). Default: the tokenizer_config's
   * `clean_up_tokenization_spaces`, as `PreTrainedTokenizerBase.decode` does. Pipelines pass their
   * own value: the summarization pipeline passes false.
   */
  cleanUpTokenizationSpaces?: boolean;
}

/** The special tokens a single sequence is wrapped in, e.g. `[0]` / `[2]` for BART. */
export interface SpecialTokenWrapping {
  prefix: readonly number[];
  suffix: readonly number[];
}

type JsonObject = Record<string, unknown>;

export class TokenizerLoadError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`cannot load tokenizer ${path}: ${reason}`);
    this.name = "TokenizerLoadError";
  }
}

/**
 * What the Rust normalizers do that the JS port does not, for the normalizers a tokenizer uses.
 *
 * - Lowercasing: Rust lowercases character by character (`char::to_lowercase`), so "Σ" is always
 *   "σ"; JS `String.toLowerCase` applies Unicode's Final_Sigma rule and writes "ς" at the end of a
 *   word ("ΣΑΣ" → "σας", a different WordPiece). Mapping Σ → σ beforehand gives Rust's result:
 *   σ lowercases to itself and nothing else in the pipeline looks at it.
 * - Chinese characters: BertNormalizer puts spaces around CJK ideographs. The JS port scans UTF-16
 *   code units, so ideographs outside the BMP (Extension B onwards, U+20000…) are missed and glued
 *   to their neighbours. Spacing them beforehand is what Rust does (spaces survive clean_text and
 *   lowercasing unchanged).
 */
interface NormalizerQuirks {
  lowercases: boolean;
  spacesChineseChars: boolean;
}

function normalizerQuirks(normalizer: unknown): NormalizerQuirks {
  const quirks: NormalizerQuirks = { lowercases: false, spacesChineseChars: false };
  const visit = (node: unknown): void => {
    if (typeof node !== "object" || node === null) return;
    const config = node as JsonObject;
    if (config["type"] === "Sequence" && Array.isArray(config["normalizers"])) {
      config["normalizers"].forEach(visit);
    } else if (config["type"] === "Lowercase") {
      quirks.lowercases = true;
    } else if (config["type"] === "BertNormalizer") {
      if (config["lowercase"] === true) quirks.lowercases = true;
      if (config["handle_chinese_chars"] === true) quirks.spacesChineseChars = true;
    }
  };
  visit(normalizer);
  return quirks;
}

// BertNormalizer's ideograph blocks beyond the BMP (the BMP ones the JS port handles itself):
// Extensions B–F and the CJK Compatibility Ideographs Supplement.
const ASTRAL_CJK = /[\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\u{2F800}-\u{2FA1F}]/gu;

function rustNormalizerParity(quirks: NormalizerQuirks): (text: string) => string {
  if (!quirks.lowercases && !quirks.spacesChineseChars) return (text) => text;
  return (text) => {
    let fixed = text;
    if (quirks.lowercases && fixed.includes("\u03a3")) fixed = fixed.replaceAll("\u03a3", "\u03c3");
    if (quirks.spacesChineseChars) fixed = fixed.replace(ASTRAL_CJK, (ideograph) => ` ${ideograph} `);
    return fixed;
  };
}

function readSpecialToken(config: JsonObject, key: string): string | undefined {
  const value = config[key];
  if (typeof value === "string") return value;
  // Older configs store AddedToken dicts: {"content": "<s>", "__type": "AddedToken", ...}.
  if (typeof value === "object" && value !== null && typeof (value as JsonObject)["content"] === "string") {
    return (value as JsonObject)["content"] as string;
  }
  return undefined;
}

export class HfTokenizer {
  readonly #tokenizer: Tokenizer;
  readonly #prepare: (text: string) => string;
  readonly #cleanUpDefault: boolean;
  readonly #wrapping: SpecialTokenWrapping;
  /** `model_max_length` from tokenizer_config.json, when it is a real limit (HF uses 1e30 for "none"). */
  readonly modelMaxLength: number | undefined;
  readonly padTokenId: number | undefined;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly unkTokenId: number | undefined;
  readonly specialTokenIds: ReadonlySet<number>;

  constructor(tokenizerJson: JsonObject, tokenizerConfig: JsonObject) {
    this.#tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    this.#prepare = rustNormalizerParity(normalizerQuirks(tokenizerJson["normalizer"]));
    // transformers 4.57 defaults a missing key to False (PreTrainedTokenizerBase.__init__);
    // the JS port defaults it to true.
    this.#cleanUpDefault = tokenizerConfig["clean_up_tokenization_spaces"] === true;
    const maxLength = tokenizerConfig["model_max_length"];
    this.modelMaxLength = typeof maxLength === "number" && maxLength < 1e9 ? maxLength : undefined;
    const idOf = (key: string) => {
      const token = readSpecialToken(tokenizerConfig, key);
      return token === undefined ? undefined : this.#tokenizer.token_to_id(token);
    };
    this.padTokenId = idOf("pad_token");
    this.bosTokenId = idOf("bos_token") ?? idOf("cls_token");
    this.eosTokenId = idOf("eos_token") ?? idOf("sep_token");
    this.unkTokenId = idOf("unk_token");
    this.specialTokenIds = new Set(
      [...this.#tokenizer.get_added_tokens_decoder()].filter(([, token]) => token.special).map(([id]) => id),
    );
    this.#wrapping = this.#probeWrapping();
  }

  /** Loads `tokenizer.json` and `tokenizer_config.json`; errors name the file. */
  static async fromFiles(tokenizerJsonPath: string, tokenizerConfigPath: string): Promise<HfTokenizer> {
    const tokenizerJson = await readJsonObject(tokenizerJsonPath);
    const tokenizerConfig = await readJsonObject(tokenizerConfigPath);
    try {
      return new HfTokenizer(tokenizerJson, tokenizerConfig);
    } catch (error) {
      throw new TokenizerLoadError(tokenizerJsonPath, (error as Error).message);
    }
  }

  /** The specials around one sequence. Found by encoding a probe text with and without them. */
  get specialTokens(): SpecialTokenWrapping {
    return this.#wrapping;
  }

  /** How many ids `wrap` adds: 2 for both BART and BERT. */
  get numSpecialTokens(): number {
    return this.#wrapping.prefix.length + this.#wrapping.suffix.length;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const addSpecialTokens = options.addSpecialTokens ?? true;
    const ids: number[] = this.#tokenizer.encode(this.#prepare(text), { add_special_tokens: false }).ids;
    if (options.maxLength !== undefined) {
      const room = options.maxLength - (addSpecialTokens ? this.numSpecialTokens : 0);
      if (room < 0) throw new RangeError(`maxLength ${options.maxLength} leaves no room for the special tokens`);
      ids.length = Math.min(ids.length, room);
    }
    return addSpecialTokens ? this.wrap(ids) : ids;
  }

  /** Surrounds already-encoded text with the model's specials, as `encode` would. */
  wrap(ids: readonly number[]): number[] {
    return [...this.#wrapping.prefix, ...ids, ...this.#wrapping.suffix];
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const kept = options.skipSpecialTokens ? ids.filter((id) => !this.specialTokenIds.has(id)) : [...ids];
    if (kept.length === 0) return "";
    return this.#tokenizer.decode(kept, {
      skip_special_tokens: false,
      clean_up_tokenization_spaces: options.cleanUpTokenizationSpaces ?? this.#cleanUpDefault,
    });
  }

  tokenToId(token: string): number | undefined {
    return this.#tokenizer.token_to_id(token);
  }

  #probeWrapping(): SpecialTokenWrapping {
    // Any text with at least one token works; the post-processor puts specials around it.
    const probe = "a";
    const bare: number[] = this.#tokenizer.encode(probe, { add_special_tokens: false }).ids;
    const wrapped: number[] = this.#tokenizer.encode(probe, { add_special_tokens: true }).ids;
    for (let start = 0; start + bare.length <= wrapped.length; start++) {
      if (bare.every((id, i) => wrapped[start + i] === id)) {
        return { prefix: wrapped.slice(0, start), suffix: wrapped.slice(start + bare.length) };
      }
    }
    throw new Error("the post-processor changes the text's own tokens; cannot tell its special tokens apart");
  }
}

async function readJsonObject(path: string): Promise<JsonObject> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new TokenizerLoadError(path, (error as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : String(error));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TokenizerLoadError(path, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new TokenizerLoadError(path, "expected a JSON object");
  }
  return parsed as JsonObject;
}
