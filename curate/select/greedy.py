"""The greedy passes behind ``diversity``, ``mix`` and ``kcenter``: pure functions over L2-normalised embeddings.

- ``facility``: facility location, lazy greedy: maximise ``sum_c max_{s in S} w_s * sim(c, s)`` over the
  pool's rows ``c`` (a seeded sample of at most ``CLIENTS`` of them), ``sim`` the cosine similarity
  clipped at 0 and ``w`` the rows' quality. Each pick covers the rows near it, so
  picks go where the pool is dense (representative rows), one per region before a second, and a
  near-duplicate of a pick adds nothing. Used by ``diversity``.
- ``kcenter``: k-center greedy, each pick the row farthest from the picks so far (favours outliers: a
  row far from everything is picked early, and label noise is often such a row).
- ``gated``: deita's gate, ``base * min(1, d / tau)``: a row within ``tau`` of a pick is worth little.
  Used by ``mix``.

Each returns the pool positions in pick order and one figure per pick: the distance to the nearest
earlier pick (``kcenter``, ``gated``) or the pick's coverage gain as a share of the first's (``facility``).
"""

from __future__ import annotations

import heapq

import numpy as np

CLIENTS = 3000        # facility location: pool rows whose coverage is counted (a seeded sample above this)
CELLS = 25_000_000    # facility location: rows x clients similarities held at once (100 MB); fewer clients above
BATCH = 16            # facility location: rows re-scored together


def facility(X: np.ndarray, w: np.ndarray, k: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Quality-weighted facility location, lazy greedy: the same picks as re-scoring every row at every
    step (coverage gains only fall as picks are added, so a row's last gain bounds it)."""
    n = len(w)
    k = min(k, n)
    m = max(1, min(n, CLIENTS, CELLS // max(n, 1)))
    C = X if m == n else X[np.sort(np.random.default_rng(seed).choice(n, m, replace=False))]
    w = np.asarray(w, np.float32)
    sims = np.maximum(X @ C.T, 0.0)                           # (n, m) cosine similarity, clipped at 0
    sims *= w[:, None]
    cover = np.zeros(m, np.float32)                           # each client's best weighted similarity so far
    heap = [(-float(g), i) for i, g in enumerate(sims.sum(1))]
    heapq.heapify(heap)
    order: list[int] = []
    gains: list[float] = []
    while len(order) < k and heap:
        ids = np.array([heapq.heappop(heap)[1] for _ in range(min(BATCH, len(heap)))], np.int64)
        fresh = np.maximum(sims[ids] - cover, 0).sum(1)
        best = int(np.argmax(fresh))
        if not heap or fresh[best] >= -heap[0][0]:          # no row left in the heap can beat it
            j = int(ids[best])
            order.append(j)
            gains.append(float(fresh[best]))
            np.maximum(cover, sims[j], out=cover)
            ids, fresh = np.delete(ids, best), np.delete(fresh, best)
        for g, j in zip(fresh.tolist(), ids.tolist()):
            heapq.heappush(heap, (-g, j))
    scale = max(gains[0], 1e-9) if gains else 1.0
    return np.array(order, np.int64), np.array(gains) / scale


def kcenter(X: np.ndarray, base: np.ndarray, k: int, spread: float) -> tuple[np.ndarray, np.ndarray]:
    """``base + spread * d / max(d)``, one pick at a time (k-center greedy when ``base`` is flat)."""
    k = min(k, len(base))
    d = np.ones(len(base), np.float32)
    taken = np.zeros(len(base), bool)
    order, dist = np.empty(k, np.int64), np.empty(k)
    base = base.astype(np.float32)
    for step in range(k):
        obj = base + spread * d / max(float(d[~taken].max()), 1e-9)  # the farthest row gets the whole weight
        obj[taken] = -np.inf
        j = int(np.argmax(obj))
        order[step], dist[step], taken[j] = j, d[j], True
        np.minimum(d, (1.0 - X @ X[j]) / 2.0, out=d)
    return order, dist


def gated(X: np.ndarray, base: np.ndarray, k: int, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Deita's gate ``base * min(1, d / tau)``, lazily: a row's objective only falls as picks are added,
    so its last value bounds it; a row is re-scored against the picks made since only when it reaches
    the top of the heap. Same picks as the full scan, far fewer products."""
    heap = [(-float(b), i) for i, b in enumerate(base)]
    heapq.heapify(heap)
    k = min(k, len(base))
    d = np.ones(len(base), np.float32)
    seen = np.zeros(len(base), np.int64)   # how many picks d[i] accounts for
    picks = np.empty((k, X.shape[1]), X.dtype)
    order, dist = [], []
    while len(order) < k and heap:
        bound, j = heapq.heappop(heap)
        m = len(order)
        if seen[j] < m:
            d[j] = min(float(d[j]), float(((1.0 - picks[seen[j]:m] @ X[j]) / 2.0).min()))
            seen[j] = m
            value = float(base[j]) * min(1.0, float(d[j]) / tau)
            if value < -bound:
                heapq.heappush(heap, (-value, j))
                continue
        picks[m] = X[j]
        order.append(j)
        dist.append(float(d[j]))
    return np.array(order, np.int64), np.array(dist)
