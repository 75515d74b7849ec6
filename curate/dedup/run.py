"""Dedup of a dataset end to end: read the compared fields, find duplicate pairs, cluster, re-apply
people's decisions, and store clusters, members and ``is_dup`` issues as one run.

Nothing is deleted: a duplicate gets an ``is_dup`` issue naming its canonical row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pyarrow as pa

from curate.dedup.clusters import components, decisions_from_rows
from curate.dedup.pairs import Progress, find_pairs, no_progress, pair_similarity
from curate.dedup.params import DedupError, DedupParams, TextStats, make_params, reads_texts, resolve_params
from curate.dedup.write import store_clusters
from curate.store import catalog
from curate.store import dedup as store
from curate.store.workspace import Workspace


@dataclass
class DedupReport:
    run_id: int
    dataset: str
    method: str
    params: dict[str, Any]
    rows: int
    compared: int
    candidates: int
    verified: int
    clusters: int
    in_clusters: int
    flagged: int
    decisions_applied: int
    seconds: float
    sizes: list[int] = field(default_factory=list)


def _libraries() -> dict[str, str]:
    import duckdb
    import scipy

    return {"numpy": np.__version__, "pyarrow": pa.__version__, "duckdb": duckdb.__version__, "scipy": scipy.__version__}


def run_dedup(workspace: Workspace, dataset: str, *, method: str | None = None, threshold: float | None = None,
              ngram: int | None = None, shingle: str | None = None, num_perm: int | None = None,
              fields: list[str] | str | None = None, neighbors: int | None = None, threads: int | None = None,
              progress: Progress = no_progress,
              engine: str = "local", address: str | None = None,
              workers: int | None = None, batch_rows: int = 10_000) -> DedupReport:
    """Find a dataset's duplicate clusters and store them as a new run (decisions re-applied); unset
    settings take ``DedupParams``' defaults.

    ``engine="ray"`` finds the clusters on Ray Data (``curate.engine.ray_dedup``; exact and minhash);
    the clusters, decisions and write-back below are the same for both engines.
    """
    started = time.perf_counter()
    progress("reading", 0, 0)
    shards, table = None, pa.table({})   # Ray reads shards, the in-process engine the table
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        params = make_params(ds["task"], method=method, threshold=threshold, ngram=ngram, shingle=shingle,
                             num_perm=num_perm, fields=fields, neighbors=neighbors, threads=threads, dataset=dataset)
        scale_out = _engine(engine, params, dataset, address)
        if scale_out:
            shards = scale_out.export_shards(workspace, con, ds["id"], ds["task"], list(params.fields), batch_rows)
        else:
            table = store.doc_texts(con, ds["id"], ds["task"], list(params.fields))
        decisions = decisions_from_rows(store.decisions(con, ds["id"]))
    # auto shingles and default thresholds for this data (a pass over the shards for Ray)
    params = resolve_params(params, (scale_out.stats(shards.name) if reads_texts(params) else TextStats())
                            if scale_out and shards else table.column("text").combine_chunks())
    with workspace.transaction() as con:
        run_id = catalog.start_run(con, "dedup", ds["id"], params.model_dump(mode="json"), _libraries())
    try:
        if scale_out and shards:
            with shards:
                found = scale_out.find(shards.name, params, address=address, workers=workers, batch_rows=batch_rows,
                                       progress=progress)
            total, groups = found.pop("total"), found.pop("groups")
            progress("member similarities", 0, sum(len(g) for g in groups))
            sim = _member_similarity(workspace, ds, params, groups)
        else:
            ids = table.column("id").to_numpy()
            graph = find_pairs(workspace, table.column("text").combine_chunks(), params, progress=progress)
            progress("clustering", 0, len(graph.pairs))
            groups = [[int(ids[i]) for i in g] for g in components(len(ids), graph.pairs)]
            position = {int(x): i for i, x in enumerate(ids)}
            total, found = len(ids), {"compared": graph.compared, "candidates": int(graph.candidates),
                                      "verified": int(len(graph.pairs))}
            sim = (lambda a, b: graph.similarity(position[a], position[b]))
        counters = store_clusters(workspace, ds["id"], run_id, params, groups, decisions, sim,
                                   {"total": total, **found}, progress)
    except BaseException as exc:
        with workspace.transaction() as con:
            catalog.finish_run(con, run_id, {}, status="failed", message=str(exc).splitlines()[0] if str(exc) else
                               type(exc).__name__)
        raise
    return DedupReport(run_id, dataset, params.method, params.model_dump(mode="json"), total, counters["compared"],
                       counters["candidates"], counters["verified"], counters["clusters"], counters["in_clusters"],
                       counters["dropped_is_dup"], counters["decisions_applied"], time.perf_counter() - started,
                       [len(g) for g in groups])


def _engine(engine: str, params: DedupParams, dataset: str, address: str | None):
    """``None`` for the local engine, else the scale-out module."""
    from curate.engine import ENGINES

    if engine not in ENGINES:
        raise DedupError(f"dedup {dataset}: unknown engine {engine!r}; fix: use one of {', '.join(ENGINES)}")
    if engine == "local":
        return None
    if params.method == "semantic":
        raise DedupError(f"dedup {dataset}: the Ray engine runs exact and minhash dedup; fix: --engine local "
                         f"for semantic")
    from curate.engine import ray_dedup
    from curate.engine.cluster import check_reachable, require_ray

    require_ray()
    if address:
        check_reachable(address)
    return ray_dedup


def _member_similarity(workspace: Workspace, ds: dict[str, Any], params: DedupParams,
                       groups: list[list[int]]) -> Callable[[int, int], float]:
    """``sim(a, b)`` by example id for the members of ``groups`` (their texts only)."""
    members = sorted(m for g in groups for m in g)
    with workspace.connect() as con:
        texts = store.doc_texts(con, ds["id"], ds["task"], list(params.fields), ids=members)
    position = {int(x): i for i, x in enumerate(texts.column("id").to_pylist())}
    sim = pair_similarity(workspace, texts.column("text").combine_chunks(), params)
    return lambda a, b: sim(position[a], position[b])
