"""Grouped, stratified train/validation/test assignment (pure: arrays in, split index per row out).

Rows of one group (a dup cluster, a near-duplicate component, a user ``group`` value) always land in
the same split. Within each label (the stratum) the split counts follow the ratios:

* groups are placed largest first (ties in a seeded random order), each into the split of its
  stratum with the largest remaining deficit ``ratio * n_label - count`` among the splits it fits
  into (the deficit is at least its size minus one), else the one with the largest deficit;
* so when every group has one row, each label's count in each split is within one example of
  ``ratio * n_label`` (tested with hypothesis, also with planted pairs and triples among singletons).
  A group larger than the room left in every split overshoots; ``deviation`` reports the worst case.

A split with ratio 0 receives nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from curate.errors import InputError
from curate.versions.refs import SPLITS


def parse_ratios(split: Sequence[float] | str) -> tuple[float, float, float]:
    """``(0.8, 0.1, 0.1)`` or ``"0.8,0.1,0.1"`` (or ``8,1,1``) → ratios summing to 1."""
    if isinstance(split, str):
        try:
            split = [float(x) for x in split.split(",")]
        except ValueError:
            raise InputError("--split", f"cannot read {split!r}", fix="give three numbers, e.g. 0.8,0.1,0.1") from None
    values = list(split)
    if len(values) != 3 or any(not np.isfinite(v) or v < 0 for v in values) or sum(values) <= 0:
        raise InputError("--split", f"bad ratios {values!r}",
                         fix="give three non-negative numbers for train,validation,test, e.g. 0.8,0.1,0.1")
    total = float(sum(values))
    return tuple(float(v) / total for v in values)  # type: ignore[return-value]


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected-component id per row of an undirected graph on ``n`` rows given as edges."""
    if n == 0:
        return np.zeros(0, np.int64)
    pairs = np.asarray(pairs, np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def _members(groups: np.ndarray) -> list[list[int]]:
    """The rows of each distinct group, in the order of the sorted group keys."""
    uniq, inverse = np.unique(groups, return_inverse=True)
    members: list[list[int]] = [[] for _ in uniq]
    for i, g in enumerate(inverse):
        members[g].append(i)
    return members


def _pinned(order: np.ndarray, members: list[list[int]], fixed: np.ndarray, ratios: np.ndarray) -> dict[int, int]:
    """Group → the open split most of its fixed rows had (ties: the lower split); groups without any left out."""
    pinned = {}
    for g in order:
        was = Counter(int(fixed[i]) for i in members[g] if fixed[i] >= 0 and ratios[fixed[i]] > 0)
        if was:
            pinned[g] = min(was, key=lambda s: (-was[s], s))
    return pinned


def assign(groups: np.ndarray, labels: Sequence[str | None], ratios: Sequence[float], seed: int = 0,
           fixed: np.ndarray | None = None) -> np.ndarray:
    """Split index (0 train, 1 validation, 2 test) per row; rows sharing ``groups[i]`` share a split.

    ``fixed``: a split index per row to keep (-1: free), e.g. the parent version's. A group with fixed
    rows keeps the split most of them had while that split has room for it (in seeded random order);
    the others are placed like new groups, so removals rebalance instead of emptying a split."""
    groups = np.asarray(groups)
    n = len(groups)
    out = np.full(n, -1, np.int64)
    if n == 0:
        return out
    ratios = np.asarray(ratios, float)
    open_splits = np.flatnonzero(ratios > 0)
    label_keys = ["" if l is None else str(l) for l in labels]
    members = _members(groups)
    strata = sorted(set(label_keys))
    index = {s: k for k, s in enumerate(strata)}
    n_label = Counter(label_keys)
    target = np.array([[ratios[s] * n_label[l] for s in range(3)] for l in strata])
    count = np.zeros_like(target)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(members))
    order = order[np.argsort([-len(members[g]) for g in order], kind="stable")]
    pinned = _pinned(order, members, fixed, ratios) if fixed is not None else {}

    def stratum_of(rows: list[int]) -> int:
        votes = Counter(label_keys[i] for i in rows)
        return index[min(votes, key=lambda l: (-votes[l], l))]

    def place(rows: list[int], split: int) -> None:
        out[rows] = split
        for i in rows:
            count[index[label_keys[i]], split] += 1

    # Groups that had a split keep it while that split has room for them; the rest become free.
    free = []
    for g in [g for g in order if g in pinned] + [g for g in order if g not in pinned]:
        rows = members[g]
        if g in pinned:
            deficit = target[stratum_of(rows)] - count[stratum_of(rows)]
            if deficit[pinned[g]] >= len(rows) - 1 - 1e-9:
                place(rows, pinned[g])
                continue
        free.append(g)
    free.sort(key=lambda g: -len(members[g]))
    for g in free:
        rows = members[g]
        deficit = target[stratum_of(rows)] - count[stratum_of(rows)]
        fits = [s for s in open_splits if deficit[s] >= len(rows) - 1 - 1e-9]
        best = max(fits or list(open_splits), key=lambda s: (deficit[s], -s))
        place(rows, best)
    return out


def deviation(splits: np.ndarray, labels: Sequence[str | None], ratios: Sequence[float]) -> float:
    """The largest ``|count - ratio * n_label|`` over labels and splits."""
    keys = ["" if l is None else str(l) for l in labels]
    worst = 0.0
    for label, n in Counter(keys).items():
        rows = np.array([k == label for k in keys])
        for s in range(3):
            worst = max(worst, abs(float(np.sum(splits[rows] == s)) - ratios[s] * n))
    return worst


def split_names(index: np.ndarray) -> list[str]:
    return [SPLITS[i] for i in index]
