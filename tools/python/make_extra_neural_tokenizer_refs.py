#!/usr/bin/env python3
"""Tokenizer edge cases for the neural experts, as HF transformers' fast tokenizers see them.

Writes test/fixtures/references/extra-neural-tokenizer.json: for each fixture model's tokenizer,
texts chosen where a JS port of the Rust tokenizers is most likely to drift (Final_Sigma
lowercasing, ideographs outside the BMP, BOM/NEL/unassigned code points, over-long words, byte-level
pieces of multi-byte characters, added tokens inside text, whitespace runs), with

  ids            tok(text)["input_ids"]
  ids_plain      tok(text, add_special_tokens=False)["input_ids"]
  ids_truncated  tok(text, truncation=True, max_length=TRUNCATE_AT)["input_ids"]
  decoded        tok.decode(ids, skip_special_tokens=True)   (the tokenizer's own cleanup default)
  decoded_no_cleanup / decoded_cleanup   the same with clean_up_tokenization_spaces False / True
  decoded_with_specials   tok.decode(ids)

and, for the BART tokenizer, decodes of random id sequences (many of them byte-level pieces of
multi-byte characters, so invalid UTF-8 is exercised) the way the summarization pipeline decodes:
skip_special_tokens=True, clean_up_tokenization_spaces=False.

Usage: tools/py tools/python/make_extra_neural_tokenizer_refs.py [--models test/fixtures/models]
"""
from __future__ import annotations

import argparse
import json
import pathlib
import random
import sys

import transformers
from transformers import AutoTokenizer

REPO = pathlib.Path(__file__).resolve().parents[2]
MODELS = ("tiny-distilbart-cnn-6-6", "tiny-distilbert-sst2")
TRUNCATE_AT = 8
RANDOM_DECODES = 200
SEED = 4242

TEXTS = [
    "Hello, World!",
    "  leading spaces and trailing  ",
    "Manchester United's 3-1 win over Chelsea \u2014 a \"remarkable\" night.",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 Z\u00fcrich \u00c5ngstr\u00f6m",
    "Emoji \U0001f389\U0001f525 and CJK \u4e2d\u6587\u5b57\u7b26 and Japanese \u30cb\u30e5\u30fc\u30b9",
    "Tabs\tand\nnewlines\n\nparagraphs",
    "It's don't won't I'm we've they're I'll he'd",
    "The <mask> token and </s> inside text <s> too, [CLS] and [SEP] as well",
    "Numbers 1,234.56 and 12345678901234567890",
    "URL https://www.bbc.co.uk/sport/football/12345 email a.b@c.com",
    "Ellipsis\u2026 and \u201csmart quotes\u201d and \u2018single\u2019",
    "ZERO\u200bWIDTH and soft\u00adhyphen and nbsp\u00a0here",
    "Control \u0007 chars \u0000 here",
    "Supercalifragilistic" + "a" * 100 + " word",
    "\uff26\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48 \ufb01 ligature",
    "\u0130stanbul \u01c5 \u00df \u03a3\u0391\u03a3",
    "\u03a3\u0391\u03a3 \u039f\u0394\u039f\u03a3 \u03cc\u03bb\u03bf\u03c2",
    "a\U00020000b \U00020000 text \U0002f800x",
    "BOM\ufeffinside",
    "NEL\u0085here",
    "unassigned \U000e0080 x \u0378 y",
    "fancy \u2014 dash \u2013 en \u2027 dot \u00bfqu\u00e9? \u00abguillemets\u00bb \u3010brackets\u3011",
    "family \U0001f468\u200d\U0001f469\u200d\U0001f467 flag \U0001f1ec\U0001f1e7 skin \U0001f44d\U0001f3fd",
    "line\u2028sep\u2029para",
    "mixed\u3000ideographic space",
    "x\u0301 combining acute alone \u0301",
    "tab\tsep\rret",
    "\u00a0leading nbsp",
    "a  b   c    d",
    "mr. o'neill and 'quoted' \"dq\"",
    "100% +5 -3 $4 \u00a35 \u20ac6 \u00a57 price:\u00a31.5bn;ok",
    "<mask>ed and <mask> x and  <mask>",
    "Match report: the visitors (3-4-3) won 2-0. \"We were brilliant,\" said the coach.",
    "",
]


def tokenizer_cases(tok) -> list[dict]:
    cases = []
    for text in TEXTS:
        ids = tok(text)["input_ids"]
        cases.append({
            "text": text,
            "ids": ids,
            "ids_plain": tok(text, add_special_tokens=False)["input_ids"],
            "ids_truncated": tok(text, truncation=True, max_length=TRUNCATE_AT)["input_ids"],
            "decoded": tok.decode(ids, skip_special_tokens=True),
            "decoded_no_cleanup": tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False),
            "decoded_cleanup": tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True),
            "decoded_with_specials": tok.decode(ids),
        })
    return cases


def random_decodes(tok) -> list[dict]:
    rng = random.Random(SEED)
    vocab = tok.get_vocab()
    # Byte-level tokens of non-ASCII bytes: concatenations of these are often invalid UTF-8.
    high_bytes = sorted(i for t, i in vocab.items() if any(ord(c) >= 0x80 and c != "\u0120" for c in t))
    special = sorted(tok.all_special_ids)
    cases = []
    for _ in range(RANDOM_DECODES):
        n = rng.randint(1, 30)
        body = [rng.choice(high_bytes) if rng.random() < 0.5 else rng.randrange(len(tok)) for _ in range(n)]
        ids = [tok.eos_token_id, tok.bos_token_id] + body + [rng.choice(special), tok.eos_token_id]
        cases.append({
            "ids": ids,
            "pipeline_decoded": tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False),
        })
    return cases


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=pathlib.Path, default=REPO / "test" / "fixtures" / "models")
    ap.add_argument("--out", type=pathlib.Path,
                    default=REPO / "test" / "fixtures" / "references" / "extra-neural-tokenizer.json")
    args = ap.parse_args(argv)
    out = {
        "generator": "tools/python/make_extra_neural_tokenizer_refs.py",
        "transformers_version": transformers.__version__,
        "truncate_at": TRUNCATE_AT,
        "tokenizers": {},
    }
    for name in MODELS:
        tok = AutoTokenizer.from_pretrained(str(args.models / name))
        entry = {"class": type(tok).__name__, "cases": tokenizer_cases(tok)}
        if name.startswith("tiny-distilbart"):
            entry["random_decodes"] = random_decodes(tok)
        out["tokenizers"][name] = entry
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
