"""Reading a dataset's dedup results: the latest run's summary, clusters and members, and the per-method
report, as typed results (``DedupSummary``, ``Cluster``, ``ClusterDetail``, ``MethodReport``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Mapping

from curate.dedup.params import DedupParams
from curate.errors import NotFound
from curate.store import catalog
from curate.store import dedup as store
from curate.store.workspace import Workspace


def dataset_and_run(con, dataset: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dataset and its latest dedup run; ``NotFound`` when it was never deduped."""
    ds = catalog.get_dataset(con, dataset)
    run = store.latest_run(con, ds["id"])
    if run is None:
        raise NotFound(f"dataset {dataset!r} has no dedup run yet; fix: run `curate dedup {dataset}` first")
    return ds, run


@dataclass(frozen=True)
class DedupCounters:
    """What a dedup run found: rows read, clusters, rows in them, rows flagged ``is_dup`` and decisions
    re-applied (``compared``/``candidates``/``verified``: the pair search, 0 where an engine has none)."""
    total: int
    clusters: int
    in_clusters: int
    dropped_is_dup: int
    decisions_applied: int
    compared: int = 0
    candidates: int = 0
    verified: int = 0

    @classmethod
    def from_json(cls, c: Mapping[str, Any]) -> DedupCounters:
        return cls(total=c["total"], clusters=c["clusters"], in_clusters=c["in_clusters"],
                   dropped_is_dup=c["dropped_is_dup"], decisions_applied=c["decisions_applied"],
                   compared=c.get("compared", 0), candidates=c.get("candidates", 0), verified=c.get("verified", 0))


@dataclass(frozen=True)
class DedupSummary:
    """The latest dedup run of a dataset: the params it ran with (resolved), its counters and the size
    of each cluster, largest first."""
    run_id: int
    params: DedupParams
    counters: DedupCounters
    finished_at: datetime | None
    sizes: list[int]


@dataclass(frozen=True)
class MethodReport:
    """The latest run of one method on a dataset: rows in, clusters, rows in them, rows flagged ``is_dup``
    and decisions re-applied (one row of ``curate dedup``'s report table)."""
    run_id: int
    method: str
    threshold: float
    fields: list[str]
    rows: int
    clusters: int
    in_clusters: int
    flagged: int
    decisions_applied: int

    def to_json(self) -> dict[str, Any]:
        """One row of ``report`` in ``curate dedup --json``."""
        return asdict(self)


@dataclass(frozen=True)
class Cluster:
    """One cluster of a run: its size, canonical row, status (``dup``, ``keep_all``, ``split``) and the
    decision applied to it (``action`` and ``author`` None when nobody decided)."""
    cluster_id: int
    size: int
    canonical_id: int | None
    status: str
    decision_id: int | None
    action: str | None
    author: str | None

    @classmethod
    def from_row(cls, r: Mapping[str, Any]) -> Cluster:
        return cls(cluster_id=r["cluster_id"], size=r["size"], canonical_id=r["canonical_id"], status=r["status"],
                   decision_id=r["decision_id"], action=r["action"], author=r["author"])


@dataclass(frozen=True)
class Member:
    """A cluster's member: its role (``canonical``, ``dup``, ``kept``, ``split``), its similarity to the
    canonical row (None where the method has none) and its compared text."""
    example_id: int
    role: str
    similarity: float | None
    text: str


@dataclass(frozen=True)
class ClusterDetail(Cluster):
    """A cluster with the run and method that found it and its members, canonical first."""
    run_id: int
    method: str
    members: list[Member]


def summary(workspace: Workspace, dataset: str) -> DedupSummary | None:
    """The latest dedup run of a dataset: params, counters and cluster sizes; None if never run."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        run = store.latest_run(con, ds["id"])
        if run is None:
            return None
        sizes = store.sizes(con, run["id"])
    return DedupSummary(run["id"], DedupParams.model_validate(json.loads(run["params"])),
                        DedupCounters.from_json(json.loads(run["counters"])), run["finished_at"], sizes)


def report(workspace: Workspace, dataset: str) -> list[MethodReport]:
    """Rows in, clusters and rows flagged by the latest run of each method on a dataset."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        runs = store.latest_by_method(con, ds["id"])
    out = []
    for r in runs:
        c, p = json.loads(r["counters"]), json.loads(r["params"])
        out.append(MethodReport(run_id=r["id"], method=r["method"], threshold=p["threshold"], fields=p["fields"],
                                rows=c["total"], clusters=c["clusters"], in_clusters=c["in_clusters"],
                                flagged=c["dropped_is_dup"], decisions_applied=c["decisions_applied"]))
    return out


def clusters(workspace: Workspace, dataset: str, *, limit: int = 100, offset: int = 0) -> list[Cluster]:
    """The latest run's clusters, largest first, with the decision applied to each."""
    with workspace.connect() as con:
        _, run = dataset_and_run(con, dataset)
        return [Cluster.from_row(r) for r in store.list_clusters(con, run["id"], limit=limit, offset=offset)]


def cluster_or_raise(con, dataset: str, run: dict[str, Any], cluster_id: int) -> dict[str, Any]:
    """One cluster of ``run``; ``NotFound`` naming the run when it has no such cluster."""
    info = store.cluster(con, run["id"], cluster_id)
    if info is None:
        raise NotFound(f"dataset {dataset!r}: no cluster {cluster_id} in dedup run {run['id']}; "
                       f"fix: pick a cluster listed by the latest run")
    return info


def cluster_detail(workspace: Workspace, dataset: str, cluster_id: int) -> ClusterDetail:
    """One cluster of the latest run with its members' compared text, role and similarity."""
    with workspace.connect() as con:
        ds, run = dataset_and_run(con, dataset)
        info = cluster_or_raise(con, dataset, run, cluster_id)
        members = store.members(con, run["id"], cluster_id)
        fields = json.loads(run["params"])["fields"]
        texts = store.doc_texts(con, ds["id"], ds["task"], fields, ids=[m["example_id"] for m in members])
    by_id = dict(zip(texts.column("id").to_pylist(), texts.column("text").to_pylist()))
    return ClusterDetail(**vars(Cluster.from_row(info)), run_id=run["id"], method=json.loads(run["params"])["method"],
                         members=[Member(m["example_id"], m["role"], m["similarity"], by_id.get(m["example_id"], ""))
                                  for m in members])
