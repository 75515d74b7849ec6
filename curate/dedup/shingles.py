"""Normalisation and n-gram shingles as 64-bit hashes, vectorised over Arrow string arrays.

``normalize`` is the exact-dedup key: Unicode NFKC, lower case, whitespace runs collapsed to one
space and trimmed. ``shingles`` turns normalised texts into a flat ``uint64`` array of shingle
hashes plus per-document offsets (CSR layout), without a Python loop over documents:

- word shingles: texts are split on runs of non-letters/digits; each distinct token is hashed once
  (DuckDB's 64-bit ``hash`` on the dictionary), and a word n-gram's hash is a polynomial of its
  tokens' hashes finished with the splitmix64 avalanche;
- char shingles: DuckDB hashes every ``n``-character substring of each text.

A document shorter than ``n`` tokens (or characters) has one shingle: all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.store.dedup import char_ngram_hashes, hash_strings

_C = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def normalize(texts: pa.Array | list[str]) -> pa.Array:
    """NFKC, lower case, single spaces, trimmed: equal outputs are exact duplicates."""
    arr = pa.array(texts, pa.string()) if isinstance(texts, list) else texts.cast(pa.string())
    arr = pc.fill_null(arr, "")
    arr = pc.utf8_lower(pc.utf8_normalize(arr, "NFKC"))
    arr = pc.replace_substring_regex(arr, r"\s+", " ")
    return pc.utf8_trim_whitespace(arr)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: every input bit affects every output bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


@dataclass
class Shingles:
    """CSR layout: the shingle hashes of document ``d`` are ``hashes[offsets[d]:offsets[d + 1]]``
    (may repeat; use ``doc_set`` for the set)."""

    hashes: np.ndarray   # uint64
    offsets: np.ndarray  # int64, len = n_docs + 1

    @property
    def n_docs(self) -> int:
        return len(self.offsets) - 1

    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def doc_set(self, d: int) -> np.ndarray:
        return np.unique(self.hashes[self.offsets[d]:self.offsets[d + 1]])


def word_shingles(norm: pa.Array, n: int) -> Shingles:
    """Word n-gram hashes of normalised texts (tokens: runs of letters and digits)."""
    lists = pc.split_pattern_regex(norm, r"[^\p{L}\p{N}]+")
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    # Leading/trailing separators leave empty tokens: drop them, then rebuild the offsets.
    flat = lists.flatten()
    nonempty = pc.greater(pc.binary_length(flat), 0).to_numpy(zero_copy_only=False)
    raw_off = lists.offsets.to_numpy().astype(np.int64) - lists.offsets[0].as_py()
    kept = np.concatenate([[0], np.cumsum(nonempty)])
    tok_off = kept[raw_off]
    flat = flat.filter(pa.array(nonempty))
    lengths = np.diff(tok_off)
    empty = lengths == 0
    encoded = pc.dictionary_encode(flat)
    vocab_hash = hash_strings(encoded.dictionary)
    th = vocab_hash[encoded.indices.to_numpy()]
    n_docs = len(lengths)
    doc_of = np.repeat(np.arange(n_docs), lengths)
    end_of = tok_off[1:][doc_of]
    pos = np.arange(len(th), dtype=np.int64)
    g = th.copy()
    padded = np.concatenate([th, np.zeros(n, np.uint64)])
    for j in range(1, n):
        nxt = padded[pos + j]
        nxt = np.where(pos + j < end_of, nxt, np.uint64(0))
        g = g * _C + nxt
    g = mix64(g)
    start_of = tok_off[:-1][doc_of]
    # A shingle starts at p if the full n-gram fits, or p is the first token of a short document.
    keep = (pos + n <= end_of) | ((pos == start_of) & (lengths[doc_of] < n))
    keep &= ~empty[doc_of]
    counts = np.bincount(doc_of[keep], minlength=n_docs)
    offsets = np.zeros(n_docs + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return Shingles(g[keep], offsets)


def char_shingles(norm: pa.Array, n: int) -> Shingles:
    """Character n-gram hashes of normalised texts (computed in DuckDB)."""
    table = char_ngram_hashes(norm, n)
    col = table.column("h").combine_chunks()
    offsets = col.offsets.to_numpy().astype(np.int64) - col.offsets[0].as_py()
    return Shingles(col.flatten().to_numpy().astype(np.uint64, copy=False), offsets)


SHINGLERS = {"word": word_shingles, "char": char_shingles}


def shingles(norm: pa.Array, *, ngram: int, kind: str = "word", chunk: int = 100_000) -> Shingles:
    """Shingle hashes of normalised texts; ``kind`` is ``word`` or ``char``. Works through ``chunk``
    documents at a time so the temporaries stay bounded on large datasets."""
    if len(norm) <= chunk:
        return SHINGLERS[kind](norm, ngram)
    parts = [SHINGLERS[kind](norm.slice(i, chunk), ngram) for i in range(0, len(norm), chunk)]
    offsets = [np.zeros(1, np.int64)]
    base = 0
    for part in parts:
        offsets.append(part.offsets[1:] + base)
        base += len(part.hashes)
    return Shingles(np.concatenate([p.hashes for p in parts]), np.concatenate(offsets))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted unique hash arrays."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
