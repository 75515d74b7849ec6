"""Read-only views of a workspace for the Data page and ``curate datasets`` / ``curate show``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Mapping

from curate.errors import NotFound
from curate.ingest.shapes import OUTPUTS
from curate.ingest.tasks import TASK_FIELDS
from curate.store import catalog, examples
from curate.store.workspace import Workspace


@dataclass
class Page:
    dataset: str
    task: str
    columns: list[str]
    rows: list[dict[str, Any]]
    total: int
    offset: int


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset as listed: task, examples, labelled examples, sources and its label set (classes in order)."""
    id: int
    name: str
    task: str
    label_type: str | None
    created_at: datetime
    examples: int
    labelled: int
    sources: int
    labels: list[str]

    @classmethod
    def from_row(cls, r: Mapping[str, Any]) -> DatasetInfo:
        return cls(id=r["id"], name=r["name"], task=r["task"], label_type=r["label_type"], created_at=r["created_at"],
                   examples=r["examples"], labelled=r["labelled"], sources=r["sources"], labels=r["labels"])

    def to_json(self) -> dict[str, Any]:
        """One line of ``curate datasets --json``."""
        return asdict(self)


def shown_fields(task: str) -> tuple[str, ...]:
    """The stored fields of a task's examples (spans and preference store normalised fields, not the
    columns they were mapped from)."""
    return OUTPUTS.get(task, TASK_FIELDS[task])


def datasets(workspace: Workspace) -> list[DatasetInfo]:
    """Every dataset with task, counts and label set (empty when the workspace has no store yet)."""
    if not workspace.exists():
        return []
    with workspace.read() as con:
        return [DatasetInfo.from_row(r) for r in catalog.list_datasets(con)]


def page(workspace: Workspace, dataset: str, *, offset: int = 0, limit: int = 50,
         query: str | None = None) -> Page:
    """One page of a dataset's examples: the task's fields at their current values (latest edit, else
    the ingested value; each row's ``edited`` lists the fields an edit changed), optionally filtered by
    a substring of the current values."""
    with workspace.read() as con:
        ds = catalog.get_dataset(con, dataset)
        columns = list(shown_fields(ds["task"]))
        if ds["task"] == "classification" and not ds["label_type"]:
            columns.remove("label")
        total = examples.count_examples(con, ds["id"], query)
        rows = examples.page_examples(con, ds["id"], offset=offset, limit=limit, query=query, columns=tuple(columns))
    if any(r["split"] for r in rows):
        columns.insert(0, "split")
    for r in rows:
        r.pop("split", None) if "split" not in columns else None
    return Page(dataset, ds["task"], columns, rows, total, offset)


def example(workspace: Workspace, example_id: int, *, dataset: str | None = None) -> dict[str, Any]:
    """One example: current fields (latest edit, else the ingested value), the ingested value of each
    edited field with who edited it, raw record (parsed) and provenance."""
    with workspace.read() as con:
        row = examples.get_example(con, example_id)
        edits = examples.example_edits(con, example_id) if row is not None else []
    if row is None or (dataset and row["dataset"] != dataset):
        raise NotFound(f"no example {example_id}" + (f" in dataset {dataset!r}" if dataset else "")
                       + "; fix: pick an id shown by `curate show`")
    original = {f: row[f] for f in shown_fields(row["task"]) if row[f] is not None}
    fields = dict(original)
    for e in edits:
        fields[e["field"]] = e["value"]
    fields = {k: v for k, v in fields.items() if v is not None}
    for values in (fields, original):
        for key in ("messages", "spans", "chosen", "rejected"):
            if isinstance(values.get(key), str):
                values[key] = json.loads(values[key])
    return {
        "id": row["id"], "dataset": row["dataset"], "task": row["task"], "fields": fields,
        "original": {e["field"]: original.get(e["field"]) for e in edits},
        "edited_by": {e["field"]: e["author"] for e in edits},
        "raw": json.loads(row["raw"]),
        "provenance": {"source": row["source_uri"], "format": row["source_format"], "row": row["row_num"],
                       "split": row["split"], "sha256": row["source_sha256"], "ingested_at": str(row["ingested_at"])},
    }
