"""MinHash signatures, LSH banding and verification by true Jaccard, all vectorised with numpy.

Signatures use ``num_perm`` multiply-shift hash functions ``(a * x + b) >> 32`` over the 64-bit
shingle hashes, and ``np.minimum.reduceat`` takes each document's minimum: one pass over the
shingles per permutation, no Python loop over documents. Measured on 12k SFT docs (406k shingles,
128 permutations, 2 cores): 0.05 s here against ~0.45 s for datasketch's bulk MinHash over the same
shingles; bench/dedup.py times the whole pipeline against datasketch and rensa.

Banding: each band's rows are folded into one 64-bit key; documents sharing a key in any band are
candidates. Each bucket contributes star edges (first member, other member) rather than all pairs,
so a bucket of m documents costs m - 1 checks; every candidate is then verified by the true
Jaccard of the two shingle sets before it may join a cluster.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np

from curate.dedup.shingles import Shingles, jaccard, mix64

SEED = 1
_CHUNK = 1 << 22  # shingles per block: keeps the temporaries of one permutation small


def _perm_params(num_perm: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, np.iinfo(np.uint64).max, size=num_perm, dtype=np.uint64, endpoint=True) | np.uint64(1)
    b = rng.integers(0, np.iinfo(np.uint64).max, size=num_perm, dtype=np.uint64, endpoint=True)
    return a, b


def signatures(sh: Shingles, num_perm: int, *, seed: int = SEED, threads: int = 2) -> np.ndarray:
    """``(n_docs, num_perm)`` uint32 MinHash signatures; documents without shingles get all ``2**32-1``."""
    a, b = _perm_params(num_perm, seed)
    n = sh.n_docs
    sig = np.full((n, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    counts = sh.counts()
    has = np.flatnonzero(counts > 0)
    if len(has) == 0:
        return sig
    # Blocks of whole documents holding about _CHUNK shingles each.
    ends = sh.offsets[has + 1]
    cuts = np.searchsorted(ends, np.arange(_CHUNK, ends[-1], _CHUNK), side="left")
    bounds = np.unique(np.concatenate([[0], cuts + 1, [len(has)]]))
    bounds = bounds[bounds <= len(has)]
    blocks = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1) if bounds[i + 1] > bounds[i]]

    def block(lo: int, hi: int) -> None:
        docs = has[lo:hi]
        start, stop = sh.offsets[docs[0]], sh.offsets[docs[-1] + 1]
        x = sh.hashes[start:stop]
        starts = sh.offsets[docs] - start
        out = np.empty((len(docs), num_perm), dtype=np.uint32)
        tmp = np.empty(len(x), dtype=np.uint64)
        for k in range(num_perm):
            np.multiply(x, a[k], out=tmp)
            tmp += b[k]
            tmp >>= np.uint64(32)
            out[:, k] = np.minimum.reduceat(tmp, starts)
        sig[docs] = out

    if threads > 1 and len(blocks) > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda r: block(*r), blocks))
    else:
        for r in blocks:
            block(*r)
    return sig


def _false_positive(threshold: float, b: int, r: int) -> float:
    xs = np.linspace(0.0, threshold, 201)
    return float(np.trapezoid(1 - (1 - xs ** r) ** b, xs))


def _false_negative(threshold: float, b: int, r: int) -> float:
    xs = np.linspace(threshold, 1.0, 201)
    return float(np.trapezoid(1 - (1 - (1 - xs ** r) ** b), xs))


@lru_cache(maxsize=64)
def lsh_params(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """Bands ``b`` and rows ``r`` (``b * r <= num_perm``) minimising the weighted areas of false
    positives below and false negatives above ``threshold`` (the rule datasketch's MinHashLSH uses)."""
    best, best_err = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            err = fp_weight * _false_positive(threshold, b, r) + fn_weight * _false_negative(threshold, b, r)
            if err < best_err:
                best, best_err = (b, r), err
    return best


def candidates(sig: np.ndarray, bands: int, rows: int, valid: np.ndarray | None = None) -> np.ndarray:
    """Candidate pairs ``(m, 2)`` int64 (``i < j``), unique: documents sharing a band key."""
    n = sig.shape[0]
    idx = np.arange(n) if valid is None else np.flatnonzero(valid)
    if len(idx) < 2:
        return np.zeros((0, 2), np.int64)
    rng = np.random.default_rng(SEED + 1)
    mult = rng.integers(1, np.iinfo(np.uint64).max, size=rows, dtype=np.uint64) | np.uint64(1)
    edges = []
    for band in range(bands):
        part = sig[idx, band * rows:(band + 1) * rows].astype(np.uint64)
        key = np.zeros(len(idx), np.uint64)
        for j in range(rows):
            key = mix64(key * mult[j] + part[:, j])
        order = np.argsort(key, kind="stable")
        ks = key[order]
        new_group = np.empty(len(ks), bool)
        new_group[0] = True
        new_group[1:] = ks[1:] != ks[:-1]
        group = np.cumsum(new_group) - 1
        first = order[new_group][group]
        pair = first != order
        if pair.any():
            edges.append(np.stack([idx[first[pair]], idx[order[pair]]], axis=1))
    if not edges:
        return np.zeros((0, 2), np.int64)
    allp = np.concatenate(edges)
    allp.sort(axis=1)
    return np.unique(allp, axis=0)


def verify(sh: Shingles, pairs: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Keep candidate pairs whose true Jaccard reaches ``threshold``: ``(pairs, similarities)``."""
    if len(pairs) == 0:
        return pairs, np.zeros(0)
    sets: dict[int, np.ndarray] = {}

    def get(d: int) -> np.ndarray:
        s = sets.get(d)
        if s is None:
            s = sets[d] = sh.doc_set(d)
        return s

    sims = np.fromiter((jaccard(get(int(i)), get(int(j))) for i, j in pairs), dtype=np.float64, count=len(pairs))
    keep = sims >= threshold
    return pairs[keep], sims[keep]


def near_pairs(sh: Shingles, *, threshold: float, num_perm: int, bands: int | None = None,
               rows: int | None = None, threads: int = 2) -> tuple[np.ndarray, np.ndarray, int]:
    """Verified near-duplicate pairs, their Jaccard, and how many candidates LSH proposed."""
    if bands is None or rows is None:
        bands, rows = lsh_params(threshold, num_perm)
    sig = signatures(sh, num_perm, threads=threads)
    cand = candidates(sig, bands, rows, valid=sh.counts() > 0)
    pairs, sims = verify(sh, cand, threshold)
    return pairs, sims, len(cand)
