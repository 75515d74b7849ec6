"""Create a version: the dataset as it stands, materialised with leak-free splits in one transaction.

``create_version`` runs in phases, one function each: read the dataset as it stands (current edits,
issues, dup clusters, labels by a rule; ``_read``), leave out excluded and unlabelled rows with their
reason (``_left_out``), group the rest (dup cluster, near-duplicate component, user ``group`` column;
``_groups``), leave out decontaminated groups (``_decontaminate``), split the groups stratified by
label and check that no near-duplicate pair crosses splits (``_split``), then write rows and reasons
(``_write``). Nothing ever updates a version afterwards.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyarrow as pa

from curate.errors import InputError
from curate.store import catalog, examples
from curate.store import label as label_store, versions as store
from curate.store.workspace import Workspace
from curate.versions import splits as splitting
from curate.versions.core import get_version
from curate.versions.params import DEFAULT_RATIOS
from curate.versions.inputs import (ANSWERED, apply_answers, check_choices, external_texts, fields_table,
                                    label_rule as parse_rule, strata)
from curate.versions.model import Version, VersionDetail
from curate.versions.neardup import NearDup, cross_pairs, near_pairs, texts_of
from curate.versions.refs import SPLITS, check_name, make_ref

SAME_GROUP = "same group"   # decontaminated_by: rows left out for sharing a group with a contaminated row


@dataclass(frozen=True)
class Now:
    """The dataset as it stands, read in one connection."""
    ds: dict[str, Any]
    question: int | None             # the label question whose answers decide labels
    cols: dict[str, list]            # current rows, column by column
    issues: list[dict[str, Any]]
    dedup_run: int | None
    dup_of: dict[int, dict[str, Any]]    # example id -> its dup-cluster membership
    eval_sets: list[dict[str, Any]]
    eval_tables: list[tuple[dict[str, Any], pa.Table]]
    parent_id: int | None
    parent: Version | None           # the latest version so far
    inherit: bool                    # its splits are kept (same ratios and seed)
    parent_split: dict[int, str]     # example id -> split in the parent, when inherited


@dataclass
class Grouping:
    """Kept rows (positions in ``Now.cols``), their compared texts, near-duplicate pairs and groups."""
    kept: list[int]
    texts: list[str]
    pairs: np.ndarray
    comp: np.ndarray


def create_version(workspace: Workspace, dataset: str, name: str, *, note: str | None = None,
                   exclude: Sequence[str] | None = None, label_rule: str = "majority",
                   split: Sequence[float] | str = DEFAULT_RATIOS, seed: int = 0, group_column: str | None = None,
                   decontaminate: str | Path | None = None, inherit_splits: bool = True,
                   near: NearDup = NearDup(), created_by: str | None = None) -> VersionDetail:
    """Materialise ``dataset`` as it stands into an immutable version ``name``; return it (``get_version``).

    ``created_by``: who made it and wrote its note (the signed-in annotator in the UI), kept in params.

    - ``exclude``: issue kinds that leave a row out (default ``None``: every current issue kind;
      ``()``: none). An ``is_dup`` from a cluster a person decided is recorded as ``dup_decision:<action>``.
    - ``label_rule``: ``majority`` of the current answers to the dataset's label question (ties: the
      latest answer), ``adjudicated`` (the latest current answer: whoever resolved a disagreement
      answered last), ``annotator:<name>``, or ``ingested``; rows nobody answered keep their current
      label field (latest edit, else ingested). Classification rows without a final label are left
      out as ``unlabelled``.
    - ``split``: train/validation/test ratios; ``seed`` fixes the assignment; ``group_column``: a key
      of the raw records (``sent_id``, a conversation id) whose rows stay together.
    - Decontamination: every eval set pinned so far on a dataset of the same task, and the optional
      ``decontaminate`` file: rows that are its examples or near-duplicates of them, and the rest of
      their groups, are left out as ``decontaminated``.
    """
    started = time.perf_counter()
    check_name(name)
    ratios = splitting.parse_ratios(split)
    group_column = group_column if group_column is not None and str(group_column).strip() else None
    now = _read(workspace, dataset, name, label_rule, exclude, group_column,
                inherit=lambda parent: bool(inherit_splits and parent.params["split"] == list(ratios)
                                            and parent.params["seed"] == int(seed)))
    ids = now.cols["example_id"]
    excluded = None if exclude is None else set(exclude)
    drop = _left_out(now, excluded)
    grouping = _groups(now, [i for i in range(len(ids)) if ids[i] not in drop], near)
    decontaminated_by = _decontaminate(now, grouping, drop, decontaminate, near)
    final = [k for k, i in enumerate(grouping.kept) if ids[i] not in drop]
    rows, counters = _split(now, grouping, final, ratios, seed)
    drop_ids = sorted(drop)
    reasons = Counter(drop[i][0] for i in drop_ids)
    counters = {"total": len(ids), "kept": len(final), **{f"dropped_{r}": c for r, c in sorted(reasons.items())},
                "decontaminated": reasons.get("decontaminated", 0), "decontaminated_by": decontaminated_by,
                **counters, "seconds": round(time.perf_counter() - started, 3)}
    params = {"exclude": None if excluded is None else sorted(excluded), "label_rule": label_rule,
              "label_question": now.question, "split": list(ratios), "seed": int(seed), "group_column": group_column,
              "decontaminate": str(decontaminate) if decontaminate else None,
              "eval_sets": [e["name"] for e in now.eval_sets], "near_dup": near.as_dict(),
              "inherited_splits_from": now.parent.name if now.parent and now.inherit else None,
              "created_by": created_by}
    dropped = pa.table({"example_id": pa.array(drop_ids, pa.int64()),
                        "reason": pa.array([drop[i][0] for i in drop_ids], pa.string()),
                        "detail": pa.array([drop[i][1] for i in drop_ids], pa.string())})
    _write(workspace, now, name, note, params, counters, rows, dropped)
    return get_version(workspace, make_ref(dataset, name))


def _read(workspace: Workspace, dataset: str, name: str, label_rule: str, exclude: Sequence[str] | None,
          group_column: str | None, *, inherit: Any) -> Now:
    """The dataset as it stands; refuses a name in use, unknown choices and a group key no record has.
    ``inherit(parent)``: whether the parent version's splits are kept."""
    rule, annotator = parse_rule(label_rule)
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        if store.find_version(con, ds["id"], name):
            raise InputError("version", f"{make_ref(dataset, name)} exists already and versions never change",
                             fix="choose a new name, e.g. the next number")
        question = store.label_question(con, ds["id"], ANSWERED[ds["task"]]) if ds["task"] in ANSWERED else None
        current = store.current_rows(con, ds["id"], rule=rule, annotator=annotator, question_id=question,
                                     choices=ds["task"] == "preference",
                                     group_path=examples.json_path(group_column) if group_column else None)
        issues = store.current_issues(con, ds["id"])
        check_choices(exclude, issues, annotator, label_store.annotator_names(con, ds["id"]))
        dedup_run = store.latest_dedup_run(con, ds["id"])
        membership = store.dup_membership(con, dedup_run) if dedup_run else []
        eval_sets = store.list_eval_sets(con, task=ds["task"])
        eval_tables = [(e, store.eval_set_rows(con, e)) for e in eval_sets]
        parent_id = store.latest_version_id(con, ds["id"])
        found = store.get_version_by_id(con, parent_id) if parent_id else None
        parent = Version.from_row(found) if found else None
        inherited = bool(parent and inherit(parent))
        parent_split = _split_of(store.version_rows(con, parent.id, columns=("example_id", "split"))) \
            if parent and inherited else {}
    if group_column and current.num_rows and current.column("grp_value").null_count == current.num_rows:
        raise InputError("--group", f"no record of {dataset!r} has a field {group_column!r}",
                         fix="name a key of the raw records, e.g. --group sent_id")
    return Now(ds, question, {c: current.column(c).to_pylist() for c in current.column_names}, issues, dedup_run,
               {m["example_id"]: m for m in membership}, eval_sets, eval_tables, parent_id,
               parent, inherited, parent_split)


def _left_out(now: Now, excluded: set[str] | None) -> dict[int, tuple[str, str | None]]:
    """Phase 1: rows left out by an issue kind (``None``: every kind) or for having no label; span and
    preference answers applied to the rows (a preference tie leaves its pair out)."""
    drop: dict[int, tuple[str, str | None]] = {}
    for issue in now.issues:
        eid, kind = issue["example_id"], issue["kind"]
        if eid in drop or (excluded is not None and kind not in excluded):
            continue
        member = now.dup_of.get(eid)
        if kind == "is_dup" and member and member.get("decision"):
            drop[eid] = (f"dup_decision:{member['decision']}", issue["reason"])
        else:
            drop[eid] = (f"issue:{kind}", issue["reason"])
    if now.ds["task"] == "classification":
        for eid, label in zip(now.cols["example_id"], now.cols["label"]):
            if label is None and eid not in drop:
                drop[eid] = ("unlabelled", "no final label")
    elif now.ds["task"] in ANSWERED:
        apply_answers(now.ds["task"], now.cols, drop)
    return drop


def _groups(now: Now, kept: list[int], near: NearDup) -> Grouping:
    """Phase 2: groups among kept rows: near-duplicates, dedup clusters, the user's group column."""
    cols, ids = now.cols, now.cols["example_id"]
    texts = texts_of(fields_table({f: [cols[f][i] for i in kept] for f in store.FIELDS}), now.ds["task"])
    pairs, _ = near_pairs(texts, near)
    edges = [pairs]
    by_key: dict[tuple, list[int]] = {}
    for k, i in enumerate(kept):
        member = now.dup_of.get(ids[i])
        if member:
            by_key.setdefault(("cluster", member["cluster_id"]), []).append(k)
        if cols["grp_value"][i] is not None:
            by_key.setdefault(("group", cols["grp_value"][i]), []).append(k)
    for members in by_key.values():
        if len(members) > 1:
            edges.append(np.stack([np.full(len(members) - 1, members[0]), members[1:]], axis=1))
    comp = splitting.components(len(kept), np.concatenate(edges) if edges else np.zeros((0, 2), np.int64))
    return Grouping(kept, texts, pairs, comp)


def _decontaminate(now: Now, g: Grouping, drop: dict[int, tuple[str, str | None]],
                   decontaminate: str | Path | None, near: NearDup) -> dict[str, int]:
    """Phase 3: leave out eval items (same example, or near-duplicate text) and their groups; returns
    how many rows each eval set or file (or ``SAME_GROUP``) took out."""
    ids = now.cols["example_id"]
    hits: dict[int, tuple[str, str]] = {}    # kept position -> (detail, the eval set or file it matched)
    for ev, table in now.eval_tables:
        eval_ids = table.column("example_id").to_pylist()
        same = set(eval_ids)
        for k, i in enumerate(g.kept):
            if ids[i] in same and k not in hits:
                hits[k] = (f"example of eval set {ev['name']}", ev["name"])
        pairs_e, sims = cross_pairs(g.texts, texts_of(table, now.ds["task"]), near)
        for (k, j), s in zip(pairs_e.tolist(), sims.tolist()):
            hits.setdefault(k, (f"near-duplicate (Jaccard {s:.2f}) of example {eval_ids[j]} of eval set {ev['name']}",
                                ev["name"]))
    if decontaminate:
        file = Path(decontaminate).name
        pairs_x, sims = cross_pairs(g.texts, external_texts(decontaminate, now.ds["task"]), near)
        for (k, j), s in zip(pairs_x.tolist(), sims.tolist()):
            hits.setdefault(k, (f"near-duplicate (Jaccard {s:.2f}) of item {j + 1} of {file}", file))
    by: Counter[str] = Counter()
    bad_groups = {g.comp[k] for k in hits}
    for k, i in enumerate(g.kept):
        if g.comp[k] in bad_groups:
            detail, source = hits.get(k) or ("in a group with a contaminated row", SAME_GROUP)
            drop[ids[i]] = ("decontaminated", detail)
            by[source] += 1
    return dict(by)


def _split(now: Now, g: Grouping, final: list[int], ratios: tuple[float, float, float],
           seed: int) -> tuple[pa.Table, dict[str, Any]]:
    """Phase 4: the grouped, stratified split of the ``final`` rows (positions in ``g.kept``): the
    version's rows and the counters of its splits, labels, groups and leaks."""
    cols, ids = now.cols, now.cols["example_id"]
    rows_of = [g.kept[k] for k in final]
    labels = strata(now.ds["task"], [cols["label"][i] for i in rows_of], [cols["spans"][i] for i in rows_of])
    fixed = np.array([SPLITS.index(now.parent_split[ids[i]]) if ids[i] in now.parent_split else -1 for i in rows_of],
                     np.int64)
    assigned = splitting.assign(g.comp[final], labels, ratios, seed, fixed=fixed)
    names = splitting.split_names(assigned)
    group_rep: dict[int, int] = {}
    for k in final:
        group_rep.setdefault(int(g.comp[k]), ids[g.kept[k]])
    rows = pa.table({
        "example_id": pa.array([ids[i] for i in rows_of], pa.int64()),
        "split": pa.array(names, pa.string()),
        "grp": pa.array([group_rep[int(g.comp[k])] for k in final], pa.int64()),
        **{f: pa.array([cols[f][i] for i in rows_of], pa.string()) for f in store.FIELDS},
        "label_source": pa.array([cols["label_source"][i] for i in rows_of], pa.string()),
        "edits": pa.array([cols["edits"][i] for i in rows_of], pa.string()),
        "dup": pa.array([_dup_json(now.dup_of.get(ids[i])) for i in rows_of], pa.string()),
    })
    per_label: dict[str, dict[str, int]] = {s: {} for s in SPLITS}
    for s, l in zip(names, labels):
        per_label[s][str(l)] = per_label[s].get(str(l), 0) + 1
    split_rows = Counter(names)
    group_sizes = Counter(Counter(int(g.comp[k]) for k in final).values())
    return rows, {
        "splits": {s: split_rows.get(s, 0) for s in SPLITS}, "labels": per_label,
        "groups": len(group_rep), "rows_in_groups": sum(size * c for size, c in group_sizes.items() if size > 1),
        "near_dup_pairs": int(len(g.pairs)), "leak_pairs": len(_cross_split_pairs(g.pairs, final, assigned)),
        "max_deviation": round(splitting.deviation(assigned, labels, ratios), 3),
        "inherited_split": int((fixed >= 0).sum())}


def _write(workspace: Workspace, now: Now, name: str, note: str | None, params: dict[str, Any],
           counters: dict[str, Any], rows: pa.Table, dropped: pa.Table) -> None:
    """The version, its rows and the rows left out, in one transaction (refused if ``name`` was taken
    meanwhile)."""
    ds = now.ds
    source_runs = sorted({i["run_id"] for i in now.issues} | ({now.dedup_run} if now.dedup_run else set()))
    with workspace.transaction() as con:
        if store.find_version(con, ds["id"], name):
            raise InputError("version", f"{make_ref(ds['name'], name)} exists already and versions never change",
                             fix="choose a new name")
        store.insert_version(con, dataset_id=ds["id"], name=name, parent_id=now.parent_id, note=note, task=ds["task"],
                             params=params, source_runs=source_runs, counters=counters, rows=rows, dropped=dropped)


def _split_of(table: pa.Table) -> dict[int, str]:
    return dict(zip(table.column("example_id").to_pylist(), table.column("split").to_pylist()))


def _dup_json(member: dict[str, Any] | None) -> str | None:
    if not member:
        return None
    return json.dumps({"cluster": member["cluster_id"], "role": member["role"], "status": member["status"],
                       "decision": member["decision"]})


def _cross_split_pairs(pairs: np.ndarray, final: list[int], assigned: np.ndarray) -> list[tuple[int, int]]:
    where = {k: s for k, s in zip(final, assigned.tolist())}
    return [(i, j) for i, j in pairs.tolist() if i in where and j in where and where[i] != where[j]]
