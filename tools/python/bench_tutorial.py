"""The tutorial's pipeline, timed: the baseline system (a) of `npm run bench`.

What runs is the tutorial's code path as written: two `transformers.pipeline` objects built from
model directories, then for every article, one after the other, the summariser called with
`max_length=300, min_length=30, do_sample=False` on the whole content and the sentiment pipeline on
`content[:2000]`, each inside its own try/except that records `{"error": str(e)}` and goes on (long
articles fail with "index out of range in self", as in the tutorial's own run).

What is added, and why it does not change the work:
  * timers around each pipeline call and around each pipeline's construction;
  * the summary token ids: the pipeline returns only text, so the model's `generate` is wrapped to
    keep the tensor it returns (the exact ids the pipeline decodes; re-tokenising the text would not
    be exact). The wrapper only stores a reference;
  * torch's intra-op threads are set explicitly (default 2, this machine's cores) so runs compare;
  * peak RSS is this process's VmHWM from /proc/self/status, read after the last article.

Usage:
  tools/py tools/python/bench_tutorial.py --articles bench/articles.json \
      --summarizer-model .cache/models/hf/distilbart-cnn-6-6 \
      --sentiment-model .cache/models/hf/distilbert-sst2 --out bench/work/tutorial.json \
      [--phase common=id1,id2 --phase long=id3]

Output: one JSON object in the shape of `RunnerResult` (src/bench/types.ts): load times, per phase
the per-article rows (latencies, summary, token ids, errors), versions, VmHWM. Each phase is timed on
its own; without --phase every article runs in one phase "all". Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time


def vm_status(field: str) -> int | None:
    """A `/proc/self/status` field in kB (VmHWM: peak resident set size), or None off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def log(message: str) -> None:
    print(f"[tutorial] {message}", file=sys.stderr, flush=True)


def reset_peak_rss() -> bool:
    """Sets VmHWM back to the current RSS (so a phase's own peak can be read at its end); False if refused."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


RUN_PEAK_KB = [0]


def run_phase(name, news_items, summarizer, sentiment_analyzer, captured):
    """The tutorial's loop over `news_items`, one article and one expert at a time, timed."""
    RUN_PEAK_KB[0] = max(RUN_PEAK_KB[0], vm_status("VmHWM") or 0)
    reset_worked = reset_peak_rss()
    # Encoder lengths as the pipeline tokenises (its prefix, then <s> ... </s>); outside the timed loop.
    input_tokens = [len(summarizer.tokenizer((summarizer.prefix or "") + item.get("content"))["input_ids"]) for item in news_items]
    rows = []
    run_start = time.perf_counter()
    for i, news_item in enumerate(news_items):
        content = news_item.get("content")
        article_id = news_item.get("id")
        log(f"{name} {i + 1}/{len(news_items)} {article_id}")
        row: dict = {"id": article_id, "input_tokens": input_tokens[i]}
        article_start = time.perf_counter()

        # NewsSummarizationLLMExpert.analyze
        captured.clear()
        t0 = time.perf_counter()
        try:
            summary_outputs = summarizer(content, max_length=300, min_length=30, do_sample=False)
            row["summary"] = summary_outputs[0]["summary_text"]
            if len(captured) != 1:
                raise RuntimeError(f"expected one generate call, saw {len(captured)}")
            ids = captured[0]
            ids = ids.sequences if hasattr(ids, "sequences") else ids
            row["summary_token_ids"] = [int(t) for t in ids[0].tolist()]
            row["generated_tokens"] = len(row["summary_token_ids"]) - 1  # after the decoder start token
            # The pipeline's own postprocess: decode(skip_special_tokens=True, clean_up=False).
            decoded = summarizer.tokenizer.decode(
                row["summary_token_ids"], skip_special_tokens=True, clean_up_tokenization_spaces=False
            )
            row["ids_decode_to_summary"] = decoded == row["summary"]
        except Exception as e:  # the tutorial records the error and goes on
            row["summary_error"] = str(e)
        row["summary_s"] = time.perf_counter() - t0

        # SentimentAnalysisLLMExpert.analyze
        t0 = time.perf_counter()
        try:
            sentiment_outputs = sentiment_analyzer(content[:2000])
            row["sentiment_label"] = sentiment_outputs[0]["label"]
            row["sentiment_score"] = float(sentiment_outputs[0]["score"])
        except Exception as e:
            row["sentiment_error"] = str(e)
        row["sentiment_s"] = time.perf_counter() - t0

        row["latency_s"] = time.perf_counter() - article_start
        row["done_at_s"] = time.perf_counter() - run_start
        rows.append(row)
        status = "error: " + row["summary_error"] if "summary_error" in row else f"{row['summary_s']:.2f}s"
        log(f"  summary {status}; sentiment {row['sentiment_s']:.3f}s")

    run_s = time.perf_counter() - run_start
    phase_peak = vm_status("VmHWM")
    RUN_PEAK_KB[0] = max(RUN_PEAK_KB[0], phase_peak or 0)
    return {"name": name, "run_s": run_s, "rows": rows, "vmhwm_kb": phase_peak if reset_worked else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", required=True, help="JSON array of news items (scraper format)")
    parser.add_argument("--summarizer-model", required=True, help="HF checkpoint directory (BART)")
    parser.add_argument("--sentiment-model", required=True, help="HF checkpoint directory (DistilBERT SST-2)")
    parser.add_argument("--out", required=True, help="where to write the result JSON")
    parser.add_argument(
        "--phase", action="append", default=[], metavar="NAME=ID,ID",
        help="a group of article ids timed on its own (repeatable; default: all articles as phase 'all')",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    args = parser.parse_args()

    started = time.perf_counter()
    import torch  # noqa: E402  (timed: the import is part of what a user waits for)
    import transformers
    from transformers import pipeline

    torch.set_num_threads(args.threads)
    import_s = time.perf_counter() - started

    with open(args.articles, encoding="utf-8") as f:
        news_items = json.load(f)
    by_id = {item.get("id"): item for item in news_items}
    phases = []
    for spec in args.phase:
        name, _, ids = spec.partition("=")
        wanted = [i for i in ids.split(",") if i]
        missing = [i for i in wanted if i not in by_id]
        if missing:
            raise SystemExit(f"bench_tutorial: unknown article ids: {', '.join(missing)}")
        phases.append((name, [by_id[i] for i in wanted]))
    if not phases:
        phases.append(("all", news_items))

    # --- the tutorial's experts, with the model directories in place of the hub ids ---
    t0 = time.perf_counter()
    summarizer = pipeline("summarization", model=args.summarizer_model, tokenizer=args.summarizer_model)
    summarizer_load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sentiment_analyzer = pipeline("sentiment-analysis", model=args.sentiment_model, tokenizer=args.sentiment_model)
    sentiment_load_s = time.perf_counter() - t0

    # Keep the ids `generate` returns (see the module docstring).
    captured: list = []
    original_generate = summarizer.model.generate

    def capturing_generate(*a, **kw):
        output = original_generate(*a, **kw)
        captured.append(output)
        return output

    summarizer.model.generate = capturing_generate

    rss_after_load_kb = vm_status("VmRSS")
    phase_results = []
    for phase_name, phase_items in phases:
        phase_results.append(run_phase(phase_name, phase_items, summarizer, sentiment_analyzer, captured))

    result = {
        "system": "tutorial-python",
        "latency_kind": "service",
        "import_s": import_s,
        "load_s": {"summarizer": summarizer_load_s, "sentiment": sentiment_load_s},
        "phases": phase_results,
        "rss_after_load_kb": rss_after_load_kb,
        "vmhwm_kb": max(RUN_PEAK_KB[0], vm_status("VmHWM") or 0) or None,
        "vmrss_kb": vm_status("VmRSS"),
        "peak_rss_source": "/proc/self/status VmHWM: per phase (reset at its start through /proc/self/clear_refs) and over the whole run",
        "threads": torch.get_num_threads(),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
        "generation": {
            "call": {"max_length": 300, "min_length": 30, "do_sample": False},
            "resolved": {
                k: getattr(summarizer.generation_config, k)
                for k in ("num_beams", "length_penalty", "no_repeat_ngram_size", "early_stopping", "forced_bos_token_id", "forced_eos_token_id")
            },
        },
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
    log(f"done; VmHWM {result['vmhwm_kb']} kB")


if __name__ == "__main__":
    main()
