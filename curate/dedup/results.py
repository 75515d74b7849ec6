"""Reading a dataset's dedup results: the latest run's summary, clusters and members, and the per-method
report.
"""

from __future__ import annotations

import json
from typing import Any

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


def summary(workspace: Workspace, dataset: str) -> dict[str, Any] | None:
    """The latest dedup run of a dataset: params, counters and cluster sizes; None if never run."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        run = store.latest_run(con, ds["id"])
        if run is None:
            return None
        sizes = store.sizes(con, run["id"])
    return {"run_id": run["id"], "params": json.loads(run["params"]), "counters": json.loads(run["counters"]),
            "finished_at": run["finished_at"], "sizes": sizes}


def report(workspace: Workspace, dataset: str) -> list[dict[str, Any]]:
    """Rows in, clusters and rows flagged by the latest run of each method on a dataset."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        runs = store.latest_by_method(con, ds["id"])
    out = []
    for r in runs:
        c, p = json.loads(r["counters"]), json.loads(r["params"])
        out.append({"run_id": r["id"], "method": r["method"], "threshold": p["threshold"], "fields": p["fields"],
                    "rows": c["total"], "clusters": c["clusters"], "in_clusters": c["in_clusters"],
                    "flagged": c["dropped_is_dup"], "decisions_applied": c["decisions_applied"]})
    return out


def clusters(workspace: Workspace, dataset: str, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """The latest run's clusters, largest first, with the decision applied to each."""
    with workspace.connect() as con:
        _, run = dataset_and_run(con, dataset)
        return store.list_clusters(con, run["id"], limit=limit, offset=offset)


def cluster_or_raise(con, dataset: str, run: dict[str, Any], cluster_id: int) -> dict[str, Any]:
    """One cluster of ``run``; ``NotFound`` naming the run when it has no such cluster."""
    info = store.cluster(con, run["id"], cluster_id)
    if info is None:
        raise NotFound(f"dataset {dataset!r}: no cluster {cluster_id} in dedup run {run['id']}; "
                       f"fix: pick a cluster listed by the latest run")
    return info


def cluster_detail(workspace: Workspace, dataset: str, cluster_id: int) -> dict[str, Any]:
    """One cluster of the latest run with its members' compared text, role and similarity."""
    with workspace.connect() as con:
        ds, run = dataset_and_run(con, dataset)
        info = cluster_or_raise(con, dataset, run, cluster_id)
        members = store.members(con, run["id"], cluster_id)
        fields = json.loads(run["params"])["fields"]
        texts = store.doc_texts(con, ds["id"], ds["task"], fields, ids=[m["example_id"] for m in members])
    by_id = dict(zip(texts.column("id").to_pylist(), texts.column("text").to_pylist()))
    for m in members:
        m["text"] = by_id.get(m["example_id"], "")
    return {**info, "run_id": run["id"], "method": json.loads(run["params"])["method"], "members": members}
