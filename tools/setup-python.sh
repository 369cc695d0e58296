#!/usr/bin/env bash
# Create or refresh the Python tooling venv at <repo>/.venv-tools (gitignored).
# Idempotent: when the venv already matches the pinned requirements it returns in ~1s.
# Usage: tools/setup-python.sh [--force]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-tools"
REQ="$ROOT/tools/python/requirements.txt"
REQ_NODEPS="$ROOT/tools/python/requirements-nodeps.txt"
PATCH="$ROOT/tools/python/patch_transformers_pins.py"
STAMP="$VENV/.requirements.sha256"
PYTHON="${PYTHON:-python3}"

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,4p' "$0"; exit 0
fi

want="$(cat "$REQ" "$REQ_NODEPS" "$PATCH" | sha256sum | cut -d' ' -f1)"
if [[ "${1:-}" != "--force" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  echo "setup-python: $VENV is up to date"; exit 0
fi

# Local mirror only: never fall back to the network (there is none).
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
PIP_IDX=(--index-url "${PIP_INDEX_URL_LOCAL:-file:///opt/pypi/simple}"
         --extra-index-url "${PIP_EXTRA_INDEX_URL_LOCAL:-file:///opt/pypi-more/simple}"
         --find-links "${PIP_FIND_LINKS_LOCAL:-/opt/wheels}")

[[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q "${PIP_IDX[@]}" -r "$REQ" 2> >(grep -v "is neither a file nor a directory" >&2)
"$VENV/bin/python" -m pip install -q "${PIP_IDX[@]}" --no-deps -r "$REQ_NODEPS"
"$VENV/bin/python" "$PATCH"
"$VENV/bin/python" -c "import transformers, torch, onnx, onnxruntime; print('setup-python: transformers', transformers.__version__, 'torch', torch.__version__, 'onnx', onnx.__version__, 'onnxruntime', onnxruntime.__version__)"
echo "$want" > "$STAMP"
