#!/usr/bin/env bash
# Regenerate the committed tiny fixtures: HF checkpoints (in .cache/models/hf, not committed),
# their ONNX exports in test/fixtures/models/, and the reference outputs in
# test/fixtures/references/. Deterministic; takes a few minutes on 2 cores.
# Usage: tools/make-fixtures.sh [--models-only|--references-only]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/tools/py"
HF="$ROOT/.cache/models/hf"
FIX="$ROOT/test/fixtures/models"
REF="$ROOT/test/fixtures/references"
mode="${1:-all}"
if [[ "$mode" == "-h" || "$mode" == "--help" ]]; then sed -n '2,5p' "$0"; exit 0; fi
mkdir -p "$FIX" "$REF"

"$PY" tools/python/make_models.py --which tiny --out "$HF"
if [[ "$mode" != "--references-only" ]]; then
  "$PY" tools/python/export_onnx.py --model "$HF/tiny-distilbart-cnn-6-6" --out "$FIX/tiny-distilbart-cnn-6-6" \
      --quantize --tied-quantized-lm-head --minify-tokenizer --report "$REF/onnx_vs_pytorch.tiny-distilbart-cnn-6-6.json"
  "$PY" tools/python/export_onnx.py --model "$HF/tiny-distilbert-sst2" --out "$FIX/tiny-distilbert-sst2" \
      --quantize --minify-tokenizer --report "$REF/onnx_vs_pytorch.tiny-distilbert-sst2.json"
fi
if [[ "$mode" != "--models-only" ]]; then
  "$PY" tools/python/make_references.py --bart "$HF/tiny-distilbart-cnn-6-6" --bert "$HF/tiny-distilbert-sst2" \
      --onnx-bart "$FIX/tiny-distilbart-cnn-6-6" --onnx-bert "$FIX/tiny-distilbert-sst2" --out "$REF"
  # replay every summarization case on the ONNX files (NumPy port of HF search); fails on a mismatch
  "$PY" tools/python/check_generation.py --model "$FIX/tiny-distilbart-cnn-6-6" --hf "$HF/tiny-distilbart-cnn-6-6" \
      --references "$REF/summarization.json" --report "$REF/onnx_replay.tiny-distilbart-cnn-6-6.json" | tail -20
fi
# tokenizer.json carries the same vocabulary and merges; the loader never reads these two, and
# dropping them keeps the committed fixtures inside their 20 MB budget
rm -f "$FIX/tiny-distilbart-cnn-6-6/vocab.json" "$FIX/tiny-distilbart-cnn-6-6/merges.txt"
du -sh "$FIX" "$REF"
echo "committed fixture bytes (ours):"
du -cb "$FIX"/*/* "$FIX"/*/onnx/* "$REF"/{summarization,sentiment,tokenizer}.json "$REF"/onnx_*.json 2>/dev/null \
  | grep -v '/onnx$' | tail -1
