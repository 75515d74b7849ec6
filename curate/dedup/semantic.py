"""Semantic near-duplicates: cosine kNN over normalised embeddings, above a threshold.

Exact brute-force kNN in blocks of rows (a matrix product per block), so the result does not depend
on an approximate index; for the dataset sizes a person reviews this is seconds.
"""

from __future__ import annotations

import numpy as np

BLOCK = 2048


def cosine_pairs(vectors: np.ndarray, threshold: float, *, k: int = 20,
                 valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)``, ``i < j``, among each row's ``k`` nearest neighbours whose cosine similarity
    reaches ``threshold``; rows of ``vectors`` must be L2-normalised. Returns ``(pairs, sims)``."""
    n = len(vectors)
    idx = np.arange(n) if valid is None else np.flatnonzero(valid)
    if len(idx) < 2:
        return np.zeros((0, 2), np.int64), np.zeros(0)
    x = np.ascontiguousarray(vectors[idx], dtype=np.float32)
    k = min(k, len(idx) - 1)
    out_p, out_s = [], []
    for start in range(0, len(idx), BLOCK):
        sims = x[start:start + BLOCK] @ x.T
        rows = np.arange(sims.shape[0])
        sims[rows, rows + start] = -1.0  # not its own neighbour
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < sims.shape[1] else np.tile(
            np.arange(sims.shape[1]), (sims.shape[0], 1))
        top_s = np.take_along_axis(sims, top, axis=1)
        r, c = np.nonzero(top_s >= threshold - 1e-6)
        if len(r):
            out_p.append(np.stack([r + start, top[r, c]], axis=1))
            out_s.append(top_s[r, c])
    if not out_p:
        return np.zeros((0, 2), np.int64), np.zeros(0)
    pairs = np.sort(np.concatenate(out_p), axis=1)
    sims = np.concatenate(out_s).astype(np.float64)
    pairs, first = np.unique(pairs, axis=0, return_index=True)
    return idx[pairs], np.clip(sims[first], -1.0, 1.0)
