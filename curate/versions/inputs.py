"""What a new version is made from, besides the dataset's rows: the label rule, the choices a user
made (checked against what exists), the strata of the split and the texts of an external file to
decontaminate against."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import pyarrow as pa

from curate.errors import InputError
from curate.ingest import shapes
from curate.store import versions as store
from curate.versions.neardup import texts_of

LABEL_RULES = ("majority", "adjudicated", "ingested", "annotator:<name>")
# The question kind whose answers (by the label rule) give each task's final rows.
ANSWERED = {"classification": "label", "spans": "spans", "preference": "preference"}


def label_rule(rule: str) -> tuple[str, str | None]:
    if rule in ("majority", "adjudicated", "ingested"):
        return rule, None
    if rule.startswith("annotator:") and rule.split(":", 1)[1].strip():
        return "annotator", rule.split(":", 1)[1].strip()
    raise InputError("--labels", f"unknown label rule {rule!r}", fix=f"use one of {', '.join(LABEL_RULES)}")


def check_choices(exclude: Sequence[str] | None, issues: list[dict], annotator: str | None,
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


def fields_table(rows: dict[str, list]) -> pa.Table:
    return pa.table({f: pa.array(rows[f], pa.string()) for f in store.FIELDS})


def shaped(cols: dict[str, list], task: str, record: dict, columns: dict[str, str]) -> None:
    """Append one spans/preference record's stored fields to ``cols`` (None where it cannot be read)."""
    try:
        values = shapes.columns_for(task, record, columns, None) if isinstance(record, dict) else {}
    except shapes.ShapeProblem:
        values = {}
    for f in store.FIELDS:
        cols[f].append(values.get(f))


def apply_answers(task: str, cols: dict[str, list], drop: dict[int, tuple[str, str | None]]) -> None:
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


def strata(task: str, labels: list, spans: list) -> list[str | None]:
    """What splits are stratified by: the label (classification), the set of entity types (spans), else none."""
    if task == "classification":
        return labels
    if task == "spans":
        return [",".join(sorted({s["label"] for s in json.loads(v)})) if v else None for v in spans]
    return [None] * len(labels)


def external_texts(path: str | Path, task: str) -> list[str]:
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
                shaped(cols, task, record, mapping.columns)
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
    return texts_of(fields_table(cols), task)
