"""Connected components of a graph held as a Ray Dataset of edges ``(a, b)``, computed across actors.

Each of ``parts`` actors owns the nodes ``v`` with ``v % parts == k``: their labels and the edges
touching them (both directions). Min-label propagation in rounds: an actor sends, for every neighbour
of a node whose label fell in the last round, that label to the neighbour's owner (the minimum per
neighbour, one Arrow table per owner, passed actor to actor through the object store); owners keep the
smaller label. When no label falls, each node's label is the smallest id of its component. The driver
only routes object references and sums the per-round change counts, as data-juicer's BTS union-find
(``ray_bts_minhash_deduplicator.py``) keeps its parents in actors; at the end it reads the labels back
(for the store, which lives in one process anyway) and groups them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa


def _split(block: pa.Table, parts: int) -> list[pa.Table]:
    """Both directions of a block's edges, split by the owner of the source node."""
    if block.num_rows == 0:   # an empty block may carry its upstream's columns
        block = pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.int64())})
    a, b = block.column("a").to_numpy(), block.column("b").to_numpy()
    src, dst = np.concatenate([a, b]), np.concatenate([b, a])
    owner = src % parts
    out = [pa.table({"src": src[owner == k], "dst": dst[owner == k]}) for k in range(parts)]
    return out if parts > 1 else out[0]   # one return value per ref (num_returns=parts)


class LabelShard:
    """The labels of the nodes one actor owns and the edges from them."""

    def __init__(self, part: int, parts: int) -> None:
        self.part, self.parts = part, parts
        self.src = self.dst = self.nodes = self.label = np.zeros(0, np.int64)
        self.fell = np.zeros(0, bool)

    def add_edges(self, *tables: pa.Table) -> int:
        table = pa.concat_tables(tables) if tables else pa.table({"src": [], "dst": []})
        src, dst = table.column("src").to_numpy(), table.column("dst").to_numpy()
        self.nodes = np.unique(src)
        self.src, self.dst = np.searchsorted(self.nodes, src), dst     # src as an index into nodes
        self.label = self.nodes.copy()
        self.fell = np.ones(len(self.nodes), bool)
        return len(self.nodes)

    def emit(self) -> list[pa.Table] | pa.Table:
        """Per owner: (node, smallest label offered to it by a neighbour whose label fell)."""
        live = self.fell[self.src]
        dst, offer = self.dst[live], self.label[self.src[live]]
        order = np.lexsort((offer, dst))
        dst, offer = dst[order], offer[order]
        first = np.ones(len(dst), bool)
        first[1:] = dst[1:] != dst[:-1]
        dst, offer = dst[first], offer[first]
        self.fell[:] = False
        out = [pa.table({"node": dst[dst % self.parts == k], "label": offer[dst % self.parts == k]})
               for k in range(self.parts)]
        return out if self.parts > 1 else out[0]

    def receive(self, *tables: pa.Table) -> int:
        """Keep the smaller labels; how many labels fell."""
        for t in tables:
            if t.num_rows == 0:
                continue
            idx = np.searchsorted(self.nodes, t.column("node").to_numpy())
            offer = t.column("label").to_numpy()
            lower = offer < self.label[idx]
            np.minimum.at(self.label, idx[lower], offer[lower])
            self.fell[idx[lower]] = True
        return int(self.fell.sum())

    def labels(self) -> pa.Table:
        return pa.table({"node": self.nodes, "label": self.label})


def _refs(result: Any, parts: int) -> list:
    return [result] if parts == 1 else list(result)


ATTEMPTS = 3   # a shard actor that dies loses its labels: the phase starts over from the materialised edges


def components(ray: Any, edges: Any, *, parts: int | None = None) -> list[list[int]]:
    """Clusters of the graph of ``edges`` (sorted ids, largest first, then by smallest id). Ray retries a
    killed task but does not restart an actor here (its labels would be gone): when a shard actor dies,
    the propagation starts over on fresh actors, up to ``ATTEMPTS`` times."""
    parts = max(1, parts or int(ray.cluster_resources().get("CPU", 1)))
    for _ in range(ATTEMPTS - 1):
        try:
            return _propagate(ray, edges, parts)
        except ray.exceptions.RayActorError:
            pass
    return _propagate(ray, edges, parts)   # the last attempt's error is the run's


def _propagate(ray: Any, edges: Any, parts: int) -> list[list[int]]:
    split = ray.remote(_split).options(num_returns=parts)
    Shard = ray.remote(num_cpus=0)(LabelShard)
    shards = [Shard.remote(k, parts) for k in range(parts)]
    try:
        pieces = [_refs(split.remote(ref, parts), parts) for ref in edges.to_arrow_refs()]
        ray.get([s.add_edges.remote(*[p[k] for p in pieces]) for k, s in enumerate(shards)])
        while True:
            out = [_refs(s.emit.options(num_returns=parts).remote(), parts) for s in shards]
            fell = ray.get([s.receive.remote(*[o[k] for o in out]) for k, s in enumerate(shards)])
            if sum(fell) == 0:
                break
        table = pa.concat_tables(ray.get([s.labels.remote() for s in shards]))
    finally:
        for s in shards:
            ray.kill(s)
    return _groups(table.column("node").to_numpy(), table.column("label").to_numpy())


def _groups(nodes: np.ndarray, labels: np.ndarray) -> list[list[int]]:
    order = np.lexsort((nodes, labels))
    nodes, labels = nodes[order], labels[order]
    cuts = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    groups = [g.tolist() for g in np.split(nodes, cuts) if len(g) > 1]
    groups.sort(key=lambda g: (-len(g), g[0]))
    return groups
