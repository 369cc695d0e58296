#!/usr/bin/env python3
"""Write reference outputs of HF transformers (PyTorch) on the tiny fixture models.

The TypeScript side runs the same weights through ONNX Runtime (test/fixtures/models/) and must
reproduce these numbers: token-identical generation, logits within a small tolerance.

Files written to --out (default test/fixtures/references/):
  summarization.json  generate() and pipeline("summarization") cases on tiny-distilbart-cnn-6-6,
                      plus two over-limit chunking cases (rule documented inside the file)
  sentiment.json      DistilBertForSequenceClassification logits/probabilities and
                      pipeline("sentiment-analysis") outputs on tiny-distilbert-sst2, incl. a
                      >512-token text split into overlapping 512-token windows
  tokenizer.json      ids/tokens of tricky strings from both fast tokenizers, BART decodes

Example:
  tools/py tools/python/make_references.py --bart .cache/models/hf/tiny-distilbart-cnn-6-6 \\
      --bert .cache/models/hf/tiny-distilbert-sst2 --out test/fixtures/references
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import pathlib
import re
import sys
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import onnxruntime  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    pipeline,
)

import fixture_texts as T  # noqa: E402

transformers.logging.set_verbosity_error()
REPO = pathlib.Path(__file__).resolve().parents[2]

# The tutorial's call: summarizer(article, max_length=300, min_length=30, do_sample=False)
TUTORIAL_KWARGS = {"max_length": 300, "min_length": 30, "do_sample": False}

GEN_FIELDS = ["num_beams", "num_return_sequences", "do_sample", "max_length", "max_new_tokens", "min_length",
              "min_new_tokens", "length_penalty", "early_stopping", "no_repeat_ngram_size", "forced_bos_token_id",
              "forced_eos_token_id", "decoder_start_token_id", "bos_token_id", "eos_token_id", "pad_token_id",
              "repetition_penalty", "encoder_no_repeat_ngram_size", "bad_words_ids", "num_beam_groups",
              "diversity_penalty", "temperature", "top_k", "top_p"]


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def f32(x) -> float:
    """A float32 value as the shortest decimal that round-trips to the same float32."""
    return float(np.format_float_positional(np.float32(x), unique=True, trim="-"))


def dump(obj, path: pathlib.Path):
    """JSON with 2-space indentation, but lists of numbers kept on one line."""
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    text = re.sub(r"\[\s+([-0-9.eE+,\s]+?)\s+\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)
    path.write_text(text + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Summarization
# ---------------------------------------------------------------------------------------------

class Summ:
    def __init__(self, model_dir: pathlib.Path):
        self.dir = model_dir
        self.tok = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForSeq2SeqLM.from_pretrained(model_dir).eval()
        self.pipe = pipeline("summarization", model=str(model_dir), tokenizer=str(model_dir), device="cpu")
        self.prefix = self.pipe.prefix or ""
        self.limit = self.model.config.max_position_embeddings

    def n_tokens(self, text: str) -> int:
        """Encoder length of `text` as the pipeline feeds it (prefix + <s> ... </s>)."""
        return len(self.tok(self.prefix + text)["input_ids"])

    def effective(self, base_config, kwargs) -> dict:
        gc, _ = self.model._prepare_generation_config(base_config, **dict(kwargs))
        d = gc.to_dict()
        return {k: d.get(k) for k in GEN_FIELDS}

    def decode(self, ids):
        # exactly the summarization pipeline's postprocess in 4.57.6
        return self.tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    def generate(self, texts: list[str], kwargs: dict, base_config=None) -> dict:
        enc = self.tok([self.prefix + t for t in texts], padding=len(texts) > 1, return_tensors="pt")
        with torch.no_grad():
            out = self.model.generate(**enc, **kwargs, generation_config=base_config,
                                      output_scores=True, return_dict_in_generate=True)
        seqs = out.sequences.tolist()
        res = {
            "input_ids": [row[: int(m.sum())] if len(texts) == 1 else row
                          for row, m in zip(enc["input_ids"].tolist(), enc["attention_mask"])],
            "attention_mask": enc["attention_mask"].tolist(),
            "sequences": seqs,
            "texts": [self.decode(s) for s in seqs],
        }
        if getattr(out, "sequences_scores", None) is not None:
            res["sequences_scores"] = [f32(x) for x in out.sequences_scores.tolist()]
            res["beam_indices"] = out.beam_indices.tolist()
        eff = self.effective(base_config, kwargs)
        max_len = eff["max_length"] if eff["max_new_tokens"] is None else eff["max_new_tokens"] + 1
        pad, eos = eff["pad_token_id"], eff["eos_token_id"]
        ends = []
        for s in seqs:
            core = s[:]
            while core and core[-1] == pad:
                core.pop()
            ends.append("max_length" if len(core) >= max_len else ("eos" if core[-1] == eos else "other"))
        res["stop_reason"] = ends
        res["effective_generation_config"] = eff
        return res

    def pipeline_call(self, text: str, kwargs: dict) -> dict:
        out_text = self.pipe(text, **kwargs)[0]["summary_text"]
        out_ids = self.pipe(text, return_tensors=True, **kwargs)[0]["summary_token_ids"].tolist()
        # the same call through generate(), for sequences_scores / beam_indices
        res = self.generate([text], kwargs, base_config=self.pipe.generation_config)
        assert res["sequences"][0] == out_ids, "pipeline ids differ from generate() ids"
        assert res["texts"][0] == out_text, "pipeline text differs from decode()"
        res["summary_text"] = out_text
        return res


def exact_length_text(s: Summ, target: int, material: str) -> str:
    """A prefix of `material` (whole words) whose pipeline encoding is exactly `target` tokens."""
    words = material.split(" ")
    lo, hi = 1, len(words)
    while lo < hi:  # smallest n with n_tokens >= target
        mid = (lo + hi) // 2
        if s.n_tokens(" ".join(words[:mid])) >= target:
            hi = mid
        else:
            lo = mid + 1
    for n in range(max(1, lo - 5), lo + 5):
        text = " ".join(words[:n])
        if s.n_tokens(text) == target:
            return text
    raise RuntimeError(f"no whole-word prefix with exactly {target} tokens")


# --- over-limit chunking: an independent, deliberately plain implementation of the rule ------

CHUNK_RULE = {
    "summary": "Split an over-limit article into sentence windows that fit the model, summarise each "
               "window with the tutorial's call, join the partial summaries, and summarise the join again "
               "while it is still long.",
    "limit": "L = config.max_position_embeddings = 1024. n(text) = len(tokenizer(prefix + text).input_ids), "
             "i.e. what pipeline('summarization') feeds the encoder: config.prefix ' ' prepended, <s> and </s> "
             "included.",
    "fits": "A text fits when n(text) <= L. A text that fits is summarised directly: no chunking.",
    "sentences": "sentences = [s.strip() for s in re.split(r'(?<=[.!?])\\s+', text) if s.strip()], i.e. split "
                  "after '.', '!' or '?' that is followed by whitespace; the whitespace is dropped.",
    "packing": "Greedy, in order: the current window starts with the next sentence; each following sentence "
               "is appended with one ' ' separator while n(window + ' ' + sentence) <= L, otherwise the window "
               "is closed and the sentence starts a new window.",
    "oversized_sentence": "A sentence with n(sentence) > L on its own is first cut into pieces: its words "
                          "(sentence.split() on whitespace) are packed greedily, joined by one ' ', into pieces "
                          "with n(piece) <= L; the pieces are then packed like sentences.",
    "summarise": "Each window is summarised with pipeline('summarization')(window, max_length=300, "
                 "min_length=30, do_sample=False) and the summary_text is taken as is.",
    "join": "joined = ' '.join(summary.strip() for summary in partial_summaries)",
    "still_long": "If n(joined) <= 300 (the call's max_length) the joined text is the final result. Otherwise "
                  "the whole procedure is applied to `joined` (summarised directly if it fits, chunked again "
                  "if not) and that is the final result.",
}


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def pack_windows(s: Summ, text: str) -> list[str]:
    units = []
    for sent in split_sentences(text):
        if s.n_tokens(sent) <= s.limit:
            units.append(sent)
            continue
        piece = ""
        for w in sent.split():
            cand = w if not piece else piece + " " + w
            if s.n_tokens(cand) <= s.limit:
                piece = cand
            else:
                if not piece:
                    raise RuntimeError("a single word exceeds the window")
                units.append(piece)
                piece = w
        if piece:
            units.append(piece)
    windows, cur = [], ""
    for u in units:
        cand = u if not cur else cur + " " + u
        if s.n_tokens(cand) <= s.limit:
            cur = cand
        else:
            windows.append(cur)
            cur = u
    if cur:
        windows.append(cur)
    return windows


def summarise_long(s: Summ, text: str, depth: int = 0) -> dict:
    node = {"depth": depth, "text": text, "n_tokens": s.n_tokens(text)}
    if node["n_tokens"] <= s.limit:
        r = s.pipeline_call(text, TUTORIAL_KWARGS)
        node.update(chunked=False, input_ids=r["input_ids"][0], sequences=r["sequences"],
                    sequences_scores=r.get("sequences_scores"), summary_text=r["summary_text"],
                    stop_reason=r["stop_reason"], final_text=r["summary_text"])
        return node
    windows = []
    for w in pack_windows(s, text):
        r = s.pipeline_call(w, TUTORIAL_KWARGS)
        windows.append({"text": w, "n_tokens": s.n_tokens(w), "input_ids": r["input_ids"][0],
                        "sequences": r["sequences"], "sequences_scores": r.get("sequences_scores"),
                        "summary_text": r["summary_text"], "stop_reason": r["stop_reason"]})
    joined = " ".join(w["summary_text"].strip() for w in windows)
    node.update(chunked=True, windows=windows, joined=joined, joined_n_tokens=s.n_tokens(joined))
    if node["joined_n_tokens"] <= TUTORIAL_KWARGS["max_length"]:
        node.update(resummarised=False, final_text=joined)
    else:
        node["resummarised"] = True
        node["resummary"] = summarise_long(s, joined, depth + 1)
        node["final_text"] = node["resummary"]["final_text"]
    return node


def summarization_cases(s: Summ) -> list[dict]:
    A = T.ARTICLES
    cases = []

    def gen(name, desc, text, kwargs):
        r = s.generate([text], kwargs)
        cases.append({"name": name, "kind": "generate", "description": desc, "text": text,
                      "encoder_text": s.prefix + text, "generation_kwargs": kwargs, **r})

    def pipe(name, desc, text, kwargs):
        r = s.pipeline_call(text, kwargs)
        cases.append({"name": name, "kind": "pipeline", "description": desc, "text": text,
                      "encoder_text": s.prefix + text, "call_kwargs": kwargs, **r})

    pipe("pipeline_tutorial_football", "the tutorial's call: pipeline('summarization')(text, max_length=300, "
         "min_length=30, do_sample=False)", A["football_late_winner"], TUTORIAL_KWARGS)
    pipe("pipeline_tutorial_cricket", "the tutorial's call on another article", A["cricket_rain_delay"],
         TUTORIAL_KWARGS)
    pipe("pipeline_tutorial_tennis", "the tutorial's call on another article", A["tennis_retirement"],
         TUTORIAL_KWARGS)
    pipe("pipeline_no_kwargs", "pipeline defaults only: task_specific_params.summarization applies "
         "(num_beams 4, max_length 142, min_length 56, length_penalty 2, no_repeat_ngram_size 3, early_stopping)",
         A["f1_lineup"], {})
    # generate(): model.generation_config (generation_config.json) + these kwargs
    gen("greedy_norepeat3", "greedy search", A["athletics_record"],
        {"num_beams": 1, "max_length": 60, "min_length": 10, "no_repeat_ngram_size": 3})
    gen("greedy_norepeat0", "greedy, no_repeat_ngram_size 0", A["rugby_comeback"],
        {"num_beams": 1, "max_length": 60, "min_length": 0, "no_repeat_ngram_size": 0})
    gen("greedy_short_headline", "greedy without min_length on a one-sentence input (runs to max_length)", T.SHORT_TEXTS["headline_only"],
        {"num_beams": 1, "max_length": 40, "min_length": 0})
    gen("beam4_lp2_early_true", "beam search with the model's defaults except the lengths", A["golf_playoff"],
        {"num_beams": 4, "max_length": 80, "min_length": 20})
    gen("beam4_lp1", "length_penalty 1.0", A["cycling_breakaway"],
        {"num_beams": 4, "max_length": 80, "min_length": 20, "length_penalty": 1.0})
    gen("beam4_lp05", "length_penalty 0.5", A["swimming_relay"],
        {"num_beams": 4, "max_length": 80, "min_length": 20, "length_penalty": 0.5})
    gen("beam4_lp_negative", "length_penalty -1.0 (favours short hypotheses)", A["boxing_title"],
        {"num_beams": 4, "max_length": 80, "min_length": 5, "length_penalty": -1.0})
    gen("beam4_early_false", "early_stopping False (heuristic stop)", A["basketball_overtime"],
        {"num_beams": 4, "max_length": 80, "min_length": 20, "early_stopping": False})
    gen("beam4_early_never", "early_stopping 'never' (canonical stop)", A["basketball_overtime"],
        {"num_beams": 4, "max_length": 80, "min_length": 20, "early_stopping": "never"})
    gen("beam2", "num_beams 2", A["snooker_final"], {"num_beams": 2, "max_length": 70, "min_length": 10})
    gen("beam3_lp1_norepeat0", "num_beams 3, length_penalty 1, no_repeat_ngram_size 0", A["snooker_final"],
        {"num_beams": 3, "max_length": 70, "min_length": 10, "length_penalty": 1.0, "no_repeat_ngram_size": 0})
    gen("beam4_return4", "num_return_sequences 4 of 4 beams", A["tennis_retirement"],
        {"num_beams": 4, "num_return_sequences": 4, "max_length": 80, "min_length": 20})
    gen("beam3_return2", "num_return_sequences 2 of 3 beams", A["cricket_rain_delay"],
        {"num_beams": 3, "num_return_sequences": 2, "max_length": 60, "min_length": 10, "length_penalty": 1.0})
    gen("beam4_min_length_forcing", "min_length 58 close to max_length 60: EOS banned until the end",
        A["golf_playoff"], {"num_beams": 4, "max_length": 60, "min_length": 58})
    gen("beam4_max_new_tokens", "max_new_tokens 40 instead of max_length (max_length becomes 41 = 1 start "
        "token + 40)", A["cycling_breakaway"], {"num_beams": 4, "max_new_tokens": 40, "min_length": 10})
    gen("beam4_no_forced_bos_eos", "forced_bos_token_id and forced_eos_token_id off", A["rugby_comeback"],
        {"num_beams": 4, "max_length": 60, "min_length": 10, "forced_bos_token_id": None,
         "forced_eos_token_id": None})
    gen("beam4_forced_eos_only", "forced_bos off, forced_eos on", A["f1_lineup"],
        {"num_beams": 4, "max_length": 50, "min_length": 10, "forced_bos_token_id": None})
    gen("beam4_decoder_start_0", "decoder_start_token_id 0 instead of 2", A["athletics_record"],
        {"num_beams": 4, "max_length": 60, "min_length": 10, "decoder_start_token_id": 0})
    gen("greedy_short_input", "a 3-token article ('Goal!' -> <s> ' Goal' '!' </s>)", T.SHORT_TEXTS["goal"],
        {"num_beams": 1, "max_length": 30, "min_length": 5})
    gen("beam4_short_input", "beam search on the tiny input", T.SHORT_TEXTS["goal"],
        {"num_beams": 4, "max_length": 40, "min_length": 5})

    material = T.all_short_articles_text() + " " + T.long_article(120, seed=7)
    t1024 = exact_length_text(s, s.limit, material)
    t1023 = exact_length_text(s, s.limit - 1, material)
    gen("beam4_input_1024_tokens", "encoder input of exactly max_position_embeddings tokens", t1024,
        {"num_beams": 4, "max_length": 40, "min_length": 10})
    gen("beam4_input_1023_tokens", "encoder input one token under the limit", t1023,
        {"num_beams": 4, "max_length": 40, "min_length": 10})
    pipe("pipeline_tutorial_1024_tokens", "the tutorial's call on an input of exactly 1024 tokens", t1024,
         TUTORIAL_KWARGS)

    # batch with padding: batched generate and each article alone
    batch = [A["snooker_final"], A["football_late_winner"], T.SHORT_TEXTS["headline_only"]]
    kw = {"num_beams": 4, "max_length": 60, "min_length": 10}
    rb = s.generate(batch, kw)
    singles = [s.generate([t], kw) for t in batch]
    cases.append({"name": "beam4_batch3_padded", "kind": "generate_batch",
                  "description": "three articles of different lengths in one padded batch (right padding with "
                                 "<pad>=1, attention_mask 0), and each article alone",
                  "texts_in": batch, "encoder_texts": [s.prefix + t for t in batch], "generation_kwargs": kw,
                  **rb,
                  "per_article": [{k: r[k] for k in ("input_ids", "sequences", "sequences_scores", "texts",
                                                     "stop_reason")} for r in singles],
                  "batched_equals_single": [rb["sequences"][i] [: len(singles[i]["sequences"][0])]
                                            == singles[i]["sequences"][0] for i in range(len(batch))]})
    kwg = {"num_beams": 1, "max_length": 40, "min_length": 0}
    rg = s.generate(batch, kwg)
    singles = [s.generate([t], kwg) for t in batch]
    cases.append({"name": "greedy_batch3_padded", "kind": "generate_batch",
                  "description": "greedy on the padded batch; finished rows are filled with <pad>",
                  "texts_in": batch, "encoder_texts": [s.prefix + t for t in batch], "generation_kwargs": kwg,
                  **rg,
                  "per_article": [{k: r[k] for k in ("input_ids", "sequences", "texts", "stop_reason")}
                                  for r in singles]})
    return cases


# ---------------------------------------------------------------------------------------------
# Sentiment
# ---------------------------------------------------------------------------------------------

SENTIMENT_WINDOW_RULE = {
    "summary": "A text longer than 512 tokens is classified in overlapping 512-token windows and the "
               "windows' softmax probabilities are averaged.",
    "windows": "tokenizer(text, truncation=True, max_length=512, stride=128, return_overflowing_tokens=True) "
               "with the fast tokenizer: each window is [CLS] + up to 510 word-piece tokens + [SEP]; window k+1 "
               "starts 128 tokens before the end of window k's content (consecutive windows share 128 content "
               "tokens); the last window may be shorter. No padding.",
    "aggregate": "probs = mean over windows of softmax(logits); label = id2label[argmax(probs)], "
                 "score = max(probs).",
}


def sentiment_reference(model_dir: pathlib.Path) -> dict:
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    clf = pipeline("sentiment-analysis", model=str(model_dir), tokenizer=str(model_dir), device="cpu")
    id2label = {int(k): v for k, v in model.config.id2label.items()}

    def run(ids):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids),
                                                                                   dtype=torch.long)).logits[0]
        probs = torch.softmax(logits, -1)
        return [f32(x) for x in logits.tolist()], [f32(x) for x in probs.tolist()]

    cases = []
    texts = list(T.SENTIMENT_TEXTS)
    tutorial_article = T.long_article(60, seed=11)
    texts.append(("tutorial_first_2000_chars", tutorial_article[:2000]))
    for name, text in texts:
        ids = tok(text)["input_ids"]
        logits, probs = run(ids)
        p = clf(text)[0]
        cases.append({"name": name, "text": text, "input_ids": ids, "n_tokens": len(ids), "logits": logits,
                      "probs": probs, "label": id2label[int(np.argmax(probs))],
                      "pipeline": {"label": p["label"], "score": f32(p["score"])}})
    # batch with padding through the model (logits must not depend on padding)
    batch = [texts[0][1], texts[3][1], texts[6][1]]
    enc = tok(batch, padding=True, return_tensors="pt")
    with torch.no_grad():
        bl = model(**enc).logits
    batch_case = {"texts": batch, "input_ids": enc["input_ids"].tolist(),
                  "attention_mask": enc["attention_mask"].tolist(),
                  "logits": [[f32(x) for x in row] for row in bl.tolist()]}
    # long text in windows
    long_text = T.long_article(140, seed=23)
    enc = tok(long_text, truncation=True, max_length=512, stride=128, return_overflowing_tokens=True)
    windows = []
    for ids in enc["input_ids"]:
        logits, probs = run(ids)
        windows.append({"input_ids": ids, "n_tokens": len(ids), "logits": logits, "probs": probs})
    mean = np.mean([w["probs"] for w in windows], axis=0)
    full_ids = tok(long_text)["input_ids"]
    long_case = {"name": "over_512_tokens", "text": long_text, "n_tokens_untruncated": len(full_ids),
                 "full_input_ids": full_ids, "rule": SENTIMENT_WINDOW_RULE, "windows": windows,
                 "probs": [f32(x) for x in mean], "label": id2label[int(np.argmax(mean))],
                 "score": f32(mean.max())}
    return {"cases": cases, "padded_batch": batch_case, "long_text": long_case, "id2label": id2label,
            "pipeline_notes": "pipeline('sentiment-analysis') of transformers 4.57.6: softmax over the 2 logits "
                              "(function_to_apply default for a 2-label single-label model), returns the top "
                              "label and its probability; no truncation by default (a >512-token input fails)."}


# ---------------------------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------------------------

def tokenizer_reference(bart_dir: pathlib.Path, bert_dir: pathlib.Path) -> dict:
    bart = AutoTokenizer.from_pretrained(bart_dir)
    bert = AutoTokenizer.from_pretrained(bert_dir)
    cases = []
    for name, text in T.TOKENIZER_TEXTS:
        b = bart(text)["input_ids"]
        d = bert(text)["input_ids"]
        cases.append({
            "name": name, "text": text,
            "bart": {"input_ids": b, "tokens": bart.convert_ids_to_tokens(b),
                     "decoded": bart.decode(b, skip_special_tokens=True, clean_up_tokenization_spaces=False),
                     "with_prefix_input_ids": bart(" " + text)["input_ids"]},
            "bert": {"input_ids": d, "tokens": bert.convert_ids_to_tokens(d),
                     "decoded": bert.decode(d, skip_special_tokens=True)},
        })
    # Decoding arbitrary id sequences (what a random model emits): partial UTF-8 bytes become U+FFFD.
    rng = np.random.default_rng(5)
    vocab = bart.get_vocab()
    byte_tokens = [vocab[t] for t in ["\u00c3", "\u00a9", "\u00e2", "\u0122", "\u00f0\u0141"] if t in vocab]
    decode_cases = [
        {"name": "random_ids", "ids": [int(x) for x in rng.integers(4, 50261, 40)]},
        {"name": "specials_mixed", "ids": [2, 0, 713, 16, 2, 1, 1]},
        {"name": "partial_utf8_bytes", "ids": byte_tokens},
        {"name": "madeupword_and_mask", "ids": [50261, 50262, 50263, 50264, 3]},
    ]
    for c in decode_cases:
        c["skip_special_tokens"] = bart.decode(c["ids"], skip_special_tokens=True,
                                               clean_up_tokenization_spaces=False)
        c["keep_special_tokens"] = bart.decode(c["ids"], skip_special_tokens=False,
                                               clean_up_tokenization_spaces=False)
    return {"cases": cases, "bart_decode_cases": decode_cases,
            "notes": "bart.input_ids = BartTokenizerFast(text) with <s>/</s>; with_prefix_input_ids adds the "
                     "summarization pipeline's ' ' prefix. bert = DistilBertTokenizerFast (bert-base-uncased "
                     "vocab, lowercase + accent stripping + CJK char splitting). BART decodes use "
                     "skip_special_tokens as named and clean_up_tokenization_spaces=False (the pipeline's)."}


# ---------------------------------------------------------------------------------------------

def provenance(model_dir: pathlib.Path, onnx_dir: pathlib.Path | None) -> dict:
    p = {"hf_checkpoint": str(model_dir.relative_to(REPO)) if model_dir.is_relative_to(REPO) else str(model_dir),
         "model_safetensors_sha256": sha256(model_dir / "model.safetensors")}
    if onnx_dir and onnx_dir.exists():
        p["onnx_dir"] = str(onnx_dir.relative_to(REPO)) if onnx_dir.is_relative_to(REPO) else str(onnx_dir)
        p["onnx_sha256"] = {str(f.relative_to(onnx_dir)): sha256(f) for f in sorted(onnx_dir.rglob("*.onnx"))}
    return p


def versions() -> dict:
    return {"transformers": transformers.__version__, "torch": torch.__version__,
            "tokenizers": tokenizers.__version__, "onnxruntime": onnxruntime.__version__,
            "numpy": np.__version__, "python": sys.version.split()[0]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    hf = REPO / ".cache" / "models" / "hf"
    fx = REPO / "test" / "fixtures" / "models"
    ap.add_argument("--bart", type=pathlib.Path, default=hf / "tiny-distilbart-cnn-6-6")
    ap.add_argument("--bert", type=pathlib.Path, default=hf / "tiny-distilbert-sst2")
    ap.add_argument("--onnx-bart", type=pathlib.Path, default=fx / "tiny-distilbart-cnn-6-6",
                    help="ONNX fixture dir whose file hashes are recorded (must come from the same weights)")
    ap.add_argument("--onnx-bert", type=pathlib.Path, default=fx / "tiny-distilbert-sst2")
    ap.add_argument("--out", type=pathlib.Path, default=REPO / "test" / "fixtures" / "references")
    ap.add_argument("--only", choices=["summarization", "sentiment", "tokenizer"], nargs="*")
    args = ap.parse_args(argv)
    for a in ("bart", "bert", "onnx_bart", "onnx_bert", "out"):
        setattr(args, a, getattr(args, a).resolve())
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    args.out.mkdir(parents=True, exist_ok=True)
    only = set(args.only or ["summarization", "sentiment", "tokenizer"])

    if "summarization" in only:
        s = Summ(args.bart)
        cases = summarization_cases(s)
        chunk_cases = []
        for name, n, seed in [("chunked_two_windows", 75, 101), ("chunked_many_windows", 180, 202)]:
            text = T.long_article(n, seed=seed)
            node = summarise_long(s, text)
            chunk_cases.append({"name": name, "article": text, "n_tokens": s.n_tokens(text), "result": node})
        doc = {
            "versions": versions(), "model": provenance(args.bart, args.onnx_bart),
            "pipeline_facts": {
                "prefix": s.prefix,
                "prefix_note": "pipeline('summarization') prepends config.prefix (' ') to every input string "
                               "before tokenizing (Text2TextGenerationPipeline._parse_and_tokenize); no "
                               "truncation by default.",
                "decode": "tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)",
                "task_specific_params": "config.task_specific_params['summarization'] is applied on top of "
                                        "generation_config.json when the pipeline is built; call kwargs override "
                                        "both.",
                "pipeline_generation_config": {k: v for k, v in s.pipe.generation_config.to_dict().items()
                                               if k in GEN_FIELDS},
            },
            "model_generation_config": {k: v for k, v in s.model.generation_config.to_dict().items()
                                        if k in GEN_FIELDS},
            "case_notes": "For every case: encoder_text = prefix + text is what was tokenized; input_ids are its "
                          "ids; sequences are HF's returned decoder ids (start token first, rows right-padded with "
                          "pad_token_id 1); texts = decode(sequences) as the pipeline decodes; sequences_scores "
                          "(beam search) are the length-normalised scores sum(logprobs)/len**length_penalty with "
                          "len = generated tokens excluding the decoder start token; stop_reason says whether a "
                          "sequence ended with EOS before max_length or hit max_length (with forced_eos_token_id "
                          "the last token is then EOS too).",
            "cases": cases,
            "chunking_rule": CHUNK_RULE,
            "chunking_cases": chunk_cases,
        }
        dump(doc, args.out / "summarization.json")
        reasons = [r for c in cases for r in c["stop_reason"]]
        print(f"summarization.json: {len(cases)} cases + {len(chunk_cases)} chunking cases; stop reasons: "
              f"eos={reasons.count('eos')} max_length={reasons.count('max_length')}")
        for c in chunk_cases:
            r = c["result"]
            print(f"  {c['name']}: {c['n_tokens']} tokens -> {len(r.get('windows', []))} windows, "
                  f"joined {r.get('joined_n_tokens')} tokens, resummarised={r.get('resummarised')}")
    if "sentiment" in only:
        doc = {"versions": versions(), "model": provenance(args.bert, args.onnx_bert),
               **sentiment_reference(args.bert)}
        dump(doc, args.out / "sentiment.json")
        print(f"sentiment.json: {len(doc['cases'])} cases, long text {doc['long_text']['n_tokens_untruncated']} "
              f"tokens in {len(doc['long_text']['windows'])} windows; labels "
              f"{[c['label'] for c in doc['cases']]}")
    if "tokenizer" in only:
        doc = {"versions": versions(), **tokenizer_reference(args.bart, args.bert)}
        dump(doc, args.out / "tokenizer.json")
        print(f"tokenizer.json: {len(doc['cases'])} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
