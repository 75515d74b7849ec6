"""Questions per dataset: single label, multi-label, rating 1–5, free text, or an editable response."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Sequence

from curate.errors import InputError, NotFound
from curate.label.params import QuestionParams
from curate.settings import bound, default
from curate.store import catalog, label as store
from curate.store.workspace import Workspace

KINDS: dict[str, str] = {
    "label": "one class from a list",
    "labels": "any number of classes from a list (multi-label)",
    "rating": "a rating from 1 to 5",
    "text": "free text",
    "response": "an edited response (sft/chat); stored as a human edit, the original is kept",
    "spans": "typed character spans over the text (spans datasets; options: the entity types)",
    "preference": "which of two responses is better: 1, 2 or = (tie), with an optional reason (preference datasets)",
}
# Question kinds that only fit one task.
TASK_OF_KIND = {"spans": "spans", "preference": "preference"}
RATINGS = ["1", "2", "3", "4", "5"]
PREFERENCES = ["1", "2", "="]  # response 1 (the pair's chosen as ingested), response 2, a tie
DEFAULT_NAME = "label"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class Question:
    """A question of a dataset, as the ``questions`` table holds it; ``options``: the classes of
    label/labels questions, the entity types of spans questions, else empty."""
    id: int
    dataset_id: int
    name: str
    kind: str
    options: list[str]
    overlap: int          # answers wanted per example, from different annotators
    created_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Question:
        """From a ``questions`` row (``options`` as JSON text or decoded)."""
        options = row["options"]
        options = json.loads(options) if isinstance(options, str) else options
        return cls(id=row["id"], dataset_id=row["dataset_id"], name=row["name"], kind=row["kind"],
                   options=list(options or []), overlap=row["overlap"], created_at=row["created_at"])

    @property
    def choices(self) -> list[str]:
        """The choices a key picks from: classes, 1–5 for ratings, 1/2/= for preferences, else none."""
        fixed = {"rating": RATINGS, "preference": PREFERENCES}.get(self.kind)
        return list(fixed) if fixed else list(self.options)

    def to_json(self) -> dict[str, Any]:
        """The question as a ``questions`` row: its columns in table order."""
        return {"id": self.id, "dataset_id": self.dataset_id, "name": self.name, "kind": self.kind,
                "options": list(self.options), "overlap": self.overlap, "created_at": self.created_at}


def add_question(workspace: Workspace, dataset: str, name: str, kind: str, *,
                 options: Sequence[str] | None = None, overlap: int | None = None) -> Question:
    """Add a question to a dataset; label/labels questions default to the dataset's label set, the
    overlap to ``QuestionParams``'."""
    wanted: int = default(QuestionParams, "overlap") if overlap is None else overlap
    if kind not in KINDS:
        close = difflib.get_close_matches(kind, KINDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError("--kind", f"unknown question kind {kind!r}{hint}", fix=f"use one of {', '.join(KINDS)}")
    if not _NAME.match(name):
        raise InputError("question", f"invalid name {name!r}", fix="use 1–64 letters, digits, '_', '.', '-'")
    _check_overlap(wanted)
    with workspace.transaction() as con:
        ds = catalog.get_dataset(con, dataset)
        if store.find_question(con, ds["id"], name):
            raise InputError("question", f"dataset {dataset!r} already has a question {name!r}",
                             fix="pick another name")
        if kind == "response" and ds["task"] == "classification":
            raise InputError("--kind", "response questions need an sft or chat dataset",
                             fix="use label, labels, rating or text for classification data")
        if kind in TASK_OF_KIND and ds["task"] != TASK_OF_KIND[kind]:
            raise InputError("--kind", f"{kind} questions need a {TASK_OF_KIND[kind]} dataset ({dataset} is {ds['task']})",
                             fix=f"ingest {TASK_OF_KIND[kind]} data (--task {TASK_OF_KIND[kind]}) into another dataset")
        opts = [str(o).strip() for o in (options or []) if str(o).strip()]
        if kind == "spans":
            opts = opts or store.span_types(con, ds["id"])
            if not opts:
                raise InputError("--options", "a spans question needs its entity types",
                                 fix="pass --options PER,ORG,LOC (the dataset's spans have no types to copy)")
        elif kind in ("label", "labels"):
            opts = opts or catalog.label_set(con, ds["id"], ds["label_type"])
            if len(opts) < 2:
                raise InputError("--options", f"a {kind} question needs at least two classes",
                                 fix="pass --options a,b,c (the dataset has no label set to copy)")
            if len(set(opts)) != len(opts):
                raise InputError("--options", "classes repeat", fix="list each class once")
        elif opts:
            raise InputError("--options", f"{kind} questions take no options", fix="drop --options")
        return Question.from_row(store.add_question(con, ds["id"], name, kind, opts, wanted))


def list_questions(workspace: Workspace, dataset: str) -> list[Question]:
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        return [Question.from_row(r) for r in store.list_questions(con, ds["id"])]


def get_question(workspace: Workspace, dataset: str, name: str | None = None) -> Question:
    """A dataset's question by name; without a name its first question, creating the default
    ``label`` question (the dataset's classes) for a classification dataset that has none."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        found = [Question.from_row(r) for r in store.list_questions(con, ds["id"])]
        labels = catalog.label_set(con, ds["id"], ds["label_type"])
    if name is not None:
        for q in found:
            if q.name == name:
                return q
        known = ", ".join(q.name for q in found) or "none yet"
        raise NotFound(f"dataset {dataset!r} has no question {name!r} (questions: {known}); "
                       f"fix: add it with `curate questions add {dataset} {name} --kind label`")
    if found:
        return found[0]
    if ds["task"] == "classification" and len(labels) >= 2:
        return add_question(workspace, dataset, DEFAULT_NAME, "label")
    raise NotFound(f"dataset {dataset!r} has no questions yet; fix: add one with "
                   f"`curate questions add {dataset} NAME --kind {'response' if ds['task'] != 'classification' else 'label'}`")


def _check_overlap(overlap: int) -> None:
    low, high = bound(QuestionParams, "overlap", "low"), bound(QuestionParams, "overlap", "high")
    if not low <= overlap <= high:
        raise InputError("--overlap", f"{overlap} is out of range", fix=f"ask for {low} to {high} answers per example")


def set_overlap(workspace: Workspace, dataset: str, name: str, overlap: int) -> None:
    _check_overlap(overlap)
    question = get_question(workspace, dataset, name)
    with workspace.transaction() as con:
        store.set_overlap(con, question.id, overlap)


def labelling_order(workspace: Workspace) -> list[str]:
    """Dataset names, those with questions first (classification before sft/chat), then by name."""
    if not workspace.exists():
        return []
    with workspace.connect() as con:
        counts = store.question_counts(con)
        sets = catalog.list_datasets(con)
    return [d["name"] for d in sorted(sets, key=lambda d: (counts.get(d["name"], 0) == 0,
                                                          d["task"] != "classification", d["name"]))]
