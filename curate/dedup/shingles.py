r"""Normalisation and n-gram shingles as 64-bit hashes, vectorised over Arrow string arrays.

``normalize`` is the exact-dedup key: Unicode NFKC, lower case, runs of whitespace (``str.isspace``
code points) collapsed to one space and trimmed. ``shingles`` turns normalised texts into a flat
``uint64`` array of shingle hashes plus per-document offsets (CSR layout), without a Python loop
over documents:

- word shingles: tokens are the runs of letters and digits (Unicode categories L* and N*, as the
  regex ``[\p{L}\p{N}]+``); each distinct token is hashed once (DuckDB's 64-bit ``hash`` on the
  dictionary), and a word n-gram's hash is a polynomial of its tokens' hashes finished with the
  splitmix64 avalanche;
- char shingles: DuckDB hashes every ``n``-character substring of each text.

Whitespace collapsing and tokenising are one numpy pass over the UTF-8 bytes of the whole array
(``_classes``): ASCII bytes are classified by a 256-entry table, the few distinct non-ASCII code
points with ``unicodedata``. Measured on the 22k-doc bench corpus (4.5 MB, 2 cores): the regex
kernels ``replace_substring_regex(\s+)`` took 0.067 s and ``split_pattern_regex([^\p{L}\p{N}]+)``
0.081 s (together a fifth of the whole dedup run); see ``_collapse_whitespace`` and ``_tokens`` for
the numpy replacements' timings.

A document shorter than ``n`` tokens (or characters) has one shingle: all of it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.store.dedup import char_ngram_hashes, hash_strings

_C = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


_WORD, _SPACE = np.uint8(1), np.uint8(2)  # per-byte class bits: letter/digit, whitespace
_ASCII = np.zeros(256, np.uint8)
for _c in range(128):
    _ASCII[_c] = (_WORD if unicodedata.category(chr(_c))[0] in "LN" else 0) | (_SPACE if chr(_c).isspace() else 0)
_CP_CLASS: dict[int, int] = {}  # non-ASCII code point -> class bits, filled as code points are met


def _cp_class(cp: int) -> int:
    c = _CP_CLASS.get(cp)
    if c is None:
        ch = chr(cp)
        c = _CP_CLASS[cp] = (1 if unicodedata.category(ch)[0] in "LN" else 0) | (2 if ch.isspace() else 0)
    return c


def _utf8(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``(offsets, data)``: int64 offsets (from 0, one per text + 1) into the texts' UTF-8 bytes."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.fill_null(arr.cast(pa.large_string()), "")
    offsets = np.frombuffer(arr.buffers()[1], np.int64)[arr.offset:arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    data = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    return offsets - offsets[0], data[offsets[0]:offsets[-1]]


def _classes(data: np.ndarray) -> np.ndarray:
    """Class bits (``_WORD``, ``_SPACE``) of the code point each UTF-8 byte belongs to."""
    cls = _ASCII[data]
    lead = np.flatnonzero(data >= 0xC0)
    if len(lead) == 0:
        return cls
    b = np.concatenate([data, np.zeros(3, np.uint8)]).astype(np.int32)
    b0, b1, b2, b3 = b[lead], b[lead + 1] & 0x3F, b[lead + 2] & 0x3F, b[lead + 3] & 0x3F
    size = 2 + (b0 >= 0xE0) + (b0 >= 0xF0)
    cp = np.where(size == 2, ((b0 & 0x1F) << 6) | b1,
                  np.where(size == 3, ((b0 & 0x0F) << 12) | (b1 << 6) | b2,
                           ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3))
    uniq, inv = np.unique(cp, return_inverse=True)
    lead_cls = np.array([_cp_class(int(c)) for c in uniq], np.uint8)[inv]
    for k in range(4):  # the lead byte and its continuation bytes share the code point's class
        m = size > k
        cls[lead[m] + k] = lead_cls[m]
    return cls


def _collapse_whitespace(arr: pa.Array) -> pa.Array:
    """Whitespace runs to one space, trimmed. Hand-written because Arrow has no non-regex kernel
    for it: 0.012 s on the bench corpus against 0.067 s for ``replace_substring_regex(r"\s+")`` and
    0.036 s for ``utf8_split_whitespace`` + ``binary_join`` (which also keeps edge empties)."""
    offsets, data = _utf8(arr)
    n = len(data)
    if n == 0:
        return pa.array([""] * len(offsets[:-1]), pa.string())
    ws = (_classes(data) & _SPACE) != 0
    starts = offsets[:-1][offsets[:-1] < offsets[1:]]
    prev = np.empty(n, bool)
    prev[0] = True
    prev[1:] = ws[:-1]
    prev[starts] = True  # a run at a text's start is dropped whole
    keep = ~ws
    first = np.flatnonzero(ws & ~prev)  # the first byte of an inner or trailing run
    solid = np.flatnonzero(keep)
    nxt = np.searchsorted(solid, first)  # the run is inner if a non-space follows in the same text
    inner = nxt < len(solid)
    inner[inner] = (np.searchsorted(offsets, solid[nxt[inner]], side="right")
                    == np.searchsorted(offsets, first[inner], side="right"))
    keep[first[inner]] = True
    out = np.where(ws, np.uint8(0x20), data)[keep]
    new_off = np.concatenate([[0], np.cumsum(keep)])[offsets]
    text_type = pa.string() if len(out) < 2**31 else pa.large_string()
    off_type = np.int32 if text_type == pa.string() else np.int64
    return pa.Array.from_buffers(text_type, len(offsets) - 1,
                                 [None, pa.py_buffer(new_off.astype(off_type)), pa.py_buffer(out)])


def normalize(texts: pa.Array | list[str]) -> pa.Array:
    """NFKC, lower case, single spaces, trimmed: equal outputs are exact duplicates."""
    arr = pa.array(texts, pa.string()) if isinstance(texts, list) else texts.cast(pa.string())
    arr = pc.fill_null(arr, "")
    arr = pc.utf8_lower(pc.utf8_normalize(arr, "NFKC"))
    return _collapse_whitespace(arr)


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
