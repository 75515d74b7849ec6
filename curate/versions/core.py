"""Read versions and pin eval sets. Versions are immutable snapshots of a dataset with leak-free splits,
made by ``curate.versions.create.create_version``; nothing ever updates a version afterwards.

Results are typed (``curate.versions.model``): ``Version`` (as listed), ``VersionDetail`` (one
version with its rows per split, rows left out and exports) and ``EvalSet``.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pyarrow as pa

from curate.errors import InputError, NotFound
from curate.store import catalog, versions as store
from curate.store.workspace import Workspace
from curate.versions.model import EvalSet, Leak, Version, VersionDetail
from curate.versions.params import DEFAULT_RATIOS
from curate.versions.neardup import NearDup, near_pairs, texts_of
from curate.versions.refs import check_name, check_split, make_ref, parse_ref

ROW_KEYS = ("example_id", "split", "text", "label", "instruction", "input", "response", "messages", "spans",
            "chosen", "rejected")
JSON_KEYS = ("messages", "spans", "chosen", "rejected")


# --- reading ---------------------------------------------------------------------------------------

def _version(con, ref: str) -> dict[str, Any]:
    """The stored ``versions`` row of ``ref`` (with ``dataset``), or NotFound listing the versions."""
    dataset, name = parse_ref(ref)
    ds = catalog.get_dataset(con, dataset)
    found = store.find_version(con, ds["id"], name)
    if found is None:
        names = [v["name"] for v in store.list_versions(con, ds["id"])]
        known = ", ".join(names) if names else f"none yet; create one with `curate version create {dataset} --name v1`"
        raise NotFound(f"dataset {dataset!r} has no version {name!r} (versions: {known})")
    return found


def read_version(con, ref: str) -> Version:
    """The version ``ref`` as listed (its parent left out: ``get_version`` names it)."""
    return Version.from_row(_version(con, ref))


def _as_rows(table: pa.Table) -> list[dict[str, Any]]:
    rows = table.to_pylist()
    for row in rows:
        for key in JSON_KEYS:
            row[key] = json.loads(row[key]) if row.get(key) else None
    return rows


def load_rows(workspace: Workspace, ref: str, split: str | None = None) -> list[dict[str, Any]]:
    """A version's rows (``ROW_KEYS``; ``label`` the final label, ``messages`` a list), ordered train,
    validation, test, then by example id. ``split`` limits them to one split."""
    check_split(split)
    with workspace.connect() as con:
        version = _version(con, ref)
        return _as_rows(store.version_rows(con, version["id"], split))


def get_version(workspace: Workspace, ref: str) -> VersionDetail:
    """One version: params, counters, parent, source runs, rows per split and label, why rows were
    left out (``dropped_rows``; ``dropped_counts`` per reason) and its exports."""
    with workspace.connect() as con:
        row = _version(con, ref)
        parent = store.get_version_by_id(con, row["parent_id"]) if row["parent_id"] else None
        v = Version.from_row(row, make_ref(parent["dataset"], parent["name"]) if parent else None)
        source_runs = [r for r in v.source_runs if isinstance(r, int)]
        return VersionDetail(**vars(v), split_counts=store.split_counts(con, v.id), dropped_rows=store.dropped(con, v.id),
                             runs=store.runs_named(con, source_runs), exports=store.list_exports(con, v.id),
                             eval_sets=[EvalSet.from_row(e) for e in store.list_eval_sets(con, v.dataset_id)
                                        if e["version_id"] == v.id])


def list_versions(workspace: Workspace, dataset: str) -> list[Version]:
    """A dataset's versions, oldest first, with parent (its name), note, params, counters and row count."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        return [Version.from_row(v) for v in store.list_versions(con, ds["id"])]


def issue_kinds(workspace: Workspace, dataset: str) -> dict[str, int]:
    """Kinds of the dataset's current issues with how many examples each flags."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        issues = store.current_issues(con, ds["id"])
    return dict(sorted(Counter(kind for _, kind in {(i["example_id"], i["kind"]) for i in issues}).items()))


def check_leaks(workspace: Workspace, ref: str, near: NearDup = NearDup()) -> list[Leak]:
    """Near-duplicate pairs of a version whose rows sit in different splits (must be none), recomputed
    from the materialised rows."""
    with workspace.connect() as con:
        version = _version(con, ref)
        table = store.version_rows(con, version["id"])
    pairs, sims = near_pairs(texts_of(table, version["task"]), near)
    ids, split = table.column("example_id").to_pylist(), table.column("split").to_pylist()
    return [Leak(ids[i], ids[j], split[i], split[j], round(float(s), 3))
            for (i, j), s in zip(pairs.tolist(), sims.tolist()) if split[i] != split[j]]


# --- eval sets -------------------------------------------------------------------------------------

def pin_eval_set(workspace: Workspace, ref: str, split: str, name: str) -> EvalSet:
    """Pin one split of a version (``all``: every row) as the eval set ``name``. Later versions of
    every dataset of the same task keep its examples and their near-duplicates out of their splits."""
    check_split(split, allow_all=True)
    check_name(name, "eval set")
    with workspace.transaction() as con:
        version = _version(con, ref)
        if store.find_eval_set(con, name):
            raise InputError("--as", f"an eval set named {name!r} exists already", fix="choose another name")
        n = store.version_rows(con, version["id"], None if split == "all" else split, ("example_id",)).num_rows
        if n == 0:
            raise InputError("--split", f"{ref} has no {split} rows to pin", fix="pin a split that has rows")
        store.insert_eval_set(con, name, version["id"], split, n)
        return EvalSet.from_row(store.find_eval_set(con, name) or {})


def list_eval_sets(workspace: Workspace, dataset: str | None = None) -> list[EvalSet]:
    """Pinned eval sets (of one dataset, or all)."""
    with workspace.connect() as con:
        ds_id = catalog.get_dataset(con, dataset)["id"] if dataset else None
        return [EvalSet.from_row(r) for r in store.list_eval_sets(con, ds_id)]


def eval_rows(workspace: Workspace, eval_name: str) -> list[dict[str, Any]]:
    """The rows of an eval set (same keys and order as ``load_rows``)."""
    with workspace.connect() as con:
        found = store.find_eval_set(con, eval_name)
        if found is None:
            known = ", ".join(e["name"] for e in store.list_eval_sets(con)) or "none yet"
            raise NotFound(f"no eval set named {eval_name!r} (eval sets: {known}); "
                           f"fix: pin one with `curate version pin DATASET:NAME --split test --as NAME`")
        return _as_rows(store.eval_set_rows(con, found))
