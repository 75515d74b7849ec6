"""Typed results of the versions layer: a ``Version`` with its ``Counters``, a pinned ``EvalSet``, the
``VersionDiff`` of two versions, an ``Export`` and the ``Leak`` pairs of ``check_leaks``.

The library returns these frozen dataclasses; pages and commands read their attributes. ``to_json()``
gives the JSON the CLI prints (``--json``), in the shape and key order it always had: a version's
counters print exactly as they were stored with it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Mapping

from curate.versions.refs import SPLITS, make_ref

DROPPED = "dropped_"    # counters key prefix: rows left out per reason (dropped_issue:is_dup, ...)


@dataclass(frozen=True)
class Splits:
    """Rows per split."""
    train: int = 0
    validation: int = 0
    test: int = 0

    def of(self, split: str) -> int:
        return {"train": self.train, "validation": self.validation, "test": self.test}[split]


@dataclass(frozen=True)
class Counters:
    """What a version was made of: rows read, kept, left out per reason, per split and label, groups,
    near-duplicate pairs, leaks. ``selection``: the selection counters of a selected subset."""
    total: int
    kept: int
    splits: Splits
    dropped: dict[str, int] = field(default_factory=dict)         # reason -> rows left out
    decontaminated: int = 0
    decontaminated_by: dict[str, int] = field(default_factory=dict)  # eval set or file -> rows
    labels: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> label -> rows
    groups: int = 0
    rows_in_groups: int = 0
    near_dup_pairs: int = 0
    leak_pairs: int = 0
    max_deviation: float = 0.0
    inherited_split: int = 0
    seconds: float = 0.0
    selection: dict[str, Any] | None = None
    stored: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, c: Mapping[str, Any]) -> Counters:
        return cls(total=c["total"], kept=c["kept"], splits=Splits(**c["splits"]),
                   dropped={k[len(DROPPED):]: n for k, n in c.items() if k.startswith(DROPPED)},
                   decontaminated=c.get("decontaminated", 0), decontaminated_by=dict(c.get("decontaminated_by", {})),
                   labels=dict(c.get("labels", {})), groups=c.get("groups", 0), rows_in_groups=c.get("rows_in_groups", 0),
                   near_dup_pairs=c.get("near_dup_pairs", 0), leak_pairs=c.get("leak_pairs", 0),
                   max_deviation=c.get("max_deviation", 0.0), inherited_split=c.get("inherited_split", 0),
                   seconds=c.get("seconds", 0.0), selection=c.get("selection"), stored=dict(c))

    @property
    def left_out(self) -> int:
        return self.total - self.kept

    def to_json(self) -> dict[str, Any]:
        """The counters as stored with the version (the CLI's ``--json``)."""
        return dict(self.stored)


@dataclass(frozen=True)
class Version:
    """A version as listed: what it was made with and of (``list_versions``)."""
    id: int
    dataset_id: int
    dataset: str
    name: str
    parent_id: int | None
    parent: str | None          # the parent's ref
    note: str | None
    task: str
    params: dict[str, Any]
    source_runs: list[int]
    counters: Counters
    n_rows: int
    created_at: datetime

    @property
    def ref(self) -> str:
        return make_ref(self.dataset, self.name)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], parent: str | None = None) -> Version:
        """From a ``versions`` row (its JSON columns as text or decoded) with ``dataset`` (and ``parent``)."""
        def decoded(key: str) -> Any:
            value = row[key]
            return json.loads(value) if isinstance(value, str) else value
        return cls(id=row["id"], dataset_id=row["dataset_id"], dataset=row["dataset"], name=row["name"],
                   parent_id=row["parent_id"], parent=row.get("parent", parent), note=row["note"], task=row["task"],
                   params=decoded("params"), source_runs=decoded("source_runs"),
                   counters=Counters.from_json(decoded("counters")), n_rows=row["n_rows"], created_at=row["created_at"])

    def _columns(self) -> dict[str, Any]:
        return {"id": self.id, "dataset_id": self.dataset_id, "name": self.name, "parent_id": self.parent_id,
                "note": self.note, "task": self.task, "params": self.params, "source_runs": self.source_runs,
                "counters": self.counters.to_json(), "n_rows": self.n_rows, "created_at": self.created_at,
                "dataset": self.dataset}

    def to_json(self) -> dict[str, Any]:
        """One line of ``curate version list --json``."""
        return {**self._columns(), "parent": self.parent, "ref": self.ref}


@dataclass(frozen=True)
class VersionDetail(Version):
    """A version with its rows per split and label, the rows left out and why, its exports and eval sets
    (``get_version``, ``create_version``)."""
    split_counts: list[dict[str, Any]] = field(default_factory=list)   # split, label, n
    dropped_rows: list[dict[str, Any]] = field(default_factory=list)   # example_id, reason, detail
    runs: list[dict[str, Any]] = field(default_factory=list)           # the runs it was made from
    exports: list[dict[str, Any]] = field(default_factory=list)
    eval_sets: list[EvalSet] = field(default_factory=list)

    @property
    def dropped_counts(self) -> dict[str, int]:
        """Rows left out per reason."""
        counts: dict[str, int] = {}
        for d in self.dropped_rows:
            counts[d["reason"]] = counts.get(d["reason"], 0) + 1
        return counts

    def to_json(self) -> dict[str, Any]:
        """``curate version show --json``."""
        return {**self._columns(), "ref": self.ref, "parent": self.parent, "split_counts": self.split_counts,
                "dropped": self.dropped_rows, "runs": self.runs, "exports": self.exports,
                "eval_sets": [e.stored for e in self.eval_sets], "dropped_counts": self.dropped_counts}


@dataclass(frozen=True)
class EvalSet:
    """A split of a version pinned under a name; later versions of the same task keep its items out."""
    name: str
    ref: str            # the version it was pinned from
    split: str          # train, validation, test or all
    dataset: str
    task: str
    n_rows: int
    created_at: datetime
    stored: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> EvalSet:
        return cls(name=row["name"], ref=row["ref"], split=row["split"], dataset=row["dataset"], task=row["task"],
                   n_rows=row["n_rows"], created_at=row["created_at"], stored=dict(row))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ref": self.ref, "split": self.split, "dataset": self.dataset, "task": self.task,
                "n_rows": self.n_rows, "created_at": self.created_at}


@dataclass(frozen=True)
class DiffCounts:
    """Rows added, removed and changed from one version to another."""
    added: int
    removed: int
    changed: int


@dataclass(frozen=True)
class DiffReason:
    """How many rows one reason explains for one kind of change."""
    change: str         # added | removed | changed
    reason: str
    n: int


@dataclass(frozen=True)
class DiffRow:
    """One example's change: the first reason, all reasons (``;``-joined with details), its split and the
    compared text before and after (``[label] text``; empty on the side where it is absent)."""
    example_id: int
    change: str
    reason: str
    reasons: str
    split: str | None
    before: str
    after: str


@dataclass(frozen=True)
class VersionDiff:
    """What changed from version ``a`` to version ``b`` (``curate.versions.diff``)."""
    a: str
    b: str
    counts: DiffCounts
    reasons: list[DiffReason]      # most frequent first
    rows: list[DiffRow]

    def to_json(self) -> dict[str, Any]:
        """``curate version diff --json``."""
        return {"a": self.a, "b": self.b, "counts": asdict(self.counts), "reasons": [asdict(r) for r in self.reasons],
                "rows": [asdict(r) for r in self.rows]}


@dataclass(frozen=True)
class Export:
    """A written export (``export_version``): where, how many rows and bytes, the files, rows skipped
    (chat rows alpaca / messages cannot hold), the classes in order and cells ``spreadsheet_safe`` changed."""
    ref: str
    path: str
    format: str
    n_rows: int
    bytes: int
    files: list[str]
    skipped: int
    classes: list[str]
    cells_changed: int

    def to_json(self) -> dict[str, Any]:
        """``curate export --json``."""
        return asdict(self)


@dataclass(frozen=True)
class Leak:
    """Two near-duplicate rows of a version that sit in different splits (``check_leaks``)."""
    a: int
    b: int
    a_split: str
    b_split: str
    jaccard: float


__all__ = ["Counters", "DiffCounts", "DiffReason", "DiffRow", "EvalSet", "Export", "Leak", "Splits", "Version",
           "VersionDetail", "VersionDiff", "SPLITS"]
