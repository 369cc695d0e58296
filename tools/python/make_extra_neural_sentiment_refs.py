#!/usr/bin/env python3
"""Reference for NeuralSentimentExpert's whole-article windows, computed with HF transformers.

news-moe classifies a long article in sentence-aligned windows (not HF's overlapping
`return_overflowing_tokens` windows, which cut sentences anywhere). This script is an independent,
plain implementation of that rule on the tiny fixture model, so the TypeScript expert can be checked
window by window:

  pieces     the text cut right after each sentence end: a sentence ends at '.', '!' or '?' followed
             by whitespace (`(?<=[.!?])\\s+`); the whitespace starts the next piece, so
             ''.join(pieces) == text. (The texts below are plain prose on which news-moe's sentence
             splitter finds exactly these sentences; the test checks that it does.)
  tokens     each piece tokenised without specials; their concatenation equals tok(text) without
             specials (asserted here).
  windows    greedy: pieces are appended to the current window while it stays within
             BUDGET = 512 - 2 tokens; a piece that does not fit starts a new window; a piece longer
             than BUDGET is cut into BUDGET-token runs and its remainder starts the next window.
             Each window is [CLS] + tokens + [SEP].
  logits     DistilBertForSequenceClassification on each window alone (no padding).
  probs      softmax per window, averaged with weights = the window's text tokens (specials excluded).
  decision   label = argmax unless max(probs) < NEUTRAL_THRESHOLD (0.75): then NEUTRAL with
             score 1 - |p1 - p0|; otherwise score = max(probs).

Writes test/fixtures/references/extra-neural-sentiment.json.
Usage: tools/py tools/python/make_extra_neural_sentiment_refs.py [--model test/fixtures/models/tiny-distilbert-sst2]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import re
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModelForSequenceClassification, AutoTokenizer

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import fixture_texts as T  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
WINDOW = 512
NEUTRAL_THRESHOLD = 0.75


def f32(x) -> float:
    return float(np.format_float_positional(np.float32(x), unique=True, trim="-"))


def pieces_of(text: str) -> list[str]:
    cuts = [m.end() for m in re.finditer(r"[.!?](?=\s)", text)]
    pieces, start = [], 0
    for cut in cuts:
        if text[start:cut].strip():
            pieces.append(text[start:cut])
            start = cut
    if start < len(text):
        if pieces and not text[start:].strip():
            pieces[-1] += text[start:]  # trailing whitespace stays with the last sentence
        else:
            pieces.append(text[start:])
    return pieces


def pack(piece_ids: list[list[int]], budget: int) -> list[list[int]]:
    windows, cur = [], []
    for ids in piece_ids:
        if not ids:
            continue
        if len(cur) + len(ids) <= budget:
            cur = cur + ids
            continue
        if cur:
            windows.append(cur)
        cur, start = [], 0
        while len(ids) - start > budget:
            windows.append(ids[start:start + budget])
            start += budget
        cur = ids[start:]
    if cur:
        windows.append(cur)
    return windows


def texts() -> list[tuple[str, str]]:
    # One ~1,200-token sentence in under 2,000 characters (longer ones the sentence splitter cuts itself).
    scores = "Scores so far: " + ", ".join(f"{i % 10}-{(i * 7) % 10}" for i in range(300)) + "."
    return [
        ("one_window", T.long_article(12, seed=31)),
        ("three_windows", T.long_article(70, seed=32)),
        ("paragraphs", "\n\n".join(T.long_article(15, seed=33 + k) for k in range(3))),
        ("oversized_sentence", T.long_article(6, seed=34) + " " + scores + " " + T.long_article(6, seed=35)),
        ("mixed_lengths", T.ARTICLES["football_late_winner"] + " " + T.long_article(45, seed=36)),
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=pathlib.Path, default=REPO / "test" / "fixtures" / "models" / "tiny-distilbert-sst2")
    ap.add_argument("--weights", type=pathlib.Path, default=REPO / ".cache" / "models" / "hf" / "tiny-distilbert-sst2",
                    help="HF checkpoint with the same weights as the ONNX fixture")
    ap.add_argument("--out", type=pathlib.Path,
                    default=REPO / "test" / "fixtures" / "references" / "extra-neural-sentiment.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    tok = AutoTokenizer.from_pretrained(str(args.model))
    model = AutoModelForSequenceClassification.from_pretrained(str(args.weights)).eval()
    id2label = {int(k): v for k, v in model.config.id2label.items()}
    budget = WINDOW - tok.num_special_tokens_to_add()
    cases = []
    for name, text in texts():
        pieces = pieces_of(text)
        assert "".join(pieces) == text
        piece_ids = [tok(p, add_special_tokens=False)["input_ids"] for p in pieces]
        assert sum(piece_ids, []) == tok(text, add_special_tokens=False)["input_ids"], name
        windows = []
        for ids in pack(piece_ids, budget):
            full = [tok.cls_token_id] + ids + [tok.sep_token_id]
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([full])).logits[0]
            windows.append({"input_ids": full, "tokens": len(ids), "logits": [f32(x) for x in logits.tolist()]})
        weights = np.array([w["tokens"] for w in windows], dtype=np.float64)
        probs = np.array([torch.softmax(torch.tensor(w["logits"], dtype=torch.float64), -1).numpy() for w in windows])
        mean = (probs * weights[:, None]).sum(0) / weights.sum()
        top = int(np.argmax(mean))
        if mean[top] < NEUTRAL_THRESHOLD:
            label, score = "NEUTRAL", 1 - abs(mean[1] - mean[0])
        else:
            label, score = id2label[top], mean[top]
        cases.append({"name": name, "text": text,
                      "sentences": [p.strip() for p in pieces],
                      "windows": windows,
                      "probabilities": {id2label[i]: float(p) for i, p in enumerate(mean)},
                      "label": label, "score": float(score)})
    out = {"generator": "tools/python/make_extra_neural_sentiment_refs.py",
           "transformers_version": transformers.__version__,
           "weights_sha256": hashlib.sha256((args.weights / "model.safetensors").read_bytes()).hexdigest(),
           "onnx_sha256": hashlib.sha256((args.model / "onnx" / "model.onnx").read_bytes()).hexdigest(),
           "window": WINDOW, "neutral_threshold": NEUTRAL_THRESHOLD, "id2label": id2label,
           "rule": __doc__.split("\n\n")[1:3], "cases": cases}
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: " + ", ".join(f"{c['name']} {len(c['windows'])} windows {c['label']}" for c in cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
