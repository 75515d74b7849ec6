"""Clusters from verified pairs, and people's decisions re-applied to the clusters of a new run.

Pure functions over arrays and plain data: no store, no UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    sizes = np.bincount(labels)
    members = np.flatnonzero(sizes[labels] > 1)  # split only the rows in clusters, not every singleton
    order = members[np.argsort(labels[members], kind="stable")]
    cuts = np.cumsum(sizes[sizes > 1])[:-1]
    groups = list(np.split(order, cuts))  # members come out sorted: argsort is stable over sorted rows
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


def decisions_from_rows(rows: list[dict[str, Any]]) -> list[Decision]:
    """Decisions as the store lists them (``curate.store.dedup.decisions``)."""
    return [Decision(r["id"], r["action"], frozenset(r["members"]), r["canonical_id"],
                     frozenset(r["split_out"] or []), r["author"]) for r in rows]


@dataclass
class Resolved:
    """One cluster after decisions: members (example ids) with roles, and its canonical row."""

    members: list[int]
    status: str                      # 'dup' | 'keep_all' | 'split'
    canonical_id: int | None
    roles: dict[int, str] = field(default_factory=dict)
    decision_id: int | None = None


def resolve(members: list[int], decisions: list[Decision] | None = None) -> Resolved:
    """Roles of a cluster's members after the decisions that apply to it, oldest first.

    Without decisions the canonical row is the smallest id (the first ingested) and the others are
    dups. ``canonical`` makes its row the canonical one (when still a member) and the cluster a
    duplicate cluster again; ``keep_all`` keeps everyone; ``split`` takes ``split_out`` members out
    of the cluster (all of them when empty). A cluster left with fewer than two members is dissolved.
    """
    members = sorted(members)
    canonical, status, out, last = members[0], "dup", set(), None
    for d in decisions or []:
        last = d.id
        if d.action == "canonical":
            if d.canonical_id in members and d.canonical_id not in out:
                canonical, status = d.canonical_id, "dup"
        elif d.action == "keep_all":
            status = "keep_all"
        elif d.action == "split":
            out |= (set(d.split_out) & set(members)) if d.split_out else set(members)
    rest = [m for m in members if m not in out]
    if len(rest) < 2:
        return Resolved(members, "split", None, {m: "split" for m in members}, last)
    if canonical not in rest:
        canonical = rest[0]
    roles = {m: "split" for m in out}
    if status == "keep_all":
        roles.update({m: "kept" for m in rest})
        return Resolved(members, "keep_all", None, roles, last)
    roles.update({m: "canonical" if m == canonical else "dup" for m in rest})
    return Resolved(members, "dup", canonical, roles, last)


def match_decisions(clusters: list[list[int]], decisions: list[Decision]) -> list[list[Decision]]:
    """The decisions that apply to each cluster of a new run (oldest first), matched by overlap.

    Each decision goes to the one cluster sharing the most of its members, if it shares at least two
    (a decision is about members being duplicates of one another, so one shared row says nothing).
    """
    where: dict[int, int] = {}
    for ci, members in enumerate(clusters):
        for m in members:
            where[m] = ci
    chosen: list[list[Decision]] = [[] for _ in clusters]
    for d in sorted(decisions, key=lambda d: d.id):
        overlap: dict[int, int] = {}
        for m in d.members:
            if m in where:
                overlap[where[m]] = overlap.get(where[m], 0) + 1
        if not overlap:
            continue
        ci = max(overlap, key=lambda c: (overlap[c], -c))
        if overlap[ci] >= 2:
            chosen[ci].append(d)
    return chosen
