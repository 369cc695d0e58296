"""Relax transformers 4.57.6's `huggingface-hub<1.0` pin inside the tools venv only.

The local package mirror carries huggingface-hub 1.x only. transformers checks its pins
at import time (dependency_versions_check.py reads dependency_versions_table.py), so we
rewrite that one entry of the venv's copy. Idempotent. Nothing outside the venv is touched.
"""
import importlib.util
import pathlib
import re
import sys

spec = importlib.util.find_spec("transformers")
if spec is None or spec.origin is None:
    sys.exit("transformers is not installed in this interpreter")
table = pathlib.Path(spec.origin).parent / "dependency_versions_table.py"
src = table.read_text()
new = re.sub(r'"huggingface-hub": "huggingface-hub[^"]*"',
             '"huggingface-hub": "huggingface-hub>=0.34.0"', src)
if new != src:
    table.write_text(new)
    print(f"patched {table}: huggingface-hub pin relaxed to >=0.34.0")
else:
    print(f"{table}: pin already relaxed")
