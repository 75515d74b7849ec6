"""Read a selection's pool from the store: a version's training rows with their signals, embeddings,
pre-label margins and suspect flags.

The pool is the version's ``train`` split, less rows that are examples of a pinned eval set (by
example id, and by near-duplicate text for eval sets pinned after the version was made: those made
before were already decontaminated when the version was created). Validation and test rows are not
candidates: a selected version keeps them as they are, so its scores compare with the source's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from curate.select.strategies import Pool
from curate.store import catalog, select as store, versions as vstore
from curate.store.workspace import Workspace
from curate.versions.neardup import cross_pairs, texts_of
from curate.versions.model import Version
from curate.versions.refs import parse_ref


@dataclass
class Source:
    """The version a selection starts from, its rows (all ``ROW_COLUMNS``) and the pool within them."""
    ref: str
    dataset: dict[str, Any]
    version: Version
    rows: pa.Table
    pool_index: np.ndarray       # positions in ``rows`` of the candidates
    texts: list[str]             # compared text of each candidate
    left_out: dict[int, str]     # example id -> why a train row is not a candidate


def _version(con, ref: str) -> tuple[dict[str, Any], Version]:
    from curate.versions.core import read_version

    dataset, _ = parse_ref(ref)
    return catalog.get_dataset(con, dataset), read_version(con, ref)


def load_source(workspace: Workspace, ref: str) -> Source:
    """The source version's rows and its candidate pool (train rows not in an eval set)."""
    with workspace.connect() as con:
        ds, version = _version(con, ref)
        rows = vstore.version_rows(con, version.id, columns=vstore.ROW_COLUMNS)
        evals = vstore.list_eval_sets(con, task=ds["task"])
        eval_tables = [(e, vstore.eval_set_rows(con, e)) for e in evals]
    split = np.array(rows.column("split").to_pylist())
    ids = rows.column("example_id").to_pylist()
    train = np.flatnonzero(split == "train")
    left_out: dict[int, str] = {}
    eval_ids = {}
    for e, table in eval_tables:
        for i in table.column("example_id").to_pylist():
            eval_ids.setdefault(i, e["name"])
    texts = texts_of(rows.take(pa.array(train)), ds["task"]) if len(train) else []
    for e, table in eval_tables:
        if e["version_id"] == version.id or e["created_at"] <= version.created_at:
            continue
        pairs, sims = cross_pairs(texts, texts_of(table, ds["task"]))
        for (k, _), s in zip(pairs.tolist(), sims.tolist()):
            left_out.setdefault(ids[train[k]], f"near-duplicate (Jaccard {s:.2f}) of eval set {e['name']}")
    for k in train:
        if ids[k] in eval_ids:
            left_out.setdefault(ids[k], f"example of eval set {eval_ids[ids[k]]}")
    keep = [k for k in range(len(train)) if ids[train[k]] not in left_out]
    return Source(ref, ds, version, rows, train[keep], [texts[k] for k in keep], left_out)


def build_pool(workspace: Workspace, src: Source, weights: dict[str, float], *,
               embeddings: bool | None = None) -> Pool:
    """The pool's arrays, reading only what the strategies ``weights`` use (embeddings: diversity, mix)."""
    ids = np.array(src.rows.column("example_id").to_pylist(), np.int64)[src.pool_index]
    labels: list[str | None] = [src.rows.column("label")[int(k)].as_py() for k in src.pool_index] \
        if src.dataset["task"] == "classification" else [None] * len(ids)
    pool = Pool(ids, labels)
    if embeddings or (embeddings is None and ({"diversity", "mix", "kcenter"} & set(weights))):
        from curate.embed import embed_cached

        pool.embeddings = embed_cached(workspace, src.texts)
    with workspace.connect() as con:
        if {"quality", "mix"} & set(weights):
            pool.signals = _signals(store.current_signals(con, src.dataset["id"], ids.tolist()), ids)
        if "uncertainty" in weights:
            question = vstore.label_question(con, src.dataset["id"])
            margins = store.latest_margins(con, question) if question is not None else {}
            pool.margin = np.array([margins.get(int(i), np.nan) for i in ids], float)
        if "clean" in weights:
            flagged = store.suspect_scores(con, src.dataset["id"]) if vstore.has_table(con, "suspect_labels") else {}
            pool.suspect = np.array([int(i) in flagged for i in ids], bool)
    return pool


def _signals(long: pa.Table, ids: np.ndarray) -> dict[str, np.ndarray]:
    where = {int(i): k for k, i in enumerate(ids.tolist())}
    out: dict[str, np.ndarray] = {}
    for e, name, value in zip(long.column("example_id").to_pylist(), long.column("name").to_pylist(),
                              long.column("value").to_pylist()):
        out.setdefault(name, np.full(len(ids), np.nan))[where[int(e)]] = value
    return out

