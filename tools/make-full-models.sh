#!/usr/bin/env bash
# Build the full-size random-weight models (published architectures) and export them to the
# transformers.js layout under .cache/models/ (gitignored, never committed):
#   .cache/models/hf/{distilbart-cnn-6-6,distilbert-sst2}            HF checkpoints
#   .cache/models/onnx/{distilbart-cnn-6-6,distilbert-sst2}          config + tokenizer + onnx/*.onnx
# Takes ~10-15 minutes and ~4 GB of disk on 2 cores (export, int8 quantization, PyTorch checks).
# Usage: tools/make-full-models.sh [--no-quantize]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then sed -n '2,7p' "$0"; exit 0; fi
Q=(--quantize); [[ "${1:-}" == "--no-quantize" ]] && Q=()
HF="$ROOT/.cache/models/hf"
OUT="$ROOT/.cache/models/onnx"
tools/py tools/python/make_models.py --which full --out "$HF"
for m in distilbart-cnn-6-6 distilbert-sst2; do
  tools/py tools/python/export_onnx.py --model "$HF/$m" --out "$OUT/$m" "${Q[@]}" \
      --report "$OUT/$m.onnx_vs_pytorch.json"
done
du -sh "$OUT"/*
