"""Budgeted selection: preview which rows a strategy picks, then write them as a version or a labelling queue.

``preview`` reads the pool and runs the strategies (nothing is written); ``create`` writes the pick as
a new immutable version (``purpose="train"``: the source's validation/test rows kept whole, the
training split cut to the budget, every left-out row recorded as ``not_selected`` with its rank) or
as a labelling queue (``purpose="label"``: the Label page's ``selected`` queue, in pick order). Both
record per row why it was picked: its rank, combined score and each strategy's score.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa

from curate.errors import InputError
from curate.select.pool import Source, build_pool, load_source
from curate.select.strategies import Picked, Pool, parse_strategy, select
from curate.store import select as store
from curate.store.workspace import Workspace
from curate.versions.refs import check_name

PURPOSES = ("train", "label")


@dataclass(frozen=True)
class ClassCount:
    """One class of a selection: rows in the pool and rows selected."""
    pool: int
    selected: int


@dataclass(frozen=True)
class Preview:
    """A selection before anything is written."""
    source: Source
    pool: Pool
    picked: Picked
    weights: dict[str, float]
    params: dict[str, Any]
    seconds: float

    def counts(self) -> dict[str, ClassCount]:
        """Per class: rows in the pool and rows selected."""
        pool, chosen = {}, {}
        for lab in self.pool.labels:
            pool[str(lab)] = pool.get(str(lab), 0) + 1
        for i in self.picked.order:
            chosen[str(self.pool.labels[i])] = chosen.get(str(self.pool.labels[i]), 0) + 1
        return {k: ClassCount(pool[k], chosen.get(k, 0)) for k in sorted(pool)}

    def selected_ids(self) -> list[int]:
        return [int(self.pool.example_ids[i]) for i in self.picked.order]

    def reasons(self) -> pa.Table:
        """``example_id, rank, score, scores`` (JSON of each strategy's score) of the picked rows."""
        names = list(self.picked.scores)
        scores = [json.dumps({n: _round(self.picked.scores[n][r]) for n in names})
                  for r in range(len(self.picked.order))]
        return pa.table({"example_id": pa.array(self.selected_ids(), pa.int64()),
                         "rank": pa.array(np.arange(1, len(self.picked.order) + 1), pa.int32()),
                         "score": pa.array(self.picked.score.astype(float), pa.float64()),
                         "scores": pa.array(scores, pa.string())})


@dataclass(frozen=True)
class Selection:
    """A written selection (``create``): the new version's ``ref`` (purpose ``train``) or the labelling
    ``queue`` (``label``), rows selected, per class counts, the params it was made with and its time."""
    selection_id: int
    selected: int
    counts: dict[str, ClassCount]
    params: dict[str, Any]          # as stored with the selection
    seconds: float
    ref: str | None = None
    queue: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``curate select --json``."""
        out = {"selected": self.selected, "counts": {k: asdict(c) for k, c in self.counts.items()},
               "params": self.params, "seconds": self.seconds}
        if self.queue is not None:
            return {**out, "selection_id": self.selection_id, "queue": self.queue}
        return {**out, "ref": self.ref, "selection_id": self.selection_id}


def _round(v: float) -> float | None:
    return None if v is None or np.isnan(v) else round(float(v), 4)


def check_budget(budget: int) -> int:
    if not isinstance(budget, (int, np.integer)) or budget < 1:
        raise InputError("--budget", f"budget must be a positive number of rows, got {budget!r}",
                         fix="e.g. --budget 1000")
    return int(budget)


def preview(workspace: Workspace, ref: str, budget: int, strategy: str | dict[str, float], *, seed: int = 0,
            balance: bool = True, source: Source | None = None, pool: Pool | None = None) -> Preview:
    """Run the strategies over ``ref``'s training pool and return what they pick (nothing is written).
    ``source``/``pool`` reuse an earlier read (the UI moves a slider without re-reading the store)."""
    started = time.perf_counter()
    budget = check_budget(budget)
    weights = parse_strategy(strategy) if isinstance(strategy, str) else dict(strategy)
    src = source or load_source(workspace, ref)
    if not len(src.pool_index):
        raise InputError(ref, "the version has no training rows to select from",
                         fix="select from a version with a train split")
    pool = pool or build_pool(workspace, src, weights)
    picked = select(pool, budget, weights, seed=seed, balance=balance)
    params = {"from": src.ref, "budget": budget, "strategy": weights, "seed": int(seed), "balance": bool(balance),
              "pool": len(pool.example_ids), "quality_signals": sorted(pool.signals),
              "margins": pool.margin is not None and bool(np.isfinite(pool.margin).any())}
    return Preview(src, pool, picked, weights, params, time.perf_counter() - started)


def create(workspace: Workspace, ref: str, budget: int, strategy: str | dict[str, float], name: str, *,
           purpose: str = "train", seed: int = 0, balance: bool = True, note: str | None = None,
           chosen: Preview | None = None) -> Selection:
    """Write a selection as version ``DATASET:name`` (``purpose="train"``) or as the labelling queue
    ``name`` (``"label"``)."""
    if purpose not in PURPOSES:
        raise InputError("--for", f"unknown purpose {purpose!r}", fix="use --for train or --for label")
    check_name(name, "selection")
    p = chosen or preview(workspace, ref, budget, strategy, seed=seed, balance=balance)
    src, reasons = p.source, p.reasons()
    ds = src.dataset
    counters = {"pool": len(p.pool.example_ids), "selected": len(p.picked.order),
                "excluded_clean": int(p.picked.excluded.sum()), "quotas": p.picked.quotas,
                "seconds": round(p.seconds, 3)}

    def record(con, version_id: int | None) -> int:
        return store.insert_selection(con, dataset_id=ds["id"], name=name, source=src.ref, purpose=purpose,
                                      version_id=version_id, params=p.params, counters=counters, rows=reasons)

    made = partial(Selection, selected=len(p.picked.order), counts=p.counts(), params=p.params,
                   seconds=round(p.seconds, 3))
    if purpose == "label":
        with workspace.transaction() as con:
            if store.find_selection(con, ds["id"], name=name, purpose="label"):
                raise InputError("--name", f"a labelling selection named {name!r} exists already",
                                 fix="choose a new name")
            return made(selection_id=record(con, None), queue=name)
    from curate.versions.subset import create_subset

    held: dict[str, int] = {}
    version = create_subset(workspace, src.version, src.rows, name, keep_train=p.selected_ids(),
                            dropped=_dropped(p), params={"selection": p.params}, counters={"selection": counters},
                            note=note, also=lambda con, vid: held.setdefault("id", record(con, vid)))
    return made(selection_id=held["id"], ref=version.ref)


def _dropped(p: Preview) -> dict[int, tuple[str, str]]:
    """Every training row of the source not in the selection, with why."""
    ids = p.pool.example_ids
    picked = set(p.selected_ids())
    order = np.argsort(-p.picked.base, kind="stable")
    rank = np.empty(len(ids), np.int64)
    rank[order] = np.arange(1, len(ids) + 1)
    out: dict[int, tuple[str, str]] = {eid: ("not_selected", why) for eid, why in p.source.left_out.items()}
    for k, eid in enumerate(ids.tolist()):
        if eid in picked:
            continue
        if p.picked.excluded[k]:
            out[eid] = ("not_selected", "likely label error (suspects run): left out by clean")
        else:
            out[eid] = ("not_selected", f"over budget (score rank {rank[k]} of {len(ids)})")
    return out


def pool_map(preview: Preview, *, limit: int = 4000, seed: int = 0) -> list[dict[str, Any]]:
    """A 2-D PCA map of the pool's embeddings (``x, y, label, selected, rank, text``), at most ``limit``
    points: every selected row plus a seeded sample of the rest."""
    from sklearn.decomposition import PCA

    pool, src = preview.pool, preview.source
    if pool.embeddings is None or len(pool.example_ids) < 3:
        return []
    rank = np.zeros(len(pool.example_ids), np.int64)
    rank[preview.picked.order] = np.arange(1, len(preview.picked.order) + 1)
    rest = np.flatnonzero(rank == 0)
    keep = max(0, limit - int((rank > 0).sum()))
    rest = np.random.default_rng(seed).choice(rest, size=min(keep, len(rest)), replace=False)
    shown = np.concatenate([preview.picked.order, rest])
    xy = PCA(n_components=2, random_state=0).fit(pool.embeddings).transform(pool.embeddings[shown])
    return [{"x": float(xy[k, 0]), "y": float(xy[k, 1]), "label": str(pool.labels[i]), "selected": bool(rank[i]),
             "rank": int(rank[i]) or None, "text": (src.texts[i] or "")[:120]} for k, i in enumerate(shown.tolist())]


def selection_of(workspace: Workspace, ref: str, example_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Why each row of version ``ref`` was picked (rank, score, per-strategy scores); [] for other versions."""
    from curate.store import catalog, versions as vstore
    from curate.versions.refs import parse_ref

    dataset, name = parse_ref(ref)
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        version = vstore.find_version(con, ds["id"], name)
        found = store.find_selection(con, ds["id"], version_id=version["id"]) if version else None
        rows = store.selection_rows(con, found["id"], example_ids) if found else []
    for r in rows:
        r["scores"] = json.loads(r["scores"]) if isinstance(r["scores"], str) else r["scores"]
    return rows


__all__ = ["PURPOSES", "ClassCount", "Preview", "Selection", "create", "pool_map", "preview", "selection_of"]
