"""Dedup of a dataset end to end: read the compared fields, find duplicate pairs, cluster, re-apply
people's decisions, and store clusters, members and ``is_dup`` issues as one run.

Nothing is deleted: a duplicate gets an ``is_dup`` issue naming its canonical row.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup import minhash, semantic
from curate.dedup.clusters import ACTIONS, Decision, Resolved, clusters_from_keys, components, match_decisions, resolve
from curate.dedup.params import DedupError, DedupParams, make_params, resolve_params
from curate.dedup.write import store_clusters
from curate.dedup.shingles import jaccard, normalize, shingles
from curate.errors import NotFound
from curate.store import catalog
from curate.store import dedup as store
from curate.store.workspace import Workspace

Progress = Callable[[str, int, int], None]
RECALL_WEIGHTS = (0.05, 0.95)  # LSH false-positive / false-negative weights


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


def _noop(stage: str, done: int, total: int) -> None:
    pass


def pair_similarity(workspace: Workspace, texts: pa.Array, params: DedupParams) -> Callable[[int, int], float]:
    """``sim(i, j)`` between two of ``texts`` as the method measures it: 1/0 for exact, the true
    Jaccard of the shingle sets for minhash, the cosine of the embeddings for semantic."""
    params = resolve_params(params, texts)
    norm = normalize(texts)
    if params.method == "exact":
        keys = norm.to_pylist()
        return lambda i, j: 1.0 if keys[i] == keys[j] else 0.0
    if params.method == "minhash":
        sh = shingles(norm, ngram=params.ngram, kind=params.shingle)
        return lambda i, j: jaccard(sh.doc_set(i), sh.doc_set(j))
    from curate.embed import embed_cached

    vectors = embed_cached(workspace, texts.to_pylist())
    return lambda i, j: float(np.dot(vectors[i], vectors[j]))


def find_pairs(workspace: Workspace, texts: list[str] | pa.Array, params: DedupParams, *,
               threshold: float | None = None, progress: Progress = _noop) -> Graph:
    """Duplicate pairs among ``texts`` by ``params.method`` at ``threshold`` (default: the params'; auto
    shingles and default thresholds resolved for ``texts`` as ``params.resolve_params`` says)."""
    norm = normalize(texts)
    if not isinstance(texts, (pa.Array, pa.ChunkedArray)):
        texts = pa.array(texts, pa.string())
    params = resolve_params(params, texts)
    t = params.threshold if threshold is None else threshold
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
        sh = shingles(norm, ngram=params.ngram, kind=params.shingle)
        progress("signing and banding", 0, n)
        # Candidates are verified, so banding favours recall: false negatives weigh 0.95 (at 0.8 and
        # 128 perms: 16 bands x 8 rows; bench/dedup.py: recall 0.91 -> 0.99 for ~2x more candidates).
        bands, rows = minhash.lsh_params(t, params.num_perm, RECALL_WEIGHTS[0], RECALL_WEIGHTS[1])
        sig = minhash.signatures(sh, params.num_perm)
        cand = minhash.candidates(sig, bands, rows, valid=valid & (sh.counts() > 0))
        progress("verifying candidates", 0, len(cand))
        pairs, sims = minhash.verify(sh, cand, t)
        return Graph(ids, pairs, sims, len(cand), lambda i, j: jaccard(sh.doc_set(i), sh.doc_set(j)),
                     int(valid.sum()), params)
    from curate.embed import embed_cached

    progress("embedding", 0, n)
    raw = texts.to_pylist() if isinstance(texts, (pa.Array, pa.ChunkedArray)) else list(texts)
    vectors = embed_cached(workspace, raw, progress=lambda d, tot: progress("embedding", d, tot))
    pairs, sims = semantic.cosine_pairs(vectors, t, k=params.neighbors, valid=valid)
    return Graph(ids, pairs, sims, len(pairs), lambda i, j: float(np.dot(vectors[i], vectors[j])), int(valid.sum()),
                 params)


def _decisions(rows: list[dict[str, Any]]) -> list[Decision]:
    return [Decision(r["id"], r["action"], frozenset(r["members"]), r["canonical_id"],
                     frozenset(r["split_out"] or []), r["author"]) for r in rows]


def _libraries() -> dict[str, str]:
    import duckdb
    import scipy

    return {"numpy": np.__version__, "pyarrow": pa.__version__, "duckdb": duckdb.__version__, "scipy": scipy.__version__}


def run_dedup(workspace: Workspace, dataset: str, *, method: str | None = None, threshold: float | None = None,
              ngram: int | None = None, shingle: str | None = None, num_perm: int | None = None,
              fields: list[str] | str | None = None, neighbors: int | None = None, progress: Progress = _noop, engine: str = "local", address: str | None = None,
              workers: int | None = None, batch_rows: int = 10_000) -> DedupReport:
    """Find a dataset's duplicate clusters and store them as a new run (decisions re-applied); unset
    settings take ``DedupParams``' defaults.

    ``engine="ray"`` finds the clusters on Ray Data (``curate.engine.ray_dedup``; exact and minhash);
    the clusters, decisions and write-back below are the same for both engines.
    """
    started = time.perf_counter()
    progress("reading", 0, 0)
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        params = make_params(ds["task"], method=method, threshold=threshold, ngram=ngram, shingle=shingle,
                             num_perm=num_perm, fields=fields, neighbors=neighbors, dataset=dataset)
        scale_out = _engine(engine, params, dataset, address)
        if scale_out:
            shards = scale_out.export_shards(workspace, con, ds["id"], ds["task"], list(params.fields), batch_rows)
        else:
            table = store.doc_texts(con, ds["id"], ds["task"], list(params.fields))
        decisions = _decisions(store.decisions(con, ds["id"]))
    # auto shingles and default thresholds for this data (a pass over the shards for Ray)
    params = resolve_params(params, scale_out.texts(shards.name) if scale_out else table.column("text").combine_chunks())
    with workspace.transaction() as con:
        run_id = catalog.start_run(con, "dedup", ds["id"], params.model_dump(mode="json"), _libraries())
    try:
        if scale_out:
            with shards:
                found = scale_out.find(shards.name, params, address=address, workers=workers, batch_rows=batch_rows,
                                       progress=progress)
            total, groups = found.pop("total"), found.pop("groups")
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


# --- reading results -------------------------------------------------------------------------------

def _latest(con, dataset: str) -> tuple[dict[str, Any], dict[str, Any]]:
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
        _, run = _latest(con, dataset)
        return store.list_clusters(con, run["id"], limit=limit, offset=offset)


def _cluster(con, dataset: str, run: dict[str, Any], cluster_id: int) -> dict[str, Any]:
    info = store.cluster(con, run["id"], cluster_id)
    if info is None:
        raise NotFound(f"dataset {dataset!r}: no cluster {cluster_id} in dedup run {run['id']}; "
                       f"fix: pick a cluster listed by the latest run")
    return info


def cluster_detail(workspace: Workspace, dataset: str, cluster_id: int) -> dict[str, Any]:
    """One cluster of the latest run with its members' compared text, role and similarity."""
    with workspace.connect() as con:
        ds, run = _latest(con, dataset)
        info = _cluster(con, dataset, run, cluster_id)
        members = store.members(con, run["id"], cluster_id)
        fields = json.loads(run["params"])["fields"]
        texts = store.doc_texts(con, ds["id"], ds["task"], fields, ids=[m["example_id"] for m in members])
    by_id = dict(zip(texts.column("id").to_pylist(), texts.column("text").to_pylist()))
    for m in members:
        m["text"] = by_id.get(m["example_id"], "")
    return {**info, "run_id": run["id"], "method": json.loads(run["params"])["method"], "members": members}


def decide(workspace: Workspace, dataset: str, cluster_id: int, action: str, *, canonical_id: int | None = None,
           split_out: list[int] | None = None, author: str = "ui") -> Resolved:
    """Record a person's decision on a cluster of the latest run and apply it to that run at once.

    ``canonical`` needs ``canonical_id`` (a member); ``split`` takes ``split_out`` members (all when
    empty) out of the cluster; ``keep_all`` flags nobody. The decision is re-applied by later runs.
    """
    if action not in ACTIONS:
        raise DedupError(f"dedup {dataset}: unknown decision {action!r}; fix: use one of {', '.join(ACTIONS)}")
    if not author or not author.strip():
        raise DedupError(f"dedup {dataset}: a decision needs who made it; fix: pass an annotator name")
    with workspace.connect() as con:
        ds, run = _latest(con, dataset)
        _cluster(con, dataset, run, cluster_id)  # raises if the cluster is not in the latest run
        member_ids = sorted(m["example_id"] for m in store.members(con, run["id"], cluster_id))
        earlier = _decisions(store.decisions(con, ds["id"]))
        params = DedupParams(**json.loads(run["params"]))
        texts = store.doc_texts(con, ds["id"], ds["task"], list(params.fields), ids=member_ids)
    if action == "canonical" and canonical_id not in member_ids:
        raise DedupError(f"dedup {dataset}: example {canonical_id} is not in cluster {cluster_id}; "
                         f"fix: choose one of {', '.join(map(str, member_ids))}")
    bad = [m for m in split_out or [] if m not in member_ids]
    if bad:
        raise DedupError(f"dedup {dataset}: example {bad[0]} is not in cluster {cluster_id}; "
                         f"fix: choose members of the cluster to split out")
    canonical_id = canonical_id if action == "canonical" else None
    new = Decision(max([d.id for d in earlier], default=0) + 1, action, frozenset(member_ids), canonical_id,
                   frozenset(split_out or []), author.strip())
    result = resolve(member_ids, match_decisions([member_ids], [*earlier, new])[0])
    sim = pair_similarity(workspace, texts.column("text").combine_chunks(), params)
    ids = texts.column("id").to_pylist()
    anchor = ids.index(result.canonical_id if result.canonical_id is not None else result.members[0])
    similarity = {m: 1.0 if i == anchor else float(sim(anchor, i)) for i, m in enumerate(ids)}
    with workspace.transaction() as con:
        decision_id = store.add_decision(con, ds["id"], run["id"], action, member_ids, canonical_id,
                                         split_out, author.strip())
        result.decision_id = decision_id
        store.update_cluster(con, run["id"], cluster_id, canonical_id=result.canonical_id, status=result.status,
                             decision_id=decision_id, roles=result.roles, similarity=similarity,
                             reason=params.method)
    return result


def export(workspace: Workspace, dataset: str, out: str | Path) -> int:
    """Write one JSON line per example: ``id`` (the record's own ``id``, else its source row number),
    ``cluster`` (null when none) and ``canonical`` (the id it is kept in favour of; itself if kept)."""
    with workspace.connect() as con:
        ds, run = _latest(con, dataset)
        table = store.export_rows(con, ds["id"], run["id"])
    path = Path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            for pid, cl, canon in zip(*(table.column(c).to_pylist() for c in ("id", "cluster", "canonical"))):
                fh.write(json.dumps({"id": json.loads(pid), "cluster": cl, "canonical": json.loads(canon)},
                                    ensure_ascii=False) + "\n")
    except OSError as exc:
        raise DedupError(f"{path}: cannot write the export ({exc.strerror}); fix: choose a writable --out path") from None
    return table.num_rows


# --- preview for the threshold slider ---------------------------------------------------------------

PREVIEW_FLOOR = {"exact": 1.0, "minhash": 0.5, "semantic": 0.7}


@dataclass
class PreviewGraph:
    n: int
    pairs: np.ndarray
    sims: np.ndarray
    floor: float
    params: DedupParams | None = None   # resolved: the shingles used and the default threshold for this data


def preview_graph(workspace: Workspace, dataset: str, *, method: str | None = None, fields: list[str] | None = None,
                  ngram: int | None = None, shingle: str | None = None, num_perm: int | None = None,
                  floor: float | None = None) -> PreviewGraph:
    """Verified pairs down to a low ``floor`` threshold, so any higher threshold's clusters follow
    without touching the texts again (``preview_sizes``)."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        params = make_params(ds["task"], method=method, ngram=ngram, shingle=shingle, num_perm=num_perm,
                             fields=fields, dataset=dataset)
        table = store.doc_texts(con, ds["id"], ds["task"], list(params.fields))
    floor = PREVIEW_FLOOR[params.method] if floor is None else floor
    texts = table.column("text").combine_chunks()
    params = resolve_params(params, texts)   # the run's defaults for this data (shingles, threshold)
    graph = find_pairs(workspace, texts, params, threshold=min(floor, params.threshold))
    return PreviewGraph(table.num_rows, graph.pairs, graph.sims, min(floor, params.threshold), params)


def preview_sizes(graph: PreviewGraph, threshold: float) -> list[int]:
    """Cluster sizes (largest first) at ``threshold`` (≥ the graph's floor)."""
    keep = graph.sims >= threshold - 1e-9
    return [len(g) for g in components(graph.n, graph.pairs[keep])]


def revision(workspace: Workspace, dataset: str) -> tuple[int, int]:
    """Changes when the dataset's rows or edits change (a cache key for previews)."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        return store.revision(con, ds["id"])


def dedup_demo(workspace: Workspace, datasets: list[str]) -> None:
    """MinHash dedup of the demo's datasets that have never been deduped (re-running adds nothing)."""
    for name in datasets:
        with workspace.connect() as con:
            ds = catalog.find_dataset(con, name)
            done = ds is not None and store.latest_run(con, ds["id"]) is not None
        if ds is not None and not done:
            run_dedup(workspace, name, method="minhash")
