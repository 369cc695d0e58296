#!/usr/bin/env python3
"""Build random-weight HF checkpoints with the exact architectures of the tutorial's models.

Models (HF format: config.json, generation_config.json, model.safetensors, tokenizer files):

  distilbart-cnn-6-6        BartForConditionalGeneration, the published sshleifer/distilbart-cnn-6-6
                            config (d_model 1024, 6+6 layers, 16 heads, FFN 4096, vocab 50264,
                            1024 positions). Plain HF init (std 0.02): never emits EOS.
  distilbert-sst2           DistilBertForSequenceClassification, the published
                            distilbert-base-uncased-finetuned-sst-2-english config.
  tiny-distilbart-cnn-6-6   same class, vocabulary, positions, layer counts and config fields,
                            d_model 8 / FFN 32 / 2 heads (8 keeps all eight ONNX files within the
                            fixture budget: the 50264-row embedding dominates their size), with a *scaled* init so that beam search
                            is numerically well separated (see --help of --eos-bias and README),
                            and an EOS logit bias so that some beams finish early.
  tiny-distilbert-sst2      same class/vocab/positions/layers, dim 16 / FFN 32 / 2 heads.

No weights come from anywhere: everything is drawn from fixed seeds, so the output is
byte-for-byte reproducible on the same torch version.

Example:
  tools/py tools/python/make_models.py --which tiny --out .cache/models/hf
"""
from __future__ import annotations

import argparse
import json
import math
import pathlib
import shutil
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import (  # noqa: E402
    BartConfig,
    BartForConditionalGeneration,
    BartTokenizerFast,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    DistilBertTokenizerFast,
    GenerationConfig,
)

import vocab_sources  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------------------------------------
# Published configurations (field by field as in the hub's config.json files; the values the
# tutorial's behaviour depends on were cross-checked against copies of the published
# config.json / generation_config.json, see tools/README.md).
# ---------------------------------------------------------------------------------------------

SUMMARIZATION_PARAMS = {
    "early_stopping": True,
    "length_penalty": 2.0,
    "max_length": 142,
    "min_length": 56,
    "no_repeat_ngram_size": 3,
    "num_beams": 4,
}


def distilbart_config_dict(*, d_model=1024, ffn=4096, heads=16) -> dict:
    """sshleifer/distilbart-cnn-6-6 config.json (legacy fields kept as published)."""
    return {
        "_num_labels": 3,
        "activation_dropout": 0.0,
        "activation_function": "gelu",
        "add_bias_logits": False,
        "add_final_layer_norm": False,
        "architectures": ["BartForConditionalGeneration"],
        "attention_dropout": 0.0,
        "bos_token_id": 0,
        "classif_dropout": 0.0,
        "classifier_dropout": 0.0,
        "d_model": d_model,
        "decoder_attention_heads": heads,
        "decoder_ffn_dim": ffn,
        "decoder_layerdrop": 0.0,
        "decoder_layers": 6,
        "decoder_start_token_id": 2,
        "dropout": 0.1,
        "early_stopping": True,
        "encoder_attention_heads": heads,
        "encoder_ffn_dim": ffn,
        "encoder_layerdrop": 0.0,
        "encoder_layers": 6,
        "eos_token_id": 2,
        "extra_pos_embeddings": 2,
        "force_bos_token_to_be_generated": True,
        "forced_bos_token_id": 0,
        "forced_eos_token_id": 2,
        "gradient_checkpointing": False,
        "id2label": {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"},
        "init_std": 0.02,
        "is_encoder_decoder": True,
        "label2id": {"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2},
        "length_penalty": 2.0,
        "max_length": 142,
        "max_position_embeddings": 1024,
        "min_length": 56,
        "model_type": "bart",
        "no_repeat_ngram_size": 3,
        "normalize_before": False,
        "normalize_embedding": True,
        "num_beams": 4,
        "num_hidden_layers": 6,
        "output_past": True,
        "pad_token_id": 1,
        "prefix": " ",
        "replacing_rate": 0,
        "scale_embedding": False,
        "static_position_embeddings": False,
        "student_decoder_layers": None,
        "student_encoder_layers": None,
        "task_specific_params": {"summarization": dict(SUMMARIZATION_PARAMS)},
        "torch_dtype": "float32",
        "transformers_version": transformers.__version__,
        "use_cache": True,
        "vocab_size": 50264,
    }


def distilbart_generation_config_dict() -> dict:
    """generation_config.json as published with the ONNX port (derived from the model config)."""
    return {
        "_from_model_config": True,
        "bos_token_id": 0,
        "decoder_start_token_id": 2,
        "early_stopping": True,
        "eos_token_id": 2,
        "forced_bos_token_id": 0,
        "forced_eos_token_id": 2,
        "length_penalty": 2.0,
        "max_length": 142,
        "min_length": 56,
        "no_repeat_ngram_size": 3,
        "num_beams": 4,
        "pad_token_id": 1,
        "transformers_version": transformers.__version__,
    }


def distilbert_config_dict(*, dim=768, hidden_dim=3072, heads=12) -> dict:
    """distilbert-base-uncased-finetuned-sst-2-english config.json."""
    return {
        "activation": "gelu",
        "architectures": ["DistilBertForSequenceClassification"],
        "attention_dropout": 0.1,
        "dim": dim,
        "dropout": 0.1,
        "finetuning_task": "sst-2",
        "hidden_dim": hidden_dim,
        "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},
        "initializer_range": 0.02,
        "label2id": {"NEGATIVE": 0, "POSITIVE": 1},
        "max_position_embeddings": 512,
        "model_type": "distilbert",
        "n_heads": heads,
        "n_layers": 6,
        "output_past": True,
        "pad_token_id": 0,
        "qa_dropout": 0.1,
        "seq_classif_dropout": 0.2,
        "sinusoidal_pos_embds": False,
        "tie_weights_": True,
        "torch_dtype": "float32",
        "transformers_version": transformers.__version__,
        "vocab_size": 30522,
    }


# Model specs: name -> builder settings.
TINY_BART = dict(d_model=8, ffn=32, heads=2)
TINY_BERT = dict(dim=16, hidden_dim=32, heads=2)
SEEDS = {
    "distilbart-cnn-6-6": 1066,
    "distilbert-sst2": 2020,
    "tiny-distilbart-cnn-6-6": 6606,
    "tiny-distilbert-sst2": 5122,
}
# Scaled init of the tiny models (see _scaled_init). EMB_STD is the std of token and position
# embeddings (the LM head is tied to the token embedding, so it also sets the logit scale:
# logit std ~= EMB_STD * sqrt(d_model) because the decoder output is LayerNorm-ed).
TINY_EMB_STD = 2.5
TINY_LINEAR_GAIN = 1.0
# Residual-branch output layers are drawn smaller than variance-preserving so that the six
# post-LN layers do not collapse all positions onto one direction (with gain 1 the decoder
# output was ~identical at every step, cos > 0.99, and EOS could never depend on the input);
# cross-attention gets a larger gain so the summary depends on the article.
TINY_BRANCH_GAIN = 0.35
TINY_CROSS_GAIN = 1.0
TINY_BIAS_STD = 0.02
TINY_CLASSIFIER_GAIN = 4.0
# EOS logit offset for the tiny BART. Without it EOS sits ~36 below the top logit (logit std
# ~6 over 50k tokens). 27 was picked by scanning 24..40 over ten test articles: with it, 4-beam
# search (min_length 30, max_length 142) ends with EOS early for some articles and runs to
# max_length for others, and greedy search sometimes stops right after the forced BOS.
DEFAULT_EOS_BIAS = 27.0


# ---------------------------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------------------------

def build_bart_tokenizer(out: pathlib.Path) -> BartTokenizerFast:
    """Byte-level BPE tokenizer laid out like BART's, saved as BartTokenizerFast does."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "vocab.json").write_text(json.dumps(vocab_sources.bart_vocab(), ensure_ascii=False),
                                        encoding="utf-8")
        (tmp / "merges.txt").write_text("#version: 0.2\n" + "\n".join(vocab_sources.gpt2_merges()) + "\n",
                                        encoding="utf-8")
        tok = BartTokenizerFast(vocab_file=str(tmp / "vocab.json"), merges_file=str(tmp / "merges.txt"),
                                model_max_length=1024)
        tok.save_pretrained(str(out))
    # Sanity: the specials sit where BART has them.
    ids = {t: tok.convert_tokens_to_ids(t) for t in ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]}
    assert ids == {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 50264}, ids
    assert len(tok) == 50265
    return tok


def build_bert_tokenizer(out: pathlib.Path) -> DistilBertTokenizerFast:
    """bert-base-uncased WordPiece (lowercase + strip accents, BERT defaults), max length 512."""
    with tempfile.TemporaryDirectory() as tmp:
        vocab = pathlib.Path(tmp) / "vocab.txt"
        vocab.write_text("\n".join(vocab_sources.bert_vocab_txt()) + "\n", encoding="utf-8")
        tok = DistilBertTokenizerFast(vocab_file=str(vocab), do_lower_case=True, model_max_length=512)
        tok.save_pretrained(str(out))
    assert len(tok) == 30522
    assert tok("Hello, World!")["input_ids"] == [101, 7592, 1010, 2088, 999, 102]
    return tok


# ---------------------------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------------------------

RESIDUAL_OUT_LAYERS = ("out_proj", "fc2", "out_lin", "lin2")  # last Linear of each residual branch


def _scaled_init(model: torch.nn.Module, seed: int, emb_std: float, gain: float,
                 pad_rows: dict[str, int], branch_gain: float, bias_std: float,
                 cross_gain: float = 1.0) -> None:
    """Re-draw every parameter so that activations and logits are O(1)..O(10), not ~0.

    Linear weights ~ N(0, gain^2 / fan_in) (variance preserving), biases ~ N(0, 0.1^2),
    embeddings ~ N(0, emb_std^2) (padding rows zero, as HF does), LayerNorm weight ~ N(1, 0.1^2)
    and bias ~ N(0, 0.1^2). Parameters are visited in name order from one seeded generator.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        seen = set()
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            if id(p) in seen:  # tied weights are drawn once
                continue
            seen.add(id(p))
            mod_name, _, leaf = name.rpartition(".")
            mod = model.get_submodule(mod_name)
            if isinstance(mod, torch.nn.Linear):
                if leaf == "weight":
                    scale = gain * (branch_gain if mod_name.rsplit(".", 1)[-1] in RESIDUAL_OUT_LAYERS else 1.0)
                    if mod_name.endswith("encoder_attn.out_proj"):
                        scale = gain * cross_gain
                    p.copy_(torch.randn(p.shape, generator=g) * (scale / math.sqrt(p.shape[1])))
                else:
                    p.copy_(torch.randn(p.shape, generator=g) * bias_std)
            elif isinstance(mod, torch.nn.Embedding):
                p.copy_(torch.randn(p.shape, generator=g) * emb_std)
                if mod_name in pad_rows:
                    p[pad_rows[mod_name]].zero_()
            elif isinstance(mod, torch.nn.LayerNorm):
                if leaf == "weight":
                    p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
                else:
                    p.copy_(bias_std * torch.randn(p.shape, generator=g))
            else:
                raise RuntimeError(f"unexpected parameter {name} in {type(mod).__name__}")


def _write_json(path: pathlib.Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def build_bart(out: pathlib.Path, *, tiny: bool, eos_bias: float) -> None:
    name = "tiny-distilbart-cnn-6-6" if tiny else "distilbart-cnn-6-6"
    cfg_dict = distilbart_config_dict(**(TINY_BART if tiny else {}))
    config = BartConfig.from_dict({k: v for k, v in cfg_dict.items() if k not in ("transformers_version",)})
    torch.manual_seed(SEEDS[name])
    model = BartForConditionalGeneration(config).eval()
    if tiny:
        _scaled_init(model, SEEDS[name], TINY_EMB_STD, TINY_LINEAR_GAIN,
                     pad_rows={"model.shared": config.pad_token_id},
                     branch_gain=TINY_BRANCH_GAIN, bias_std=TINY_BIAS_STD, cross_gain=TINY_CROSS_GAIN)
        with torch.no_grad():
            model.final_logits_bias.zero_()
            model.final_logits_bias[0, config.eos_token_id] = eos_bias
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    # save_pretrained moves generation fields out of config.json; write the files as published.
    _write_json(out / "config.json", cfg_dict)
    _write_json(out / "generation_config.json", distilbart_generation_config_dict())
    build_bart_tokenizer(out)
    n = sum(p.numel() for p in model.parameters())
    print(f"{name}: {n / 1e6:.2f}M parameters -> {out}")


def build_distilbert(out: pathlib.Path, *, tiny: bool) -> None:
    name = "tiny-distilbert-sst2" if tiny else "distilbert-sst2"
    cfg_dict = distilbert_config_dict(**(TINY_BERT if tiny else {}))
    config = DistilBertConfig.from_dict({k: v for k, v in cfg_dict.items() if k != "transformers_version"})
    torch.manual_seed(SEEDS[name])
    model = DistilBertForSequenceClassification(config).eval()
    if tiny:
        _scaled_init(model, SEEDS[name], 1.0, TINY_LINEAR_GAIN,
                     pad_rows={"distilbert.embeddings.word_embeddings": config.pad_token_id},
                     branch_gain=TINY_BRANCH_GAIN, bias_std=TINY_BIAS_STD)
        with torch.no_grad():  # spread the two logits (~N(0, 2^2)) so labels and scores vary by text
            model.classifier.weight.mul_(TINY_CLASSIFIER_GAIN)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    _write_json(out / "config.json", cfg_dict)
    build_bert_tokenizer(out)
    n = sum(p.numel() for p in model.parameters())
    print(f"{name}: {n / 1e6:.2f}M parameters -> {out}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--which", choices=["tiny", "full", "all"], default="tiny",
                    help="which models to build (default: tiny)")
    ap.add_argument("--out", type=pathlib.Path, default=REPO / ".cache" / "models" / "hf",
                    help="parent directory; each model goes to OUT/<name> (default: .cache/models/hf)")
    ap.add_argument("--eos-bias", type=float, default=DEFAULT_EOS_BIAS,
                    help="final_logits_bias of EOS (id 2) in the tiny BART, so some beams end early "
                         f"(default {DEFAULT_EOS_BIAS})")
    args = ap.parse_args(argv)
    torch.use_deterministic_algorithms(True)
    for tiny in ([True] if args.which == "tiny" else [False] if args.which == "full" else [True, False]):
        for kind in ("bart", "bert"):
            name = {("bart", True): "tiny-distilbart-cnn-6-6", ("bart", False): "distilbart-cnn-6-6",
                    ("bert", True): "tiny-distilbert-sst2", ("bert", False): "distilbert-sst2"}[(kind, tiny)]
            out = args.out / name
            if out.exists():
                shutil.rmtree(out)
            if kind == "bart":
                build_bart(out, tiny=tiny, eos_bias=args.eos_bias)
            else:
                build_distilbert(out, tiny=tiny)
    return 0


if __name__ == "__main__":
    sys.exit(main())
