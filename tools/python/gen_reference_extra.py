"""Extra references for the generation engine (owner: generation/ONNX runtime engineer).

Writes, under test/fixtures/references/:
  extra-topk.json         torch.topk index order on tie-heavy rows (both CPU code paths)
  extra-log-softmax.json  torch.log_softmax outputs on float32 rows (bytes as hex)
  extra-toy-beam.json     HF generate() (transformers 4.57) on a toy encoder-decoder whose logits are
                          an integer hash of (article, decoder prefix) quantised to multiples of 0.25,
                          so they are exact in float32 and full of ties. The TypeScript tests rebuild
                          the same toy model and must produce the same sequences and scores: this
                          isolates the search algorithm from any neural-network numerics.

Run: .venv-tools/bin/python tools/python/gen_reference_extra.py
"""
import json
import os
import random

import torch
from torch import nn
from transformers import BartConfig, GenerationConfig, PreTrainedModel
from transformers.generation import GenerationMixin
from transformers.modeling_outputs import BaseModelOutput, Seq2SeqLMOutput

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "references")


def enc_float(c):
    if c != c:
        return "nan"
    if c == float("inf"):
        return "inf"
    if c == -float("inf"):
        return "-inf"
    return c


def topk_cases():
    rng = random.Random(0)
    cases = []
    # 150 rows keep the file small (the fixture budget is 20 MB) while still covering both torch paths
    for _ in range(150):
        n = rng.choice([2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 20, 24, 33, 64, 100, 129, 200, 257, 513, 1000, 4000])
        k = rng.randint(1, n) if rng.random() < 0.5 else rng.randint(1, max(1, min(n, 16)))
        pool = rng.choice([
            [0.0], [0.0, 1.0], [0.0, 1.0, -1e9], [-1e9, -2e9, -float("inf"), 0.0, -3.5],
            [float(i) for i in range(5)], [0.5, float("nan"), -1.0],
        ])
        row = [rng.choice(pool) for _ in range(n)]
        _, idx = torch.topk(torch.tensor(row, dtype=torch.float32), k)
        cases.append({"row": [enc_float(c) for c in row], "k": k, "indices": idx.tolist()})
    return cases


def log_softmax_cases():
    g = torch.Generator().manual_seed(0)
    cases = []
    for width, scale in [(50264, 3.0), (1000, 5.0), (1000, 0.5), (17, 2.0)]:
        for _ in range(2 if width < 50264 else 1):
            x = (torch.randn(width, generator=g) * scale).float()
            y = torch.log_softmax(x, dim=-1)
            cases.append({"input": x.numpy().tobytes().hex(), "output": y.numpy().tobytes().hex()})
    return cases


# ---- toy encoder-decoder ---------------------------------------------------------------------------
# Keep in sync with test/generation-toy-model.ts.

def article_key(ids, mask):
    """Integer per article from its unpadded tokens."""
    key = 0
    for i, (t, m) in enumerate(zip(ids, mask)):
        if m:
            key = (key * 31 + t * (i + 1)) % 1009
    return key


def toy_logits_row(key, prefix, vocab, eos_ids, q):
    """Next-token logits after decoder `prefix` (list of ints), as exact multiples of 0.25."""
    length = len(prefix)
    last = prefix[-1]
    prev = prefix[-2] if length >= 2 else 0
    out = []
    for v in range(vocab):
        h = (key * 131 + last * 31 + prev * 17 + length * 7 + v * 53 + ((v * v) % 13) * last) % 1021
        out.append((h % q) * 0.25 - 2.0)
    # eos is unlikely except at some lengths, so hypotheses finish at different steps
    for e in eos_ids:
        out[e] += 1.0 if (key + length) % 5 == 0 else -2.5
    return out


class ToyEncoder(nn.Module):
    main_input_name = "input_ids"

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        keys = [article_key(r.tolist(), m.tolist()) for r, m in zip(input_ids, attention_mask)]
        hidden = torch.tensor(keys, dtype=torch.float32).view(-1, 1, 1)
        return BaseModelOutput(last_hidden_state=hidden)


class ToySeq2Seq(PreTrainedModel, GenerationMixin):
    config_class = BartConfig
    main_input_name = "input_ids"

    def __init__(self, config, eos_ids, q):
        super().__init__(config)
        self.encoder = ToyEncoder()
        self.dummy = nn.Parameter(torch.zeros(1))
        self.toy_eos = eos_ids
        self.toy_q = q

    def get_encoder(self):
        return self.encoder

    def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None, encoder_outputs=None,
                past_key_values=None, use_cache=None, return_dict=True, **kwargs):
        keys = encoder_outputs.last_hidden_state.view(-1).tolist()
        rows = []
        for key, dec in zip(keys, decoder_input_ids.tolist()):
            rows.append([toy_logits_row(int(key), dec[: t + 1], self.config.vocab_size, self.toy_eos, self.toy_q)
                         for t in range(len(dec))])
        return Seq2SeqLMOutput(logits=torch.tensor(rows, dtype=torch.float32))


def toy_cases():
    rng = random.Random(1)
    base_inputs = [[0, 5, 9, 14, 2], [0, 7, 7, 3, 8, 11, 2], [0, 4, 2], [0, 12, 6, 10, 13, 9, 5, 2]]
    specs = []
    for num_beams in [2, 3, 4, 5]:
        for lp in [1.0, 2.0, 0.0, -0.5, 0.8]:
            for es in [True, False, "never"]:
                specs.append(dict(num_beams=num_beams, length_penalty=lp, early_stopping=es))
    rng.shuffle(specs)
    specs = specs[:40]
    extra = [
        dict(num_beams=4, length_penalty=2.0, early_stopping=True, no_repeat_ngram_size=3, min_length=12,
             forced_bos_token_id=0, forced_eos_token_id=2, num_return_sequences=4, max_length=24),
        dict(num_beams=4, length_penalty=2.0, early_stopping=True, no_repeat_ngram_size=3, min_length=5,
             forced_bos_token_id=0, forced_eos_token_id=2, max_length=30),
        dict(num_beams=3, length_penalty=1.0, early_stopping=False, no_max_length=True),
        dict(num_beams=1, no_max_length=True, max_position_embeddings=12),
        dict(num_beams=3, length_penalty=1.0, early_stopping=False, no_repeat_ngram_size=2, num_return_sequences=2),
        dict(num_beams=4, length_penalty=1.0, early_stopping="never", min_new_tokens=6, num_return_sequences=3),
        dict(num_beams=2, repetition_penalty=1.3, early_stopping=True),
        dict(num_beams=4, eos_token_id=[2, 3], early_stopping=True, length_penalty=1.5),
        dict(num_beams=3, eos_token_id=[2, 3], early_stopping=False, forced_eos_token_id=[2, 3]),
        dict(num_beams=1),
        dict(num_beams=1, no_repeat_ngram_size=2, min_length=8, max_length=16),
        dict(num_beams=1, repetition_penalty=1.2, forced_bos_token_id=0, forced_eos_token_id=2),
        dict(num_beams=1, eos_token_id=[2, 3], max_new_tokens=9),
        dict(num_beams=4, suppress_tokens=[5, 6], begin_suppress_tokens=[7], early_stopping=True),
    ]
    specs += extra
    # batches where one article closes its finished set (early_stopping=True) while others go on
    for num_beams in [2, 3, 4, 5]:
        for lp in [1.0, 2.0, -1.0]:
            specs.append(dict(num_beams=num_beams, length_penalty=lp, early_stopping=True, max_length=32,
                              batch=3))
    cases = []
    for i, spec in enumerate(specs):
        vocab = rng.choice([11, 23, 40, 600])
        q = rng.choice([3, 5, 9])
        eos = spec.get("eos_token_id", 2)
        eos_ids = eos if isinstance(eos, list) else [eos]
        kwargs = dict(spec)
        batch_size = kwargs.pop("batch", None)
        max_positions = kwargs.pop("max_position_embeddings", 64)
        if not kwargs.pop("no_max_length", False) and "max_new_tokens" not in kwargs:
            kwargs.setdefault("max_length", rng.choice([8, 12, 16, 24, 32]))
        kwargs.setdefault("eos_token_id", 2)
        kwargs.setdefault("pad_token_id", 1)
        kwargs.setdefault("decoder_start_token_id", 2)
        kwargs.setdefault("bos_token_id", 0)
        batch = rng.sample(base_inputs, batch_size or rng.choice([1, 2, 3]))
        length = max(len(r) for r in batch)
        ids = [r + [1] * (length - len(r)) for r in batch]
        mask = [[1] * len(r) + [0] * (length - len(r)) for r in batch]
        config = BartConfig(vocab_size=vocab, d_model=4, encoder_layers=1, decoder_layers=1,
                            encoder_attention_heads=1, decoder_attention_heads=1,
                            max_position_embeddings=max_positions)
        model = ToySeq2Seq(config, eos_ids, q).eval()
        model.generation_config = GenerationConfig()
        with torch.no_grad():
            out = model.generate(torch.tensor(ids), attention_mask=torch.tensor(mask), use_cache=False,
                                 do_sample=False, return_dict_in_generate=True, output_scores=True, **kwargs)
        case = {
            "name": f"toy-{i}",
            "vocab_size": vocab,
            "max_position_embeddings": max_positions,
            "q": q,
            "eos_ids": eos_ids,
            "input_ids": batch,
            "kwargs": kwargs,
            "sequences": out.sequences.tolist(),
        }
        if getattr(out, "sequences_scores", None) is not None:
            case["sequences_scores"] = out.sequences_scores.tolist()
        cases.append(case)
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "extra-topk.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": topk_cases()}, f)
    with open(os.path.join(OUT, "extra-log-softmax.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": log_softmax_cases()}, f)
    import transformers
    with open(os.path.join(OUT, "extra-toy-beam.json"), "w") as f:
        json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "cases": toy_cases()}, f,
                  indent=1)


if __name__ == "__main__":
    main()
