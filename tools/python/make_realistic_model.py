#!/usr/bin/env python3
"""A realistic-length variant of the full-size random-weight distilbart, and the measurement that picks it.

The full-size random-weight BART (make_models.py --which full) never emits the end token: every summary
runs to max_length, and every article of a batch ends at the same step. Real distilbart-cnn summaries end
at EOS, at a different length for each article. This script changes two sets of weights so that the
tutorial's beam search ends each summary at its own length:

  * the end token's logit bias, `final_logits_bias[0, eos] = BIAS`: with it alone (one constant) the
    lengths bunch up; measured on the bench's 50 common articles (news-moe fp32, token-identical to
    the tutorial), 2.3 gave median 59 but only 10% under 50, 2.4 gave 32% under 50 but 2% over 110,
    2.5 median 47 and nothing over 88 (a tenth of a logit moves the whole distribution);
  * a length prior in the decoder's position embeddings: row L+1 of `decoder.embed_positions` (the
    input position whose logits choose the L-th generated token; BART's table is offset by 2) gets
    `schedule(L) / C * unit(e_eos)`, a component along the end token's (tied) output direction. The
    decoder carries it to its last hidden state, so the end token's log-probability at length L moves
    by about schedule(L): C = 9 is measured (teacher-forced on 6 bench articles, +0.1 on every row
    moved the end token's log-probability by 0.89-0.92, +0.3 by 2.45-2.52). The schedule: EARLY
    before 50 tokens (summaries that end early), MID from 50 to 119 (the long tail), then rising
    linearly to +1.0 at 200 tokens and on to +1.5, so that no summary reaches the 300-token cap.

Both are plain weights of the published architecture: the files, graphs and the tutorial's code are
unchanged, and the lengths are a deterministic property of the checkpoint.

Two jobs:

  --measure B1,B2,...   for each bias (with --early/--mid), run the tutorial's own pipeline call
                        (bench_tutorial.py: `summarizer(content, max_length=300, min_length=30,
                        do_sample=False)` with the model's task parameters: 4 beams, length_penalty 2,
                        no_repeat_ngram_size 3) on every article the tutorial can take (encoder input
                        <= 1,024 tokens) and report the generated-length distribution against the
                        bench's targets (median 50-90, >= 20% under 50, >= 10% over 110, none at the 300
                        cap). Slow on 2 cores (~20 s an article); --limit N for a first look.
  --bias B --out DIR    write the checkpoint (config, generation config, tokenizer files from --base)
                        plus realistic_length.json recording the base's hash and every setting.

Usage:
  tools/py tools/python/make_realistic_model.py --measure 2.3 --limit 10 --report /tmp/lengths.json
  tools/py tools/python/make_realistic_model.py --bias 2.3 --out .cache/models/hf/distilbart-cnn-6-6-realistic
(tools/make-realistic-model.sh does the second and the ONNX export.)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import shutil
import statistics
import sys
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_BASE = ROOT / ".cache" / "models" / "hf" / "distilbart-cnn-6-6"
DEFAULT_ARTICLES = ROOT / "bench" / "articles-realistic.json"
# The tutorial's call (bench_tutorial.py) on top of the model's task_specific_params["summarization"].
TUTORIAL_CALL = {"max_length": 300, "min_length": 30, "do_sample": False}
MAX_POSITIONS = 1024
# BartLearnedPositionalEmbedding: row = position + 2.
POSITION_OFFSET = 2
# End-token log-probability moved per unit of unit(e_eos) added to every decoder position row (measured).
LOGPROB_PER_UNIT = 9.0
DEFAULT_BIAS = 2.3
DEFAULT_EARLY = 0.14
DEFAULT_MID = -0.35

# What the bench needs from the lengths (issue 22, item 1).
TARGET_MEDIAN = (50, 90)
TARGET_SHARE_UNDER_50 = 0.20
TARGET_SHARE_OVER_110 = 0.10


def log(message: str) -> None:
    print(f"[realistic] {message}", file=sys.stderr, flush=True)


def file_sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def display_path(path: pathlib.Path) -> str:
    """The path relative to the repository when it is inside it (.cache is often a link elsewhere)."""
    try:
        return str(path.absolute().relative_to(ROOT))
    except ValueError:
        return str(path)


def schedule(length: int, early: float, mid: float) -> float:
    """How far the end token's log-probability moves when choosing the length-th generated token."""
    if length < 50:
        return early
    if length < 120:
        return mid
    return min(1.5, mid + (length - 120) * (1.0 - mid) / 80)


def load_model(base: pathlib.Path):
    import torch
    import transformers
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    transformers.logging.set_verbosity_error()
    warnings.filterwarnings("ignore")
    model = AutoModelForSeq2SeqLM.from_pretrained(base)
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(base)
    return torch, model, tokenizer


class LengthWeights:
    """The two changes, applied to a loaded model from the base checkpoint's values (so re-applying is exact)."""

    def __init__(self, torch, model):
        self.torch = torch
        self.model = model
        self.eos = model.config.eos_token_id
        self.base_bias = float(model.final_logits_bias[0, self.eos])
        self.base_positions = model.model.decoder.embed_positions.weight.detach().clone()
        row = model.get_input_embeddings().weight[self.eos].detach()
        self.direction = row / row.norm()

    def apply(self, bias: float, early: float, mid: float) -> None:
        with self.torch.no_grad():
            self.model.final_logits_bias[0, self.eos] = bias
            positions = self.base_positions.clone()
            for length in range(1, MAX_POSITIONS):
                # Generated token `length` is chosen at input position length - 1.
                positions[length - 1 + POSITION_OFFSET] += (schedule(length, early, mid) / LOGPROB_PER_UNIT) * self.direction
            self.model.model.decoder.embed_positions.weight.copy_(positions)


def distribution(lengths: list[int], cap: int) -> dict:
    """The numbers the bench's targets are stated in."""
    ordered = sorted(lengths)
    n = len(ordered)
    median = statistics.median(ordered)
    under_50 = sum(1 for x in ordered if x < 50) / n
    over_110 = sum(1 for x in ordered if x > 110) / n
    at_cap = sum(1 for x in ordered if x >= cap - 1)
    deciles = statistics.quantiles(ordered, n=10, method="inclusive") if n > 1 else [ordered[0]] * 9
    return {
        "articles": n,
        "min": ordered[0],
        "p10": deciles[0],
        "median": median,
        "p90": deciles[-1],
        "max": ordered[-1],
        "mean": sum(ordered) / n,
        "share_under_50": under_50,
        "share_over_110": over_110,
        "at_cap": at_cap,
        "meets_targets": TARGET_MEDIAN[0] <= median <= TARGET_MEDIAN[1]
        and under_50 >= TARGET_SHARE_UNDER_50
        and over_110 >= TARGET_SHARE_OVER_110
        and at_cap == 0,
    }


def tutorial_articles(articles_path: pathlib.Path, tokenizer, prefix: str, limit: int | None) -> list[dict]:
    """The articles the tutorial's pipeline can summarise whole (its encoder takes at most 1,024 tokens)."""
    with open(articles_path, encoding="utf-8") as f:
        items = json.load(f)
    kept = []
    for item in items:
        n = len(tokenizer(prefix + item["content"])["input_ids"])
        if n <= MAX_POSITIONS:
            kept.append({"id": item["id"], "content": item["content"], "input_tokens": n})
    return kept[:limit] if limit else kept


def measure(args) -> int:
    torch, model, tokenizer = load_model(args.base)
    torch.set_num_threads(args.threads)
    from transformers import pipeline

    summarizer = pipeline("summarization", model=model, tokenizer=tokenizer)
    prefix = summarizer.prefix or model.config.prefix or ""
    articles = tutorial_articles(args.articles, tokenizer, prefix, args.limit)
    weights = LengthWeights(torch, model)
    log(f"{len(articles)} articles the tutorial can take; biases {args.measure}; schedule early {args.early}, mid {args.mid}")

    captured: list = []
    original_generate = model.generate

    def capturing_generate(*a, **kw):
        output = original_generate(*a, **kw)
        captured.append(output)
        return output

    model.generate = capturing_generate
    report = {
        "base": str(args.base),
        "articles_file": str(args.articles),
        "call": TUTORIAL_CALL,
        "task_params": model.config.task_specific_params["summarization"],
        "schedule": {"early": args.early, "mid": args.mid, "logprob_per_unit": LOGPROB_PER_UNIT},
        "threads": args.threads,
        "targets": {"median": TARGET_MEDIAN, "share_under_50": TARGET_SHARE_UNDER_50, "share_over_110": TARGET_SHARE_OVER_110, "at_cap": 0},
        "biases": [],
    }
    for bias in args.measure:
        weights.apply(bias, args.early, args.mid)
        started = time.perf_counter()
        lengths: dict[str, int] = {}
        # Exactly the tutorial's call, one article at a time; the ids come from `generate` itself.
        for i, item in enumerate(articles):
            captured.clear()
            summarizer(item["content"], **TUTORIAL_CALL)
            ids = captured[0].sequences if hasattr(captured[0], "sequences") else captured[0]
            lengths[item["id"]] = int(ids.shape[1]) - 1  # after the decoder start token
            log(f"bias {bias}: {i + 1}/{len(articles)} {item['id']} -> {lengths[item['id']]} tokens")
        stats = distribution(list(lengths.values()), TUTORIAL_CALL["max_length"])
        stats.update(bias=bias, seconds=time.perf_counter() - started, lengths=lengths)
        report["biases"].append(stats)
        log(
            f"bias {bias}: median {stats['median']}, p10 {stats['p10']:.0f}, p90 {stats['p90']:.0f}, "
            f"min {stats['min']}, max {stats['max']}, under 50 {stats['share_under_50']:.0%}, "
            f"over 110 {stats['share_over_110']:.0%}, at cap {stats['at_cap']}; "
            f"{'meets' if stats['meets_targets'] else 'misses'} the targets ({stats['seconds']:.0f} s)"
        )
        if args.report:
            args.report.parent.mkdir(parents=True, exist_ok=True)
            args.report.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


def write_variant(args) -> int:
    torch, model, tokenizer = load_model(args.base)
    weights = LengthWeights(torch, model)
    weights.apply(args.bias, args.early, args.mid)
    if args.out.exists():
        shutil.rmtree(args.out)
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    # generation_config.json as the base has it (save_pretrained may rewrite fields).
    if (args.base / "generation_config.json").exists():
        shutil.copy2(args.base / "generation_config.json", args.out / "generation_config.json")
    record = {
        "what": (
            "the base checkpoint with final_logits_bias[0, eos] = bias and, for every generated length L, "
            "decoder.embed_positions row L+1 plus schedule(L) / logprob_per_unit * unit(end token's embedding row); "
            "every other weight unchanged (tools/python/make_realistic_model.py)"
        ),
        "base": display_path(args.base),
        "base_model_sha256": file_sha256(args.base / "model.safetensors"),
        "eos_token_id": weights.eos,
        "base_bias": weights.base_bias,
        "bias": args.bias,
        "schedule": {"early (L < 50)": args.early, "mid (50 <= L < 120)": args.mid, "then": "linear to +1.0 at L = 200, at most +1.5"},
        "logprob_per_unit": LOGPROB_PER_UNIT,
    }
    (args.out / "realistic_length.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {args.out} (final_logits_bias[{weights.eos}] = {args.bias}; schedule early {args.early}, mid {args.mid})")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--base", type=pathlib.Path, default=DEFAULT_BASE, help="the full-size HF checkpoint (default .cache/models/hf/distilbart-cnn-6-6)")
    job = ap.add_mutually_exclusive_group(required=True)
    job.add_argument("--measure", type=lambda s: [float(x) for x in s.split(",") if x], help="comma-separated end-token biases to measure")
    job.add_argument("--bias", type=float, nargs="?", const=DEFAULT_BIAS, help=f"write the variant with this end-token bias (default {DEFAULT_BIAS})")
    ap.add_argument("--early", type=float, default=DEFAULT_EARLY, help=f"length prior before 50 tokens (default {DEFAULT_EARLY})")
    ap.add_argument("--mid", type=float, default=DEFAULT_MID, help=f"length prior from 50 to 119 tokens (default {DEFAULT_MID})")
    ap.add_argument("--out", type=pathlib.Path, help="output checkpoint directory (replaced), with --bias")
    ap.add_argument("--articles", type=pathlib.Path, default=DEFAULT_ARTICLES, help="bench articles (default bench/articles-realistic.json)")
    ap.add_argument("--limit", type=int, help="only the first N articles the tutorial can take")
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    ap.add_argument("--report", type=pathlib.Path, help="write the measured distributions as JSON")
    args = ap.parse_args(argv)
    if args.measure is not None:
        return measure(args)
    if args.out is None:
        ap.error("--bias needs --out")
    return write_variant(args)


if __name__ == "__main__":
    sys.exit(main())
