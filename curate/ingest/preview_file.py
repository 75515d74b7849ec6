"""What the upload form shows of a file before anything is written: its first records, columns, the
detected task and a suggested mapping per task."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from curate.errors import InputError
from curate.ingest.readers import Source, detect, peek
from curate.ingest.tasks import TASK_FIELDS, columns_of, resolve, suggest_map


@dataclass
class Preview:
    """What the upload form shows before anything is written."""

    source: Source
    columns: list[str]
    records: list[dict]
    task: str | None
    suggested: dict[str, dict[str, str]]


def preview(path: str | Path, n: int = 20) -> Preview:
    """The first records of a file, its columns, detected task and a suggested mapping per task."""
    source = detect(path)
    records = peek(source, max(n, 200))
    if not records:
        raise InputError(source.path, "file is empty (no records)", fix="export the data again")
    columns = columns_of(records)
    try:
        task = resolve(source.path, columns).task
    except InputError:
        task = None
    return Preview(source, columns, records[:n], task, {t: suggest_map(t, columns) for t in TASK_FIELDS})
