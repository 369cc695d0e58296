#!/usr/bin/env bash
# Build the realistic-length bench model: the full-size random-weight distilbart with its end-token
# logit bias raised and a length prior in its decoder position embeddings
# (tools/python/make_realistic_model.py), so that the tutorial's pipeline ends each summary at its
# own length instead of always at the 300-token cap; then export it like the full-size models.
#   .cache/models/hf/distilbart-cnn-6-6-realistic      HF checkpoint (+ realistic_length.json: base, settings)
#   .cache/models/onnx/distilbart-cnn-6-6-realistic    config + tokenizer + onnx/*.onnx (fp32 and int8)
# Needs tools/make-full-models.sh first. Takes ~10 minutes and ~3 GB of disk on 2 cores.
# Usage: tools/make-realistic-model.sh [--bias B] [--early E] [--mid M]   (defaults: the measured choice)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then sed -n '2,9p' "$0"; exit 0; fi
HF="$ROOT/.cache/models/hf"
OUT="$ROOT/.cache/models/onnx"
if [[ ! -f "$HF/distilbart-cnn-6-6/model.safetensors" ]]; then
  echo "make-realistic-model: no $HF/distilbart-cnn-6-6/model.safetensors; run tools/make-full-models.sh first" >&2
  exit 1
fi
BIAS=(--bias)
for arg in "$@"; do [[ "$arg" == "--bias" ]] && BIAS=(); done
tools/py tools/python/make_realistic_model.py "${BIAS[@]}" "$@" --out "$HF/distilbart-cnn-6-6-realistic"
tools/py tools/python/export_onnx.py --model "$HF/distilbart-cnn-6-6-realistic" --out "$OUT/distilbart-cnn-6-6-realistic" --quantize \
    --report "$OUT/distilbart-cnn-6-6-realistic.onnx_vs_pytorch.json"
du -sh "$OUT/distilbart-cnn-6-6-realistic"
