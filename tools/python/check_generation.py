#!/usr/bin/env python3
"""Replay the summarization references on ONNX Runtime and measure how robust they are.

For every case in summarization.json this script re-runs generation with its own plain
NumPy implementation of transformers 4.57.6's greedy and beam search (the semantics a
TypeScript port has to reproduce) on the exported ONNX files (encoder_model.onnx +
decoder_model_merged.onnx, as transformers.js uses them), then reports:

  * whether the ONNX replay is token-identical to HF/PyTorch, and the max |sequences_scores| diff;
  * decision margins seen during the ONNX replay (the smallest score gap at each comparison
    whose outcome changes the result): greedy top-1 vs top-2 processed score; for beam search
    (accumulated log-probs) rank 2K vs 2K+1 of the candidates (candidates_2k_boundary), rank K-1
    vs K when an EOS/max-length candidate is involved (finish_rank_k_boundary: only ranks < K may
    finish), K-th vs (K+1)-th non-finished candidate (running_k_boundary), and K-th vs (K+1)-th
    finished hypothesis after length normalisation (finished_k_boundary);
  * teacher-forced max |logits| and |log_softmax| differences, ORT vs PyTorch, on the returned
    sequences.

A port that reproduces these semantics and whose logits are within the reported differences of
ORT's will produce the same tokens as long as the margins stay well above those differences.

Example:
  tools/py tools/python/check_generation.py            # fp32 fixtures
  tools/py tools/python/check_generation.py --quantized  # int8 files: agreement is informative only
"""
from __future__ import annotations

import argparse
import json
import math
import pathlib
import sys
import warnings

warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
NEG = np.float32(-1e9)


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32)
    m = x.max(-1, keepdims=True)
    return (x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))).astype(np.float32)


class OrtBart:
    """encoder_model.onnx + decoder_model_merged.onnx with a KV cache, as transformers.js runs them."""

    def __init__(self, model_dir: pathlib.Path, quantized: bool):
        sfx = "_quantized" if quantized else ""
        so = ort.SessionOptions()
        so.log_severity_level = 3
        self.enc = ort.InferenceSession(str(model_dir / "onnx" / f"encoder_model{sfx}.onnx"), so)
        self.dec = ort.InferenceSession(str(model_dir / "onnx" / f"decoder_model_merged{sfx}.onnx"), so)
        cfg = json.loads((model_dir / "config.json").read_text())
        self.layers = cfg["decoder_layers"]
        self.heads = cfg["decoder_attention_heads"]
        self.head_dim = cfg["d_model"] // self.heads
        self.past_names = [f"past_key_values.{i}.{p}.{kv}" for i in range(self.layers)
                           for p in ("decoder", "encoder") for kv in ("key", "value")]
        self.out_names = [o.name for o in self.dec.get_outputs()]

    def encode(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.enc.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def start(self, ehs, mask, tokens):
        """First step: no cache. tokens (N,1). Returns last-position logits and the cache."""
        n = tokens.shape[0]
        empty = np.zeros((n, self.heads, 0, self.head_dim), np.float32)
        feeds = {"input_ids": tokens, "encoder_attention_mask": mask, "encoder_hidden_states": ehs,
                 "use_cache_branch": np.array([False]), **{p: empty for p in self.past_names}}
        out = dict(zip(self.out_names, self.dec.run(None, feeds)))
        cache = {p: out[p.replace("past_key_values", "present")] for p in self.past_names}
        return out["logits"][:, -1, :], cache

    def step(self, ehs, mask, tokens, cache):
        feeds = {"input_ids": tokens, "encoder_attention_mask": mask, "encoder_hidden_states": ehs,
                 "use_cache_branch": np.array([True]), **cache}
        out = dict(zip(self.out_names, self.dec.run(None, feeds)))
        new = {}
        for p in self.past_names:
            # the with-past branch returns empty encoder presents: keep the first step's cross cache
            new[p] = out[p.replace("past_key_values", "present")] if ".decoder." in p else cache[p]
        return out["logits"][:, -1, :], new


# ---------------------------------------------------------------------------------------------
# Logits processors, in the order transformers 4.57.6 applies them for these settings
# ---------------------------------------------------------------------------------------------

def process(seqs: np.ndarray, scores: np.ndarray, g: dict, max_length: int) -> np.ndarray:
    """seqs: (N, cur_len) decoder ids so far; scores: (N, V). Returns processed copy."""
    scores = scores.copy()
    cur_len = seqs.shape[1]
    n = g.get("no_repeat_ngram_size") or 0
    if n > 0 and cur_len + 1 >= n:
        for r in range(seqs.shape[0]):
            row = seqs[r].tolist()
            prefix = tuple(row[cur_len - n + 1:]) if n > 1 else ()
            banned = {row[i + n - 1] for i in range(cur_len - n + 1) if tuple(row[i:i + n - 1]) == prefix}
            for t in banned:
                scores[r, t] = -np.inf
    eos = g["eos_token_id"]
    if g.get("min_length") and g["min_length"] > 0 and cur_len < g["min_length"]:
        scores[:, eos] = -np.inf
    if g.get("forced_bos_token_id") is not None and cur_len == 1:
        scores[:] = -np.inf
        scores[:, g["forced_bos_token_id"]] = 0
    if g.get("forced_eos_token_id") is not None and cur_len == max_length - 1:
        scores[:] = -np.inf
        scores[:, g["forced_eos_token_id"]] = 0
    return scores


def _topk(x: np.ndarray, k: int):
    """Top-k along the last axis, descending; ties keep the lower index first."""
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, idx, -1), idx


def _note(margins: dict, key: str, gap: float):
    margins[key] = min(margins.get(key, math.inf), gap)


def greedy(m: OrtBart, ids, mask, g, max_length, margins):
    b = ids.shape[0]
    ehs = m.encode(ids, mask)
    seqs = np.full((b, 1), g["decoder_start_token_id"], np.int64)
    unfinished = np.ones(b, bool)
    logits, cache = m.start(ehs, mask, seqs)
    while True:
        scores = process(seqs, logits.astype(np.float32), g, max_length)
        for r in np.nonzero(unfinished)[0]:
            fin = np.sort(scores[r][np.isfinite(scores[r])])
            if fin.size >= 2:
                _note(margins, "greedy_top1_top2", float(fin[-1] - fin[-2]))
        nxt = scores.argmax(-1)
        nxt = np.where(unfinished, nxt, g["pad_token_id"])
        seqs = np.concatenate([seqs, nxt[:, None]], 1)
        unfinished &= ~((nxt == g["eos_token_id"]) | (seqs.shape[1] >= max_length))
        if not unfinished.any():
            return seqs, None
        logits, cache = m.step(ehs, mask, nxt[:, None], cache)


def beam_search(m: OrtBart, ids, mask, g, max_length, margins):
    B, K = ids.shape[0], g["num_beams"]
    lp_pow, early = g["length_penalty"], g["early_stopping"]
    eos, pad = g["eos_token_id"], g["pad_token_id"]
    K2 = 2 * K  # max(2, 1 + number of EOS ids) * num_beams
    ids_x, mask_x = np.repeat(ids, K, 0), np.repeat(mask, K, 0)
    ehs = m.encode(ids_x, mask_x)
    prompt = 1
    cur = 1
    run_seq = np.full((B, K, max_length), pad, np.int64)
    run_seq[:, :, 0] = g["decoder_start_token_id"]
    seqs = run_seq.copy()
    run_scores = np.zeros((B, K), np.float32)
    run_scores[:, 1:] = NEG
    beam_scores = np.full((B, K), NEG, np.float32)
    finished = np.zeros((B, K), bool)
    heur = np.ones((B, 1), bool)
    run_bi = np.full((B, K, max_length - 1), -1, np.int64)
    beam_bi = run_bi.copy()
    top_mask = np.arange(K2) < K
    logits, cache = m.start(ehs, mask_x, run_seq[:, :, :1].reshape(B * K, 1))
    while True:
        flat = run_seq[:, :, :cur].reshape(B * K, cur)
        lp = process(flat, log_softmax(logits), g, max_length)
        V = lp.shape[-1]
        acc = (lp.reshape(B, K, V) + run_scores[:, :, None]).astype(np.float32).reshape(B, K * V)
        top_v, top_i = _topk(acc, K2 + 1)
        for bb in range(B):  # candidate-set boundary: rank 2K vs 2K+1
            v = top_v[bb]
            if v[K2] > -1e8:
                _note(margins, "candidates_2k_boundary", float(v[K2 - 1] - v[K2]))
        top_v, top_i = top_v[:, :K2], top_i[:, :K2]
        src_beam, tok = top_i // V, top_i % V
        t_seq = np.take_along_axis(run_seq, src_beam[:, :, None], 1)
        t_seq[:, :, cur] = tok
        t_bi = np.take_along_axis(run_bi, src_beam[:, :, None], 1)
        t_bi[:, :, cur - prompt] = src_beam + np.arange(B)[:, None] * K
        hits = (tok == eos) | (cur + 1 >= max_length)
        for bb in range(B):
            # an EOS/max-length candidate can be finalised only from ranks < K: rank K-1 vs K decides
            if (hits[bb, K - 1] or hits[bb, K]) and top_v[bb, K] > -1e8:
                _note(margins, "finish_rank_k_boundary", float(top_v[bb, K - 1] - top_v[bb, K]))
            # running beams: the K best non-finished candidates of the 2K
            live = np.sort(top_v[bb][~hits[bb] & (top_v[bb] > -1e8)])[::-1]
            if live.size > K:
                _note(margins, "running_k_boundary", float(live[K - 1] - live[K]))
        # running beams for the next step
        r_lp = (top_v + hits.astype(np.float32) * NEG).astype(np.float32)
        _, nxt = _topk(r_lp, K)
        run_seq = np.take_along_axis(t_seq, nxt[:, :, None], 1)
        run_scores = np.take_along_axis(r_lp, nxt, 1)
        run_bi = np.take_along_axis(t_bi, nxt[:, :, None], 1)
        # finished hypotheses
        did = hits & top_mask[None, :]
        f_lp = (top_v / np.float32((cur + 1 - prompt) ** lp_pow)).astype(np.float32)
        full = finished.all(-1, keepdims=True) & (early is True)
        f_lp = f_lp + full.astype(np.float32) * NEG
        f_lp = f_lp + (~heur).astype(np.float32) * NEG
        f_lp = (f_lp + (~did).astype(np.float32) * NEG).astype(np.float32)
        m_seq = np.concatenate([seqs, t_seq], 1)
        m_sc = np.concatenate([beam_scores, f_lp], 1)
        m_bi = np.concatenate([beam_bi, t_bi], 1)
        m_fin = np.concatenate([finished, did], 1)
        _, keep = _topk(m_sc, K)
        for bb in range(B):  # which finished hypotheses are kept: rank K-1 vs K of the merged scores
            v = np.sort(m_sc[bb][m_sc[bb] > -1e8])[::-1]
            if v.size > K and did[bb].any():
                _note(margins, "finished_k_boundary", float(v[K - 1] - v[K]))
        seqs = np.take_along_axis(m_seq, keep[:, :, None], 1)
        beam_scores = np.take_along_axis(m_sc, keep, 1)
        beam_bi = np.take_along_axis(m_bi, keep[:, :, None], 1)
        finished = np.take_along_axis(m_fin, keep, 1)
        reorder = run_bi[:, :, cur - prompt].reshape(-1)
        cur += 1
        best_len = (max_length - prompt) if (early == "never" and lp_pow > 0) else (cur - prompt)
        best = run_scores[:, :1] / np.float32(best_len ** lp_pow)
        worst = np.where(finished, beam_scores.min(1, keepdims=True), NEG)
        heur = heur & (best > worst).any(-1, keepdims=True)
        if not (heur.any() and not (finished.all() and early is True) and not hits.all()):
            break
        cache = {k: v[reorder] for k, v in cache.items()}
        logits, cache = m.step(ehs, mask_x, run_seq[:, :, cur - 1].reshape(B * K, 1), cache)
    nrs = g["num_return_sequences"] or 1
    seqs = seqs[:, :nrs].reshape(B * nrs, -1)
    scores = beam_scores[:, :nrs].reshape(-1)
    bi = beam_bi[:, :nrs].reshape(B * nrs, -1)
    gen_len = int(((bi + 1) != 0).sum(1).max())
    return seqs[:, : prompt + gen_len], scores


def teacher_forced_diff(model_dir: pathlib.Path, hf_dir: pathlib.Path, cases) -> dict:
    """Max |logits| / |log_softmax| difference ORT decoder_model.onnx vs PyTorch on returned sequences."""
    import torch
    from transformers import AutoModelForSeq2SeqLM
    pt = AutoModelForSeq2SeqLM.from_pretrained(hf_dir).eval()
    so = ort.SessionOptions()
    so.log_severity_level = 3
    enc = ort.InferenceSession(str(model_dir / "onnx" / "encoder_model.onnx"), so)
    dec = ort.InferenceSession(str(model_dir / "onnx" / "decoder_model.onnx"), so)
    dl, dls = 0.0, 0.0
    for c in cases:
        for i, seq in enumerate(c["sequences"]):
            row = i // (len(c["sequences"]) // len(c["input_ids"]))
            ids = np.array([c["input_ids"][row]])
            mask = np.array([c["attention_mask"][row]]) if "attention_mask" in c else np.ones_like(ids)
            s = [t for t in seq]
            while len(s) > 1 and s[-1] == 1:
                s.pop()
            d_in = np.array([s[:-1]])
            ehs = enc.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            o = dec.run(None, {"input_ids": d_in, "encoder_attention_mask": mask, "encoder_hidden_states": ehs})[0]
            with torch.no_grad():
                p = pt(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
                       decoder_input_ids=torch.tensor(d_in)).logits.numpy()
            dl = max(dl, float(np.abs(o - p).max()))
            dls = max(dls, float(np.abs(log_softmax(o) - log_softmax(p)).max()))
    return {"max_abs_logits": dl, "max_abs_log_softmax": dls}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=pathlib.Path, default=REPO / "test/fixtures/models/tiny-distilbart-cnn-6-6")
    ap.add_argument("--hf", type=pathlib.Path, default=REPO / ".cache/models/hf/tiny-distilbart-cnn-6-6",
                    help="HF checkpoint for the teacher-forced comparison (skipped if missing)")
    ap.add_argument("--references", type=pathlib.Path,
                    default=REPO / "test/fixtures/references/summarization.json")
    ap.add_argument("--quantized", action="store_true", help="replay on the *_quantized.onnx files")
    ap.add_argument("--report", type=pathlib.Path, help="write the results as JSON")
    args = ap.parse_args(argv)
    ref = json.loads(args.references.read_text(encoding="utf-8"))
    m = OrtBart(args.model, args.quantized)

    cases = list(ref["cases"])

    def chunk_calls(node, name):
        for w in node.get("windows", []):
            yield {"name": f"{name}/window", "input_ids": [w["input_ids"]], "sequences": w["sequences"],
                   "sequences_scores": w["sequences_scores"]}
        if node.get("chunked") is False:
            yield {"name": f"{name}/direct", "input_ids": [node["input_ids"]], "sequences": node["sequences"],
                   "sequences_scores": node["sequences_scores"]}
        if node.get("resummary"):
            yield from chunk_calls(node["resummary"], name + "/resummary")

    pipe_cfg = None
    for c in cases:
        if c["kind"] == "pipeline":
            pipe_cfg = c["effective_generation_config"]
            break
    for cc in ref.get("chunking_cases", []):
        for call in chunk_calls(cc["result"], cc["name"]):
            call.update(kind="chunk", effective_generation_config=pipe_cfg)
            cases.append(call)

    results, margins, all_ok, max_score_diff = [], {}, True, 0.0
    for c in cases:
        g = c["effective_generation_config"]
        max_length = g["max_length"] if g["max_new_tokens"] is None else g["max_new_tokens"] + 1
        rows = c["input_ids"]
        mask_rows = c.get("attention_mask") or [[1] * len(r) for r in rows]
        width = max(len(r) for r in rows)
        ids = np.array([r + [g["pad_token_id"]] * (width - len(r)) for r in rows], np.int64)
        mask = np.array([mr + [0] * (width - len(mr)) for mr in mask_rows], np.int64)
        case_m = {}
        if g["num_beams"] == 1:
            seqs, scores = greedy(m, ids, mask, g, max_length, case_m)
        else:
            seqs, scores = beam_search(m, ids, mask, g, max_length, case_m)
        got = seqs.tolist()
        same = got == c["sequences"]
        all_ok &= same
        sdiff = None
        if scores is not None and c.get("sequences_scores"):
            sdiff = float(np.max(np.abs(np.array(scores, np.float64) - np.array(c["sequences_scores"]))))
            max_score_diff = max(max_score_diff, sdiff)
        for k, v in case_m.items():
            margins[k] = min(margins.get(k, math.inf), v)
        results.append({"name": c["name"], "token_identical": same, "max_sequences_scores_diff": sdiff,
                        "margins": case_m})
        print(f"{'OK  ' if same else 'DIFF'} {c['name']:40s} score diff {sdiff if sdiff is None else f'{sdiff:.2e}'}"
              f"  margins {', '.join(f'{k}={v:.3g}' for k, v in case_m.items())}")
    tf = None
    if not args.quantized and args.hf.exists():
        tf = teacher_forced_diff(args.model, args.hf, [c for c in ref["cases"]])
    summary = {"onnx_files": "quantized" if args.quantized else "fp32", "cases": len(results),
               "token_identical": sum(r["token_identical"] for r in results),
               "max_sequences_scores_diff": max_score_diff, "min_margins": margins,
               "teacher_forced_ort_vs_pytorch": tf, "results": results}
    print(json.dumps({k: v for k, v in summary.items() if k != "results"}, indent=2))
    if args.report:
        args.report.write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if (all_ok or args.quantized) else 1


if __name__ == "__main__":
    sys.exit(main())
