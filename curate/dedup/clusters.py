"""Clusters from verified pairs, and people's decisions re-applied to the clusters of a new run.

Pure functions over arrays and plain data: no store, no UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

ACTIONS = ("canonical", "keep_all", "split")


def components(n: int, pairs: np.ndarray) -> list[np.ndarray]:
    """Connected components with two or more members, each a sorted index array, ordered by size
    (largest first) then by smallest member."""
    if n == 0 or len(pairs) == 0:
        return []
    graph = coo_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels)
    splits = np.split(order, np.cumsum(sizes)[:-1])
    groups = [np.sort(g) for g in splits if len(g) > 1]
    groups.sort(key=lambda g: (-len(g), g[0]))
    return groups


def clusters_from_keys(keys: np.ndarray, valid: np.ndarray | None = None) -> list[np.ndarray]:
    """Groups of indices sharing a key (exact duplicates), same order as ``components``."""
    idx = np.arange(len(keys)) if valid is None else np.flatnonzero(valid)
    if len(idx) < 2:
        return []
    order = idx[np.argsort(keys[idx], kind="stable")]
    ks = keys[order]
    cuts = np.flatnonzero(ks[1:] != ks[:-1]) + 1
    groups = [np.sort(g) for g in np.split(order, cuts) if len(g) > 1]
    groups.sort(key=lambda g: (-len(g), g[0]))
    return groups


@dataclass
class Decision:
    """A person's decision on a cluster (see ``ACTIONS``), with the member ids it was made on."""

    id: int
    action: str
    members: frozenset[int]
    canonical_id: int | None = None
    split_out: frozenset[int] = frozenset()
    author: str = "ui"


@dataclass
class Resolved:
    """One cluster after decisions: members (example ids) with roles, and its canonical row."""

    members: list[int]
    status: str                      # 'dup' | 'keep_all' | 'split'
    canonical_id: int | None
    roles: dict[int, str] = field(default_factory=dict)
    decision_id: int | None = None


def resolve(members: list[int], decision: Decision | None, default_canonical: int | None = None) -> Resolved:
    """Roles of a cluster's members given the decision that applies to it (or none).

    Without a decision the canonical row is ``default_canonical`` (else the smallest id, i.e. the
    first ingested) and the others are dups. ``canonical`` moves it (when the chosen row is still a
    member); ``keep_all`` keeps everyone; ``split`` takes ``split_out`` members out of the cluster
    (all of them when empty), and a cluster left with fewer than two members is dissolved.
    """
    members = sorted(members)
    canonical = default_canonical if default_canonical in members else members[0]
    if decision is None:
        return Resolved(members, "dup", canonical, {m: "canonical" if m == canonical else "dup" for m in members})
    if decision.action == "keep_all":
        return Resolved(members, "keep_all", None, {m: "kept" for m in members}, decision.id)
    if decision.action == "split":
        out = set(decision.split_out) & set(members) if decision.split_out else set(members)
        rest = [m for m in members if m not in out]
        if len(rest) < 2:
            return Resolved(members, "split", None, {m: "split" for m in members}, decision.id)
        if canonical not in rest:
            canonical = rest[0]
        roles = {m: "split" for m in out}
        roles.update({m: "canonical" if m == canonical else "dup" for m in rest})
        return Resolved(members, "dup", canonical, roles, decision.id)
    if decision.canonical_id in members:
        canonical = decision.canonical_id
    roles = {m: "canonical" if m == canonical else "dup" for m in members}
    return Resolved(members, "dup", canonical, roles, decision.id)


def match_decisions(clusters: list[list[int]], decisions: list[Decision]) -> list[Decision | None]:
    """The decision that applies to each cluster of a new run, matched by member overlap.

    Each decision goes to the cluster sharing the most members with it (at least two, or its
    chosen canonical row); a cluster matched by several decisions takes the newest (highest id).
    A ``canonical`` decision applies only if its canonical row is in the cluster.
    """
    where: dict[int, int] = {}
    for ci, members in enumerate(clusters):
        for m in members:
            where[m] = ci
    chosen: list[Decision | None] = [None] * len(clusters)
    for d in sorted(decisions, key=lambda d: d.id):
        overlap: dict[int, int] = {}
        for m in d.members:
            if m in where:
                overlap[where[m]] = overlap.get(where[m], 0) + 1
        if not overlap:
            continue
        ci = max(overlap, key=lambda c: (overlap[c], -c))
        if overlap[ci] < 2:
            continue
        if d.action == "canonical" and d.canonical_id not in clusters[ci]:
            continue
        chosen[ci] = d  # later decisions override earlier ones
    return chosen
