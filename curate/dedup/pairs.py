"""Duplicate pairs among texts by one method: exact (normalised text), minhash (LSH candidates verified
by true Jaccard) or semantic (MiniLM cosine kNN), and how that method scores any two of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup import minhash, semantic
from curate.dedup.clusters import clusters_from_keys
from curate.dedup.params import DedupParams, resolve_params
from curate.dedup.shingles import jaccard, normalize, shingles
from curate.store.workspace import Workspace

Progress = Callable[[str, int, int], None]


@dataclass
class Graph:
    """Verified duplicate pairs among ``ids`` (indices into it) and how to score any two rows."""

    ids: np.ndarray
    pairs: np.ndarray
    sims: np.ndarray
    candidates: int
    similarity: Callable[[int, int], float]
    compared: int
    params: DedupParams | None = None   # as resolved for these texts (auto shingles, default threshold)


def no_progress(stage: str, done: int, total: int) -> None:
    pass


def pair_similarity(workspace: Workspace, texts: pa.Array, params: DedupParams) -> Callable[[int, int], float]:
    """``sim(i, j)`` between two of ``texts`` as the method measures it: 1/0 for exact, the true
    Jaccard of the shingle sets for minhash, the cosine of the embeddings for semantic."""
    params = resolve_params(params, texts)
    norm = normalize(texts, threads=params.threads)
    if params.method == "exact":
        keys = norm.to_pylist()
        return lambda i, j: 1.0 if keys[i] == keys[j] else 0.0
    if params.method == "minhash":
        sh = shingles(norm, ngram=params.n, kind=params.shingle, threads=params.threads)
        return lambda i, j: jaccard(sh.doc_set(i), sh.doc_set(j))
    from curate.embed import embed_cached

    vectors = embed_cached(workspace, texts.to_pylist())
    return lambda i, j: float(np.dot(vectors[i], vectors[j]))


def find_pairs(workspace: Workspace, texts: list[str] | pa.Array, params: DedupParams, *,
               threshold: float | None = None, progress: Progress = no_progress) -> Graph:
    """Duplicate pairs among ``texts`` by ``params.method`` at ``threshold`` (default: the params'; auto
    shingles and default thresholds resolved for ``texts`` as ``params.resolve_params`` says)."""
    norm = normalize(texts, threads=params.threads)
    arr = pa.array(texts, pa.string()) if isinstance(texts, list) else texts
    params = resolve_params(params, arr)
    t = params.cut if threshold is None else threshold
    n = len(norm)
    valid = pc.greater(pc.utf8_length(norm), 0).to_numpy(zero_copy_only=False) if n else np.zeros(0, bool)
    ids = np.arange(n)
    if params.method == "exact":
        keys = pc.dictionary_encode(norm).indices.to_numpy() if n else np.zeros(0, np.int64)
        pairs = [np.stack([np.full(len(g) - 1, g[0]), g[1:]], axis=1) for g in clusters_from_keys(keys, valid)]
        pairs = np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64)
        return Graph(ids, pairs, np.ones(len(pairs)), len(pairs),
                     lambda i, j: 1.0 if keys[i] == keys[j] else 0.0, int(valid.sum()), params)
    if params.method == "minhash":
        progress("shingling", 0, n)
        sh = shingles(norm, ngram=params.n, kind=params.shingle, threads=params.threads)
        progress("signing and banding", 0, n)
        # candidates are verified, so banding favours recall (see minhash.RECALL_WEIGHTS)
        bands, rows = minhash.lsh_params(t, params.num_perm, *minhash.RECALL_WEIGHTS)
        sig = minhash.signatures(sh, params.num_perm, threads=params.threads)
        cand = minhash.candidates(sig, bands, rows, valid=valid & (sh.counts() > 0))
        progress("verifying candidates", 0, len(cand))
        pairs, sims = minhash.verify(sh, cand, t)
        return Graph(ids, pairs, sims, len(cand), lambda i, j: jaccard(sh.doc_set(i), sh.doc_set(j)),
                     int(valid.sum()), params)
    from curate.embed import embed_cached

    progress("embedding", 0, n)
    raw = arr.to_pylist()
    vectors = embed_cached(workspace, raw, progress=lambda d, tot: progress("embedding", d, tot))
    pairs, sims = semantic.cosine_pairs(vectors, t, k=params.neighbors, valid=valid)
    return Graph(ids, pairs, sims, len(pairs), lambda i, j: float(np.dot(vectors[i], vectors[j])), int(valid.sum()),
                 params)
