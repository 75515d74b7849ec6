"""Create, read and pin versions: immutable snapshots of a dataset with leak-free splits.

``create_version`` reads the dataset as it stands (current edits, issues, dup clusters, labels by a
rule), leaves out excluded and decontaminated rows with their reason, groups the rest (dup cluster,
near-duplicate component, user ``group`` column), splits the groups stratified by label, checks that
no near-duplicate pair crosses splits, and writes rows and reasons in one transaction. Nothing ever
updates a version afterwards.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyarrow as pa

from curate.errors import InputError, NotFound
from curate.store import catalog, examples
from curate.store import label as label_store, versions as store
from curate.store.workspace import Workspace
from curate.ingest import shapes
from curate.versions import splits as splitting
from curate.versions.params import DEFAULT_RATIOS
from curate.versions.neardup import NearDup, cross_pairs, near_pairs, texts_of
from curate.versions.refs import SPLITS, check_name, check_split, make_ref, parse_ref

LABEL_RULES = ("majority", "adjudicated", "ingested", "annotator:<name>")
ROW_KEYS = ("example_id", "split", "text", "label", "instruction", "input", "response", "messages", "spans",
            "chosen", "rejected")
JSON_KEYS = ("messages", "spans", "chosen", "rejected")


# --- reading ---------------------------------------------------------------------------------------

def _version(con, ref: str) -> dict[str, Any]:
    dataset, name = parse_ref(ref)
    ds = catalog.get_dataset(con, dataset)
    found = store.find_version(con, ds["id"], name)
    if found is None:
        names = [v["name"] for v in store.list_versions(con, ds["id"])]
        known = ", ".join(names) if names else f"none yet; create one with `curate version create {dataset} --name v1`"
        raise NotFound(f"dataset {dataset!r} has no version {name!r} (versions: {known})")
    return found


def _decode(v: dict[str, Any]) -> dict[str, Any]:
    out = dict(v)
    for key in ("params", "source_runs", "counters"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    out["ref"] = make_ref(out["dataset"], out["name"])
    return out


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


def get_version(workspace: Workspace, ref: str) -> dict[str, Any]:
    """One version: params, counters, parent, source runs, rows per split and label, why rows were
    left out (counts per reason) and its exports."""
    with workspace.connect() as con:
        version = _decode(_version(con, ref))
        parent = store.get_version_by_id(con, version["parent_id"]) if version["parent_id"] else None
        version["parent"] = make_ref(parent["dataset"], parent["name"]) if parent else None
        version["split_counts"] = store.split_counts(con, version["id"])
        version["dropped"] = store.dropped(con, version["id"])
        version["runs"] = store.runs_named(con, [r for r in version["source_runs"] if isinstance(r, int)])
        version["exports"] = store.list_exports(con, version["id"])
        version["eval_sets"] = [e for e in store.list_eval_sets(con, version["dataset_id"])
                                if e["version_id"] == version["id"]]
    version["dropped_counts"] = dict(Counter(d["reason"] for d in version["dropped"]))
    return version


def list_versions(workspace: Workspace, dataset: str) -> list[dict[str, Any]]:
    """A dataset's versions, oldest first, with parent, note, params, counters and row count."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        return [_decode(v) for v in store.list_versions(con, ds["id"])]


# --- the dataset as it stands ----------------------------------------------------------------------

def _label_rule(rule: str) -> tuple[str, str | None]:
    if rule in ("majority", "adjudicated", "ingested"):
        return rule, None
    if rule.startswith("annotator:") and rule.split(":", 1)[1].strip():
        return "annotator", rule.split(":", 1)[1].strip()
    raise InputError("--labels", f"unknown label rule {rule!r}", fix=f"use one of {', '.join(LABEL_RULES)}")


def _check_choices(exclude: Sequence[str] | None, issues: list[dict], annotator: str | None,
                   names: list[str]) -> None:
    """Refuse an --exclude kind no current issue has, and an annotator:<name> nobody is."""
    kinds = sorted({i["kind"] for i in issues})
    unknown = sorted(set(exclude or ()) - set(kinds))
    if unknown:
        raise InputError("--exclude", f"no current issue of kind {unknown[0]!r}",
                         fix=f"use any of {', '.join(kinds)}, or none" if kinds else "this dataset has no issues; "
                         "use --exclude none (or run a recipe or dedup first)")
    if annotator is not None and annotator not in names:
        raise InputError("--labels", f"no annotator named {annotator!r} in this workspace",
                         fix=f"use annotator:<name> with one of {', '.join(names)}" if names else
                         "nobody has answered yet; use --labels majority or ingested")


def issue_kinds(workspace: Workspace, dataset: str) -> dict[str, int]:
    """Kinds of the dataset's current issues with how many examples each flags."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        issues = store.current_issues(con, ds["id"])
    return dict(sorted(Counter(kind for _, kind in {(i["example_id"], i["kind"]) for i in issues}).items()))


def _fields_table(rows: dict[str, list]) -> pa.Table:
    return pa.table({f: pa.array(rows[f], pa.string()) for f in store.FIELDS})


def _shaped(cols: dict[str, list], task: str, record: dict, columns: dict[str, str]) -> None:
    """Append one spans/preference record's stored fields to ``cols`` (None where it cannot be read)."""
    try:
        values = shapes.columns_for(task, record, columns, None) if isinstance(record, dict) else {}
    except shapes.ShapeProblem:
        values = {}
    for f in store.FIELDS:
        cols[f].append(values.get(f))


# The question kind whose answers (by the label rule) give each task's final rows.
ANSWERED = {"classification": "label", "spans": "spans", "preference": "preference"}


def _apply_answers(task: str, cols: dict[str, list], drop: dict[int, tuple[str, str | None]]) -> None:
    """Span and preference answers, chosen by the label rule (they arrive in ``label``), into the rows:
    spans replace the ingested spans; a preference ``2`` swaps chosen and rejected, ``=`` (a tie)
    leaves the pair out as ``preference_tie``, ``1`` keeps it as ingested."""
    for i, value in enumerate(cols["label"]):
        if value is None:
            continue
        cols["label"][i] = None
        if task == "spans":
            cols["spans"][i] = value
            continue
        choice = json.loads(value)["choice"]
        if choice == "2":
            cols["chosen"][i], cols["rejected"][i] = cols["rejected"][i], cols["chosen"][i]
        elif choice == "=":
            drop.setdefault(cols["example_id"][i], ("preference_tie", "the answer judged both responses equal"))


def _strata(task: str, labels: list, spans: list) -> list[str | None]:
    """What splits are stratified by: the label (classification), the set of entity types (spans), else none."""
    if task == "classification":
        return labels
    if task == "spans":
        return [",".join(sorted({s["label"] for s in json.loads(v)})) if v else None for v in spans]
    return [None] * len(labels)


def _external_texts(path: str | Path, task: str) -> list[str]:
    """Compared texts of an external file (any ingestible format) read as ``task`` records."""
    from curate.ingest import chat, readers
    from curate.ingest.tasks import columns_of, resolve

    source = readers.detect(path)
    records = readers.peek(source, 200)
    if not records:
        raise InputError(source.path, "file is empty (no records)", fix="pass a file with the eval items")
    mapping = resolve(source.path, columns_of(records), task=task)
    cols = {f: [] for f in store.FIELDS}
    for batch in readers.batches(source):
        for raw in batch.column("raw").to_pylist():
            record = json.loads(raw)
            if task in shapes.OUTPUTS:
                _shaped(cols, task, record, mapping.columns)
                continue
            for f in store.FIELDS:
                col = mapping.columns.get(f)
                value = record.get(col) if col else None
                if f == "messages" and value is not None:
                    try:
                        value = json.dumps(chat.normalise(value), ensure_ascii=False)
                    except chat.ChatProblem:
                        value = None
                cols[f].append(None if value is None else value if isinstance(value, str) else json.dumps(value))
    return texts_of(_fields_table(cols), task)


# --- create ----------------------------------------------------------------------------------------

def create_version(workspace: Workspace, dataset: str, name: str, *, note: str | None = None,
                   exclude: Sequence[str] | None = None, label_rule: str = "majority",
                   split: Sequence[float] | str = DEFAULT_RATIOS, seed: int = 0, group_column: str | None = None,
                   decontaminate: str | Path | None = None, inherit_splits: bool = True,
                   near: NearDup = NearDup(), created_by: str | None = None) -> dict[str, Any]:
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
    rule, annotator = _label_rule(label_rule)
    ratios = splitting.parse_ratios(split)
    if group_column is not None and not str(group_column).strip():
        group_column = None
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
        _check_choices(exclude, issues, annotator, label_store.annotator_names(con, ds["id"]))
        dedup_run = store.latest_dedup_run(con, ds["id"])
        membership = store.dup_membership(con, dedup_run) if dedup_run else []
        eval_sets = store.list_eval_sets(con, task=ds["task"])
        eval_tables = [(e, store.eval_set_rows(con, e)) for e in eval_sets]
        parent_id = store.latest_version_id(con, ds["id"])
        parent = _decode(store.get_version_by_id(con, parent_id)) if parent_id else None
        inherit = bool(inherit_splits and parent and parent["params"]["split"] == list(ratios)
                       and parent["params"]["seed"] == int(seed))
        parent_split = _split_of(store.version_rows(con, parent_id, columns=("example_id", "split"))) if inherit else {}
    if group_column and current.num_rows and current.column("grp_value").null_count == current.num_rows:
        raise InputError("--group", f"no record of {dataset!r} has a field {group_column!r}",
                         fix="name a key of the raw records, e.g. --group sent_id")

    cols = {c: current.column(c).to_pylist() for c in current.column_names}
    ids = cols["example_id"]
    n = len(ids)
    dup_of = {m["example_id"]: m for m in membership}
    excluded = None if exclude is None else set(exclude)

    # 1. Rows left out by an issue kind or for having no label.
    drop: dict[int, tuple[str, str | None]] = {}
    for issue in issues:
        eid, kind = issue["example_id"], issue["kind"]
        if eid in drop or (excluded is not None and kind not in excluded):
            continue
        member = dup_of.get(eid)
        if kind == "is_dup" and member and member.get("decision"):
            drop[eid] = (f"dup_decision:{member['decision']}", issue["reason"])
        else:
            drop[eid] = (f"issue:{kind}", issue["reason"])
    if ds["task"] == "classification":
        for eid, label in zip(ids, cols["label"]):
            if label is None and eid not in drop:
                drop[eid] = ("unlabelled", "no final label")
    elif ds["task"] in ANSWERED:
        _apply_answers(ds["task"], cols, drop)
    kept = [i for i in range(n) if ids[i] not in drop]

    # 2. Groups among kept rows: near-duplicates, dedup clusters, the user's group column.
    fields = _fields_table({f: [cols[f][i] for i in kept] for f in store.FIELDS})
    texts = texts_of(fields, ds["task"])
    pairs, _ = near_pairs(texts, near)
    edges = [pairs]
    by_key: dict[tuple, list[int]] = {}
    for k, i in enumerate(kept):
        member = dup_of.get(ids[i])
        if member:
            by_key.setdefault(("cluster", member["cluster_id"]), []).append(k)
        if cols["grp_value"][i] is not None:
            by_key.setdefault(("group", cols["grp_value"][i]), []).append(k)
    for members in by_key.values():
        if len(members) > 1:
            edges.append(np.stack([np.full(len(members) - 1, members[0]), members[1:]], axis=1))
    comp = splitting.components(len(kept), np.concatenate(edges) if edges else np.zeros((0, 2), np.int64))

    # 3. Decontamination: eval items (same example, or near-duplicate text) and their groups.
    hits: dict[int, str] = {}
    for ev, table in eval_tables:
        eval_ids = table.column("example_id").to_pylist()
        same = set(eval_ids)
        for k, i in enumerate(kept):
            if ids[i] in same and k not in hits:
                hits[k] = f"example of eval set {ev['name']}"
        pairs_e, sims = cross_pairs(texts, texts_of(table, ds["task"]), near)
        for (k, j), s in zip(pairs_e.tolist(), sims.tolist()):
            hits.setdefault(k, f"near-duplicate (Jaccard {s:.2f}) of example {eval_ids[j]} of eval set {ev['name']}")
    if decontaminate:
        ext = _external_texts(decontaminate, ds["task"])
        pairs_x, sims = cross_pairs(texts, ext, near)
        for (k, j), s in zip(pairs_x.tolist(), sims.tolist()):
            hits.setdefault(k, f"near-duplicate (Jaccard {s:.2f}) of item {j + 1} of {Path(decontaminate).name}")
    if hits:
        bad_groups = {comp[k] for k in hits}
        for k, i in enumerate(kept):
            if comp[k] in bad_groups:
                why = hits.get(k) or "in a group with a contaminated row"
                drop[ids[i]] = ("decontaminated", why)
    final = [k for k, i in enumerate(kept) if ids[i] not in drop]

    # 4. Grouped, stratified split of what is left.
    labels = _strata(ds["task"], [cols["label"][kept[k]] for k in final], [cols["spans"][kept[k]] for k in final])
    fixed = np.array([SPLITS.index(parent_split[ids[kept[k]]]) if ids[kept[k]] in parent_split else -1
                      for k in final], np.int64)
    assigned = splitting.assign(comp[final], labels, ratios, seed, fixed=fixed)
    leaks = _cross_split_pairs(pairs, final, assigned)
    deviation = splitting.deviation(assigned, labels, ratios)

    group_rep: dict[int, int] = {}
    for k in final:
        group_rep.setdefault(int(comp[k]), ids[kept[k]])
    rows = {
        "example_id": pa.array([ids[kept[k]] for k in final], pa.int64()),
        "split": pa.array(splitting.split_names(assigned), pa.string()),
        "grp": pa.array([group_rep[int(comp[k])] for k in final], pa.int64()),
        **{f: pa.array([cols[f][kept[k]] for k in final], pa.string()) for f in store.FIELDS},
        "label_source": pa.array([cols["label_source"][kept[k]] for k in final], pa.string()),
        "edits": pa.array([cols["edits"][kept[k]] for k in final], pa.string()),
        "dup": pa.array([_dup_json(dup_of.get(ids[kept[k]])) for k in final], pa.string()),
    }
    drop_ids = sorted(drop)
    dropped = pa.table({"example_id": pa.array(drop_ids, pa.int64()),
                        "reason": pa.array([drop[i][0] for i in drop_ids], pa.string()),
                        "detail": pa.array([drop[i][1] for i in drop_ids], pa.string())})
    split_rows = Counter(splitting.split_names(assigned))
    per_label: dict[str, dict[str, int]] = {s: {} for s in SPLITS}
    for s, l in zip(splitting.split_names(assigned), labels):
        per_label[s][str(l)] = per_label[s].get(str(l), 0) + 1
    reasons = Counter(drop[i][0] for i in drop_ids)
    group_sizes = Counter(Counter(int(comp[k]) for k in final).values())
    counters = {
        "total": n, "kept": len(final), **{f"dropped_{r}": c for r, c in sorted(reasons.items())},
        "decontaminated": reasons.get("decontaminated", 0),
        "decontaminated_by": dict(Counter(_eval_name(drop[ids[kept[k]]][1]) for k in range(len(kept))
                                          if drop.get(ids[kept[k]], ("",))[0] == "decontaminated")),
        "splits": {s: split_rows.get(s, 0) for s in SPLITS}, "labels": per_label,
        "groups": len(group_rep), "rows_in_groups": sum(size * c for size, c in group_sizes.items() if size > 1),
        "near_dup_pairs": int(len(pairs)), "leak_pairs": len(leaks), "max_deviation": round(deviation, 3),
        "inherited_split": int((fixed >= 0).sum()), "seconds": round(time.perf_counter() - started, 3),
    }
    params = {"exclude": None if exclude is None else sorted(excluded), "label_rule": label_rule,
              "label_question": question, "split": list(ratios), "seed": int(seed), "group_column": group_column,
              "decontaminate": str(decontaminate) if decontaminate else None,
              "eval_sets": [e["name"] for e in eval_sets], "near_dup": near.as_dict(),
              "inherited_splits_from": parent["name"] if inherit else None, "created_by": created_by}
    source_runs = sorted({i["run_id"] for i in issues} | ({dedup_run} if dedup_run else set()))
    with workspace.transaction() as con:
        if store.find_version(con, ds["id"], name):
            raise InputError("version", f"{make_ref(dataset, name)} exists already and versions never change",
                             fix="choose a new name")
        store.insert_version(con, dataset_id=ds["id"], name=name, parent_id=parent_id, note=note, task=ds["task"],
                             params=params, source_runs=source_runs, counters=counters,
                             rows=pa.table(rows), dropped=dropped)
    return get_version(workspace, make_ref(dataset, name))


def _split_of(table: pa.Table) -> dict[int, str]:
    return dict(zip(table.column("example_id").to_pylist(), table.column("split").to_pylist()))


def _eval_name(detail: str | None) -> str:
    if detail and "eval set " in detail:
        return detail.rsplit("eval set ", 1)[1]
    if detail and "near-duplicate" in detail:
        return detail.rsplit(" of ", 1)[1]
    return "same group"


def _dup_json(member: dict[str, Any] | None) -> str | None:
    if not member:
        return None
    return json.dumps({"cluster": member["cluster_id"], "role": member["role"], "status": member["status"],
                       "decision": member["decision"]})


def _cross_split_pairs(pairs: np.ndarray, final: list[int], assigned: np.ndarray) -> list[tuple[int, int]]:
    where = {k: s for k, s in zip(final, assigned.tolist())}
    return [(i, j) for i, j in pairs.tolist() if i in where and j in where and where[i] != where[j]]


def check_leaks(workspace: Workspace, ref: str, near: NearDup = NearDup()) -> list[dict[str, Any]]:
    """Near-duplicate pairs of a version whose rows sit in different splits (must be none), recomputed
    from the materialised rows."""
    with workspace.connect() as con:
        version = _version(con, ref)
        table = store.version_rows(con, version["id"])
    pairs, sims = near_pairs(texts_of(table, version["task"]), near)
    ids, split = table.column("example_id").to_pylist(), table.column("split").to_pylist()
    return [{"a": ids[i], "b": ids[j], "a_split": split[i], "b_split": split[j], "jaccard": round(float(s), 3)}
            for (i, j), s in zip(pairs.tolist(), sims.tolist()) if split[i] != split[j]]


# --- eval sets -------------------------------------------------------------------------------------

def pin_eval_set(workspace: Workspace, ref: str, split: str, name: str) -> dict[str, Any]:
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
        return _eval(store.find_eval_set(con, name))


def _eval(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("name", "ref", "split", "dataset", "task", "n_rows", "created_at")}


def list_eval_sets(workspace: Workspace, dataset: str | None = None) -> list[dict[str, Any]]:
    """Pinned eval sets (of one dataset, or all): ``name, ref, split, dataset, task, n_rows``."""
    with workspace.connect() as con:
        ds_id = catalog.get_dataset(con, dataset)["id"] if dataset else None
        return [_eval(r) for r in store.list_eval_sets(con, ds_id)]


def eval_rows(workspace: Workspace, eval_name: str) -> list[dict[str, Any]]:
    """The rows of an eval set (same keys and order as ``load_rows``)."""
    with workspace.connect() as con:
        found = store.find_eval_set(con, eval_name)
        if found is None:
            known = ", ".join(e["name"] for e in store.list_eval_sets(con)) or "none yet"
            raise NotFound(f"no eval set named {eval_name!r} (eval sets: {known}); "
                           f"fix: pin one with `curate version pin DATASET:NAME --split test --as NAME`")
        return _as_rows(store.eval_set_rows(con, found))
