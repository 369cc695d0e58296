#!/usr/bin/env python3
"""Export an HF checkpoint (BART seq2seq or DistilBERT classifier) to the transformers.js layout.

Output layout (the one of Xenova/distilbart-cnn-6-6 and
Xenova/distilbert-base-uncased-finetuned-sst-2-english):

  OUT/config.json, generation_config.json (seq2seq), tokenizer.json, tokenizer_config.json,
      special_tokens_map.json, quantize_config.json (with --quantize)
  OUT/onnx/
    classifier: model.onnx                      in: input_ids, attention_mask (int64)   out: logits
    seq2seq:    encoder_model.onnx              in: input_ids, attention_mask           out: last_hidden_state
                decoder_model.onnx              in: input_ids, encoder_attention_mask, encoder_hidden_states
                                                out: logits, present.{i}.decoder.key/value,
                                                     present.{i}.encoder.key/value
                decoder_with_past_model.onnx    in: input_ids, encoder_attention_mask,
                                                    past_key_values.{i}.decoder.key/value,
                                                    past_key_values.{i}.encoder.key/value
                                                out: logits, present.{i}.decoder.key/value
                decoder_model_merged.onnx       in: union of the two above + use_cache_branch (bool[1])
                                                out: logits + all present.* (in the with-past branch the
                                                     present.{i}.encoder.* are empty [0,heads,1,head_dim]:
                                                     keep the cross-attention cache from the first step)
    each also as *_quantized.onnx with --quantize (dynamic int8, transformers.js' settings).

KV tensors are [batch, heads, seq, head_dim]; batch and all sequence lengths are dynamic.
After exporting, every file is loaded in onnxruntime and compared with PyTorch; the max abs
differences are printed and the run fails if an fp32 file differs by more than --tol.

Example:
  tools/py tools/python/export_onnx.py --model .cache/models/hf/tiny-distilbart-cnn-6-6 \\
      --out test/fixtures/models/tiny-distilbart-cnn-6-6 --quantize
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import shutil
import sys
import tempfile
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import helper, numpy_helper

warnings.filterwarnings("ignore", category=UserWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)

import transformers  # noqa: E402
from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoModelForSequenceClassification  # noqa: E402
from transformers.cache_utils import DynamicCache, EncoderDecoderCache  # noqa: E402

transformers.logging.set_verbosity_error()

DEFAULT_OPSET = 17
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "vocab.json", "merges.txt", "vocab.txt"]

# Dynamic int8 quantization as transformers.js' converter (scripts/convert.py, v2 line, which
# produced the published Xenova/distilbart-cnn-6-6 and ...sst-2 files) runs it:
# onnxruntime.quantization.quantize_dynamic with weight_type QInt8 (QUInt8 only for graphs
# with Conv, none here), per_channel=True and reduce_range=True for bart/distilbert
# (its DEFAULT_QUANTIZE_PARAMS), default op types, extra_options EnableSubgraph=True so the
# branches of the merged decoder's If are quantized too.
QUANTIZE_PARAMS = {"per_channel": True, "reduce_range": True}


# ---------------------------------------------------------------------------------------------
# Wrappers: plain-tensor signatures around the HF modules, for tracing.
# ---------------------------------------------------------------------------------------------

class EncoderWrapper(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.encoder = model.get_encoder()

    def forward(self, input_ids, attention_mask):
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask, return_dict=True).last_hidden_state


def _flatten_cache(cache: EncoderDecoderCache, n_layers: int, with_encoder: bool):
    out = []
    for i in range(n_layers):
        sa = cache.self_attention_cache.layers[i]
        out += [sa.keys, sa.values]
        if with_encoder:
            ca = cache.cross_attention_cache.layers[i]
            out += [ca.keys, ca.values]
    return out


class DecoderWrapper(torch.nn.Module):
    """First decoder step(s): no past; returns logits and the full (self + cross) cache."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.n_layers = model.config.decoder_layers

    def forward(self, input_ids, encoder_attention_mask, encoder_hidden_states):
        cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
        out = self.model(decoder_input_ids=input_ids, attention_mask=encoder_attention_mask,
                         encoder_outputs=(encoder_hidden_states,), past_key_values=cache,
                         use_cache=True, return_dict=True)
        return (out.logits, *_flatten_cache(out.past_key_values, self.n_layers, with_encoder=True))


class DecoderWithPastWrapper(torch.nn.Module):
    """Later steps: takes the whole cache, returns logits and the grown self-attention cache.

    The encoder states are not an input (cross-attention keys/values come from the cache), as
    in optimum's export; a placeholder tensor only tells the HF layers to run cross-attention.
    """

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.n_layers = model.config.decoder_layers

    def forward(self, input_ids, encoder_attention_mask, *past):
        legacy = tuple(tuple(past[4 * i: 4 * i + 4]) for i in range(self.n_layers))
        cache = EncoderDecoderCache.from_legacy_cache(legacy)
        placeholder = past[2].new_zeros(1, 1, 1)  # only its "is not None" matters
        out = self.model(decoder_input_ids=input_ids, attention_mask=encoder_attention_mask,
                         encoder_outputs=(placeholder,), past_key_values=cache,
                         use_cache=True, return_dict=True)
        return (out.logits, *_flatten_cache(out.past_key_values, self.n_layers, with_encoder=False))


class ClassifierWrapper(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=True).logits


# ---------------------------------------------------------------------------------------------
# Names and dynamic axes
# ---------------------------------------------------------------------------------------------

def past_names(n_layers, prefix, with_encoder=True):
    names = []
    for i in range(n_layers):
        names += [f"{prefix}.{i}.decoder.key", f"{prefix}.{i}.decoder.value"]
        if with_encoder:
            names += [f"{prefix}.{i}.encoder.key", f"{prefix}.{i}.encoder.value"]
    return names


def _axes_for(name: str, *, past_len_name: str, present_len_name: str) -> dict:
    if name.endswith("decoder.key") or name.endswith("decoder.value"):
        return {0: "batch_size", 2: present_len_name if name.startswith("present") else past_len_name}
    if name.endswith("encoder.key") or name.endswith("encoder.value"):
        return {0: "batch_size", 2: "encoder_sequence_length_out"}
    raise KeyError(name)


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------

def _export(module, args, path: pathlib.Path, input_names, output_names, dynamic_axes, opset):
    # A fresh wrapper is in training mode; torch.onnx.export would restore that mode afterwards
    # and, recursively, switch the wrapped HF model to training (dropout on). Keep both in eval.
    module.eval()
    with torch.no_grad():
        torch.onnx.export(module, args, str(path), input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=opset, do_constant_folding=True,
                          dynamo=False)
    module.eval()
    model = onnx.load(str(path))
    got_in = [i.name for i in model.graph.input]
    got_out = [o.name for o in model.graph.output]
    if got_in != list(input_names) or got_out != list(output_names):
        raise RuntimeError(f"{path.name}: exporter produced inputs {got_in} outputs {got_out}")
    return model


def tie_transposed_weights(model: onnx.ModelProto) -> int:
    """Store a weight shared by an embedding Gather and the tied LM head MatMul only once.

    The TorchScript exporter constant-folds the LM head's transpose of the embedding matrix into
    a second initializer. Replace that copy with a Transpose node of the Gather's initializer
    (the same repair optimum makes), which halves the decoder files. Returns the number tied.
    """
    inits = {i.name: i for i in model.graph.initializer}
    gather_weights = {n.input[0] for n in model.graph.node if n.op_type == "Gather" and n.input[0] in inits}
    by_key = {}
    for name in gather_weights:
        arr = numpy_helper.to_array(inits[name])
        if arr.ndim == 2:
            by_key[(arr.T.shape, hashlib.sha256(np.ascontiguousarray(arr.T).tobytes()).hexdigest())] = name
    tied = 0
    for init in list(model.graph.initializer):
        if init.name in gather_weights or len(init.dims) != 2:
            continue
        arr = numpy_helper.to_array(init)
        key = (arr.shape, hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest())
        if key not in by_key:
            continue
        src = by_key[key]
        t_out = f"{src}_transposed"
        users = [i for i, n in enumerate(model.graph.node) if init.name in n.input]
        model.graph.node.insert(users[0], helper.make_node("Transpose", [src], [t_out], name=f"{src}_Transpose",
                                                           perm=[1, 0]))
        for n in model.graph.node:
            for j, x in enumerate(n.input):
                if x == init.name:
                    n.input[j] = t_out
        model.graph.initializer.remove(init)
        tied += 1
    return tied


def _save(model: onnx.ModelProto, path: pathlib.Path):
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def export_seq2seq(model, onnx_dir: pathlib.Path, opset: int):
    cfg = model.config
    n_layers = cfg.decoder_layers
    heads = cfg.decoder_attention_heads
    head_dim = cfg.d_model // heads
    # Example inputs: batch 2, encoder length 9, decoder lengths 3 (no past) / 1 after 4 past.
    ids = torch.tensor([[0, 100, 200, 300, 400, 500, 600, 700, 2], [0, 110, 210, 310, 2, 1, 1, 1, 1]])
    mask = (ids != cfg.pad_token_id).long()
    enc = EncoderWrapper(model).eval()
    with torch.no_grad():
        ehs = enc(ids, mask)

    # encoder_model.onnx
    _export(enc, (ids, mask), onnx_dir / "encoder_model.onnx", ["input_ids", "attention_mask"],
            ["last_hidden_state"],
            {"input_ids": {0: "batch_size", 1: "encoder_sequence_length"},
             "attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
             "last_hidden_state": {0: "batch_size", 1: "encoder_sequence_length"}}, opset)

    # decoder_model.onnx
    dec_ids = torch.tensor([[2, 0, 500], [2, 0, 600]])
    present_all = past_names(n_layers, "present", with_encoder=True)
    axes = {"input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
            "encoder_attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
            "encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length"},
            "logits": {0: "batch_size", 1: "decoder_sequence_length"}}
    for n in present_all:
        axes[n] = _axes_for(n, past_len_name="", present_len_name="decoder_sequence_length")
    dec = _export(DecoderWrapper(model), (dec_ids, mask, ehs), onnx_dir / "decoder_model.onnx",
                  ["input_ids", "encoder_attention_mask", "encoder_hidden_states"], ["logits", *present_all],
                  axes, opset)

    # decoder_with_past_model.onnx
    with torch.no_grad():
        past = DecoderWrapper(model).eval()(torch.tensor([[2, 0, 500, 501], [2, 0, 600, 601]]), mask, ehs)[1:]
    past_in = past_names(n_layers, "past_key_values", with_encoder=True)
    present_dec = past_names(n_layers, "present", with_encoder=False)
    axes = {"input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
            "encoder_attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
            "logits": {0: "batch_size", 1: "decoder_sequence_length"}}
    for n in past_in:
        axes[n] = _axes_for(n, past_len_name="past_decoder_sequence_length", present_len_name="")
    for n in present_dec:
        axes[n] = _axes_for(n, past_len_name="", present_len_name="past_decoder_sequence_length + 1")
    dwp = _export(DecoderWithPastWrapper(model), (torch.tensor([[7], [8]]), mask, *past),
                  onnx_dir / "decoder_with_past_model.onnx", ["input_ids", "encoder_attention_mask", *past_in],
                  ["logits", *present_dec], axes, opset)

    for m, name in [(dec, "decoder_model.onnx"), (dwp, "decoder_with_past_model.onnx")]:
        n = tie_transposed_weights(m)
        print(f"  {name}: tied {n} transposed LM-head weight(s) to the embedding")
        _save(m, onnx_dir / name)

    merged = merge_decoders(onnx.load(str(onnx_dir / "decoder_model.onnx")),
                            onnx.load(str(onnx_dir / "decoder_with_past_model.onnx")),
                            heads=heads, head_dim=head_dim)
    _save(merged, onnx_dir / "decoder_model_merged.onnx")
    return ["encoder_model", "decoder_model", "decoder_with_past_model", "decoder_model_merged"]


def export_classifier(model, onnx_dir: pathlib.Path, opset: int):
    ids = torch.tensor([[101, 2000, 3000, 4000, 102], [101, 2500, 102, 0, 0]])
    mask = (ids != 0).long()
    _export(ClassifierWrapper(model), (ids, mask), onnx_dir / "model.onnx", ["input_ids", "attention_mask"],
            ["logits"], {"input_ids": {0: "batch_size", 1: "sequence_length"},
                         "attention_mask": {0: "batch_size", 1: "sequence_length"},
                         "logits": {0: "batch_size"}}, opset)
    return ["model"]


# ---------------------------------------------------------------------------------------------
# Merging the two decoders into one graph with an If (own implementation of the idea behind
# optimum's merge_decoders: shared weights stored once in the outer graph).
# ---------------------------------------------------------------------------------------------

def _tensor_key(t: onnx.TensorProto):
    arr = numpy_helper.to_array(t)
    return (t.data_type, tuple(t.dims), hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest())


def _rename_inputs(graph: onnx.GraphProto, mapping: dict):
    for node in graph.node:
        for j, x in enumerate(node.input):
            if x in mapping:
                node.input[j] = mapping[x]
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                _rename_inputs(attr.g, mapping)


def merge_decoders(no_past: onnx.ModelProto, with_past: onnx.ModelProto, *, heads: int, head_dim: int):
    outer_inits = {}  # key -> TensorProto (renamed)
    used_names = set()
    branches = []
    for tag, m in (("no_past", no_past), ("with_past", with_past)):
        g = m.graph
        mapping = {}
        keep_local = []
        for init in g.initializer:
            small = len(init.dims) == 0 or (len(init.dims) == 1 and init.data_type in (6, 7))
            if small:  # scalars / shape constants stay in their branch, renamed per branch
                new = f"{tag}/{init.name}"
                mapping[init.name] = new
                local = onnx.TensorProto()
                local.CopyFrom(init)
                local.name = new
                keep_local.append(local)
                continue
            key = _tensor_key(init)
            if key not in outer_inits:
                name = init.name if init.name not in used_names else f"{init.name}__{len(used_names)}"
                used_names.add(name)
                shared = onnx.TensorProto()
                shared.CopyFrom(init)
                shared.name = name
                outer_inits[key] = shared
            mapping[init.name] = outer_inits[key].name
        _rename_inputs(g, mapping)
        branches.append((tag, g, keep_local))

    (_, g_np, loc_np), (_, g_wp, loc_wp) = branches
    out_np = list(g_np.output)
    names_wp = {o.name for o in g_wp.output}
    wp_nodes = list(g_wp.node)
    wp_outputs = []
    for o in out_np:
        if o.name in names_wp:
            wp_outputs.append(next(x for x in g_wp.output if x.name == o.name))
        else:  # present.{i}.encoder.*: constant empty tensor in the with-past branch
            empty = helper.make_tensor("empty", onnx.TensorProto.FLOAT, [0, heads, 1, head_dim], vals=[])
            wp_nodes.append(helper.make_node("Constant", [], [o.name], name=f"with_past/{o.name}/Constant",
                                             value=empty))
            wp_outputs.append(o)

    # Branch outputs carry the declared (symbolic) types of the no-past decoder.
    def _vi(o):
        t = o.type.tensor_type
        dims = [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim]
        return helper.make_tensor_value_info(o.name, t.elem_type, dims)

    then_g = helper.make_graph(wp_nodes, "with_past", [], [_vi(o) for o in wp_outputs], initializer=loc_wp)
    else_g = helper.make_graph(list(g_np.node), "no_past", [], [_vi(o) for o in out_np], initializer=loc_np)

    inputs, seen = [], set()
    for g in (g_np, g_wp):
        for i in g.input:
            if i.name not in seen:
                seen.add(i.name)
                inputs.append(i)
    # past inputs of the no-past call may be empty: give every past seq axis a symbolic name
    flag = helper.make_tensor_value_info("use_cache_branch", onnx.TensorProto.BOOL, [1])
    if_node = helper.make_node("If", ["use_cache_branch"], [o.name for o in out_np], name="merged_decoder_if",
                               then_branch=then_g, else_branch=else_g)
    graph = helper.make_graph([if_node], "merged_decoder", [*inputs, flag], [_vi(o) for o in out_np],
                              initializer=list(outer_inits.values()))
    opsets = {}
    for m in (no_past, with_past):
        for op in m.opset_import:
            opsets[op.domain] = max(opsets.get(op.domain, 0), op.version)
    merged = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()],
                               producer_name="news-moe tools/python/export_onnx.py")
    merged.ir_version = no_past.ir_version
    return merged


# ---------------------------------------------------------------------------------------------
# Quantization
# ---------------------------------------------------------------------------------------------

def untie_transposed_weights(model: onnx.ModelProto) -> int:
    """Undo `tie_transposed_weights` before int8 quantization: the LM head gets its own initializer.

    Tied, the quantizer sees the LM head's weight as the output of a Transpose and leaves it as a
    DequantizeLinear of the whole embedding matrix that runs on every decoder step (43 ms of an
    84 ms step at 4 rows on full size). Untied, it becomes an int8 MatMulInteger like every other
    projection, for vocab x d_model more bytes in the file. Returns the number untied.
    """
    inits = {i.name: i for i in model.graph.initializer}
    added = set()
    untied = 0

    def walk(graph):
        nonlocal untied
        for node in list(graph.node):
            for a in node.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
            perm = [list(a.ints) for a in node.attribute if a.name == "perm"]
            if node.op_type != "Transpose" or node.input[0] not in inits or perm != [[1, 0]]:
                continue
            if node.output[0] not in added:
                arr = np.ascontiguousarray(numpy_helper.to_array(inits[node.input[0]]).T)
                model.graph.initializer.append(numpy_helper.from_array(arr, node.output[0]))
                added.add(node.output[0])
            graph.node.remove(node)
            untied += 1

    walk(model.graph)
    return untied


def quantize_file(src: pathlib.Path, dst: pathlib.Path, untie_lm_head: bool = True):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    ops = set()

    def walk(g):
        for n in g.node:
            ops.add(n.op_type)
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)

    model = onnx.load(str(src))
    walk(model.graph)
    weight_type = QuantType.QUInt8 if "Conv" in ops else QuantType.QInt8
    untied = untie_transposed_weights(model) if untie_lm_head else 0
    with tempfile.TemporaryDirectory() as tmp:
        source = src
        if untied:
            source = pathlib.Path(tmp) / src.name
            onnx.save(model, str(source))
        quantize_dynamic(model_input=str(source), model_output=str(dst), weight_type=weight_type,
                         extra_options={"EnableSubgraph": True}, **QUANTIZE_PARAMS)
    return {"op_types": sorted(ops), "weight_type": str(weight_type), **({"lm_head_untied": untied} if untied else {})}


# ---------------------------------------------------------------------------------------------
# Verification against PyTorch
# ---------------------------------------------------------------------------------------------

def _session(path):
    so = ort.SessionOptions()
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def _check_io(sess, path, want_in, want_out):
    got_in = [i.name for i in sess.get_inputs()]
    got_out = [o.name for o in sess.get_outputs()]
    if sorted(got_in) != sorted(want_in) or got_out != list(want_out):
        raise RuntimeError(f"{path.name}: inputs {got_in} / outputs {got_out} differ from the expected layout")


def _maxdiff(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise RuntimeError(f"shape mismatch {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def verify_seq2seq(model, out: pathlib.Path, suffix: str, tol: float, report: dict):
    cfg = model.config
    n_layers = cfg.decoder_layers
    heads = cfg.decoder_attention_heads
    head_dim = cfg.d_model // heads
    rng = np.random.default_rng(0)
    maxpos = cfg.max_position_embeddings

    def rand_ids(b, n, pad_to=None):
        rows = []
        for _ in range(b):
            r = [0] + list(rng.integers(4, 50000, size=n - 2)) + [2]
            rows.append(r)
        return rows

    # Encoder: batch 2 with padding, length 1024 (the limit), and a length-2 input.
    a, b = rand_ids(1, 13)[0], rand_ids(1, 6)[0]
    cases = {
        "batch2_padded": (np.array([a, b + [1] * 7]), np.array([[1] * 13, [1] * 6 + [0] * 7])),
        f"len{maxpos}": (np.array(rand_ids(1, maxpos)), np.ones((1, maxpos), dtype=np.int64)),
        "len2": (np.array([[0, 2]]), np.ones((1, 2), dtype=np.int64)),
    }
    files = {k: out / "onnx" / f"{k}{suffix}.onnx" for k in
             ["encoder_model", "decoder_model", "decoder_with_past_model", "decoder_model_merged"]}
    sess = {k: _session(p) for k, p in files.items() if p.exists()}
    past_in = past_names(n_layers, "past_key_values")
    present_all = past_names(n_layers, "present")
    present_dec = past_names(n_layers, "present", with_encoder=False)
    if "encoder_model" in sess:
        _check_io(sess["encoder_model"], files["encoder_model"], ["input_ids", "attention_mask"],
                  ["last_hidden_state"])
    if "decoder_model" in sess:
        _check_io(sess["decoder_model"], files["decoder_model"],
                  ["input_ids", "encoder_attention_mask", "encoder_hidden_states"], ["logits", *present_all])
    if "decoder_with_past_model" in sess:
        _check_io(sess["decoder_with_past_model"], files["decoder_with_past_model"],
                  ["input_ids", "encoder_attention_mask", *past_in], ["logits", *present_dec])
    if "decoder_model_merged" in sess:
        _check_io(sess["decoder_model_merged"], files["decoder_model_merged"],
                  ["input_ids", "encoder_attention_mask", "encoder_hidden_states", *past_in, "use_cache_branch"],
                  ["logits", *present_all])

    for cname, (ids, mask) in cases.items():
        tids, tmask = torch.tensor(ids), torch.tensor(mask)
        with torch.no_grad():
            ehs_pt = model.get_encoder()(input_ids=tids, attention_mask=tmask).last_hidden_state
        if "encoder_model" in sess:
            ehs = sess["encoder_model"].run(None, {"input_ids": ids, "attention_mask": mask})[0]
            report[f"encoder_model{suffix}/{cname}/last_hidden_state"] = _maxdiff(ehs, ehs_pt)
        ehs = ehs_pt.numpy()
        bsz = ids.shape[0]
        # Decoder prefix: [2, 0, x, y] (decoder_start, forced BOS, two tokens), then 2 cached steps.
        prefix = np.array([[2, 0] + list(rng.integers(4, 50000, size=2)) for _ in range(bsz)])
        with torch.no_grad():
            pt0 = DecoderWrapper(model)(torch.tensor(prefix), tmask, ehs_pt)
        pt0 = [t.numpy() for t in pt0]
        feeds0 = {"input_ids": prefix, "encoder_attention_mask": mask, "encoder_hidden_states": ehs}
        if "decoder_model" in sess:
            o = sess["decoder_model"].run(None, feeds0)
            report[f"decoder_model{suffix}/{cname}/logits"] = _maxdiff(o[0], pt0[0])
            report[f"decoder_model{suffix}/{cname}/present"] = max(_maxdiff(x, y) for x, y in zip(o[1:], pt0[1:]))
        if "decoder_model_merged" in sess:
            empty = {n: np.zeros((bsz, heads, 0, head_dim), np.float32) for n in past_in}
            o = sess["decoder_model_merged"].run(None, {**feeds0, **empty,
                                                        "use_cache_branch": np.array([False])})
            report[f"decoder_model_merged{suffix}/no_cache/{cname}/logits"] = _maxdiff(o[0], pt0[0])
            report[f"decoder_model_merged{suffix}/no_cache/{cname}/present"] = max(
                _maxdiff(x, y) for x, y in zip(o[1:], pt0[1:]))
        # two cached steps
        past = dict(zip(past_in, pt0[1:]))
        for step in range(2):
            nxt = rng.integers(4, 50000, size=(bsz, 1))
            with torch.no_grad():
                pt = DecoderWithPastWrapper(model)(torch.tensor(nxt), tmask,
                                                   *[torch.tensor(past[n]) for n in past_in])
            pt = [t.numpy() for t in pt]
            feeds = {"input_ids": nxt, "encoder_attention_mask": mask, **past}
            if "decoder_with_past_model" in sess:
                o = sess["decoder_with_past_model"].run(None, feeds)
                key = f"decoder_with_past_model{suffix}/{cname}"
                report[f"{key}/logits"] = max(report.get(f"{key}/logits", 0), _maxdiff(o[0], pt[0]))
                report[f"{key}/present"] = max(report.get(f"{key}/present", 0),
                                               max(_maxdiff(x, y) for x, y in zip(o[1:], pt[1:])))
            if "decoder_model_merged" in sess:
                o = sess["decoder_model_merged"].run(None, {**feeds, "encoder_hidden_states": ehs,
                                                            "use_cache_branch": np.array([True])})
                key = f"decoder_model_merged{suffix}/with_cache/{cname}"
                report[f"{key}/logits"] = max(report.get(f"{key}/logits", 0), _maxdiff(o[0], pt[0]))
                dec_idx = [i for i, n in enumerate(present_all) if ".decoder." in n]
                report[f"{key}/present"] = max(report.get(f"{key}/present", 0),
                                               max(_maxdiff(o[1 + i], y) for i, y in zip(dec_idx, pt[1:])))
                enc_shapes = {o[1 + i].shape for i, n in enumerate(present_all) if ".encoder." in n}
                assert enc_shapes == {(0, heads, 1, head_dim)}, enc_shapes
            # grow the past with PyTorch's own presents (decoder part), keep the encoder part
            for i in range(n_layers):
                past[f"past_key_values.{i}.decoder.key"] = pt[1 + 2 * i]
                past[f"past_key_values.{i}.decoder.value"] = pt[2 + 2 * i]
    _check_tolerance(report, suffix, tol)


def verify_classifier(model, out: pathlib.Path, suffix: str, tol: float, report: dict):
    path = out / "onnx" / f"model{suffix}.onnx"
    sess = _session(path)
    _check_io(sess, path, ["input_ids", "attention_mask"], ["logits"])
    rng = np.random.default_rng(1)
    maxpos = model.config.max_position_embeddings
    cases = {
        "batch2_padded": (np.array([[101] + list(rng.integers(1000, 30000, 10)) + [102],
                                    [101] + list(rng.integers(1000, 30000, 4)) + [102] + [0] * 6]),
                          np.array([[1] * 12, [1] * 6 + [0] * 6])),
        f"len{maxpos}": (np.array([[101] + list(rng.integers(1000, 30000, maxpos - 2)) + [102]]),
                         np.ones((1, maxpos), dtype=np.int64)),
        "len2": (np.array([[101, 102]]), np.ones((1, 2), dtype=np.int64)),
    }
    for cname, (ids, mask) in cases.items():
        with torch.no_grad():
            pt = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.numpy()
        o = sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        report[f"model{suffix}/{cname}/logits"] = _maxdiff(o, pt)
    _check_tolerance(report, suffix, tol)


def _check_tolerance(report, suffix, tol):
    if suffix:  # quantized files are reported, not held to the fp32 tolerance
        return
    bad = {k: v for k, v in report.items() if "_quantized" not in k and v > tol}
    if bad:
        raise RuntimeError(f"ONNX differs from PyTorch beyond {tol}: {bad}")


# ---------------------------------------------------------------------------------------------

def copy_side_files(model_dir: pathlib.Path, out: pathlib.Path, is_seq2seq: bool, minify_tokenizer: bool,
                    skip: set):
    for name in ["config.json", "generation_config.json" if is_seq2seq else None, *TOKENIZER_FILES]:
        if name is None or name in skip:
            continue
        src = model_dir / name
        if not src.exists():
            continue
        if name == "tokenizer.json" and minify_tokenizer:
            obj = json.loads(src.read_text(encoding="utf-8"))
            (out / name).write_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        else:
            shutil.copyfile(src, out / name)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=pathlib.Path, required=True, help="HF checkpoint directory (BART or DistilBERT)")
    ap.add_argument("--out", type=pathlib.Path, required=True, help="output directory (replaced)")
    ap.add_argument("--quantize", action="store_true", help="also write *_quantized.onnx (dynamic int8)")
    ap.add_argument("--tied-quantized-lm-head", action="store_true",
                    help="keep the int8 LM head tied to the embedding (smaller files, slower decoding: "
                         "the tiny fixtures use it to stay inside their size budget)")
    ap.add_argument("--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset (default {DEFAULT_OPSET})")
    ap.add_argument("--tol", type=float, default=1e-3,
                    help="max allowed |ORT - PyTorch| for fp32 files (default 1e-3); exceeded -> exit 1")
    ap.add_argument("--drop", nargs="*", default=[],
                    help="file names to leave out of OUT after verification (e.g. to fit a size budget), "
                         "like onnx/decoder_model_quantized.onnx or vocab.json")
    ap.add_argument("--minify-tokenizer", action="store_true",
                    help="write tokenizer.json without indentation (same JSON, ~40%% of the size)")
    ap.add_argument("--report", type=pathlib.Path, help="also write the ORT-vs-PyTorch differences as JSON")
    args = ap.parse_args(argv)

    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(args.model)
    is_seq2seq = config.model_type == "bart"
    if config.model_type not in ("bart", "distilbert"):
        raise SystemExit(f"unsupported model_type {config.model_type!r} (bart or distilbert)")
    cls = AutoModelForSeq2SeqLM if is_seq2seq else AutoModelForSequenceClassification
    model = cls.from_pretrained(args.model, attn_implementation="eager", torch_dtype=torch.float32).eval()

    if args.out.exists():
        shutil.rmtree(args.out)
    onnx_dir = args.out / "onnx"
    onnx_dir.mkdir(parents=True)
    print(f"exporting {args.model} ({config.model_type}) -> {args.out} (opset {args.opset})")
    names = export_seq2seq(model, onnx_dir, args.opset) if is_seq2seq else export_classifier(model, onnx_dir,
                                                                                             args.opset)
    qconfig = {**QUANTIZE_PARAMS, "per_model_config": {}}
    if args.quantize:
        for n in names:
            qconfig["per_model_config"][n] = quantize_file(onnx_dir / f"{n}.onnx", onnx_dir / f"{n}_quantized.onnx",
                                                           untie_lm_head=not args.tied_quantized_lm_head)
        (args.out / "quantize_config.json").write_text(json.dumps(qconfig, indent=4) + "\n")
    copy_side_files(args.model, args.out, is_seq2seq, args.minify_tokenizer, set())

    model.eval()
    report = {}
    verify = verify_seq2seq if is_seq2seq else verify_classifier
    verify(model, args.out, "", args.tol, report)
    if args.quantize:
        verify(model, args.out, "_quantized", args.tol, report)
    print("max |ORT - PyTorch| per file/case:")
    for k, v in report.items():
        print(f"  {k:70s} {v:.3e}")
    if args.report:
        args.report.write_text(json.dumps({"torch": torch.__version__, "onnxruntime": ort.__version__,
                                           "transformers": transformers.__version__, "opset": args.opset,
                                           "max_abs_diff": report}, indent=2) + "\n")
    for rel in args.drop:
        p = args.out / rel
        if p.exists():
            p.unlink()
            print(f"  dropped {rel}")
    for p in sorted(args.out.rglob("*")):
        if p.is_file():
            print(f"  {p.stat().st_size / 1e6:8.2f} MB  {p.relative_to(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
