"""Lossless ingest: files and HF folders into a dataset, all or nothing.

Every file of one call is read, validated and inserted inside one transaction: a bad record
anywhere leaves the store exactly as it was. The raw record is stored as JSON text next to the
normalised fields; a source already ingested into the dataset (same sha256) with the same mapping
is skipped, and with another mapping is refused unless ``replace``.

``replace`` re-reads a source already ingested with the new mapping, task or label names, in place:
its examples keep their ids (the file's bytes are the same, so the k-th record read is the k-th
example), so every edit, annotation, signal, issue and dup decision made on them stays attached,
and versions already made keep their own copies. A new source beside the old one would instead
duplicate every record and orphan the labels made on the first try. A dataset's task can change
only when every one of its sources is replaced in the same call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from curate import __version__
from curate.errors import InputError
from curate.ingest.insert import FileResult, Progress, ingest_file
from curate.ingest.labels import parse_labels
from curate.ingest.plan import check_tasks, plan_file
from curate.ingest.preview_file import Preview, preview
from curate.ingest.readers import Source, detect
from curate.ingest.tasks import TASK_FIELDS, parse_map
from curate.store import catalog, examples
from curate.store.workspace import Workspace

__all__ = ["ingest", "preview", "Preview", "IngestReport", "FileResult", "parse_labels", "parse_map", "TASK_FIELDS"]


@dataclass
class IngestReport:
    dataset: str
    task: str
    files: list[FileResult]
    seconds: float
    run_id: int | None = None

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files if not f.skipped)


def _libraries() -> dict[str, str]:
    return {"curate": __version__, "duckdb": duckdb.__version__, "pyarrow": pa.__version__}


def ingest(workspace: Workspace, paths: list[str | Path], dataset: str, *, task: str | None = None,
           mapping: dict[str, str] | None = None, labels: dict[str, str] | None = None, replace: bool = False,
           progress: Progress | None = None) -> IngestReport:
    """Ingest files into ``dataset`` (created if new) in one transaction; return what happened.

    ``labels`` maps raw label values to class names (``{"0": "negative"}``; an HF ``ClassLabel`` gives
    them otherwise); ``replace`` re-reads files ingested before (see the module docstring)."""
    if not paths:
        raise InputError("ingest", "no files given", fix="name one or more files: curate ingest FILE --dataset NAME")
    if not dataset or dataset[0] in "-." or not dataset.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise InputError("--dataset", f"invalid dataset name {dataset!r}",
                         fix="use letters, digits, '-', '_' or '.' (not first), e.g. --dataset sst2")
    started = time.monotonic()
    sources = [detect(p) for p in paths]
    fresh, new_root = not workspace.exists(), not workspace.root.exists()
    try:
        return _ingest_all(workspace, sources, dataset, task, mapping, labels, replace, progress, started)
    except BaseException:
        if fresh:
            workspace.discard_if_empty(new_root)
        raise


def _ingest_all(workspace: Workspace, sources: list[Source], dataset: str, task: str | None,
                mapping: dict[str, str] | None, labels: dict[str, str] | None, replace: bool,
                progress: Progress | None, started: float) -> IngestReport:
    with workspace.transaction() as con:
        existing = catalog.find_dataset(con, dataset)
        plans = [plan_file(con, s, existing, task, mapping, labels or {}, replace) for s in sources]
        task_name = check_tasks(con, plans, existing)
        ds = catalog.find_dataset(con, dataset) or catalog.create_dataset(con, dataset, task_name)
        shas = [p.sha for p in plans]
        todo = [i for i, p in enumerate(plans)
                if (p.previous is not None or not catalog.find_source(con, ds["id"], p.sha)) and p.sha not in shas[:i]]
        results = [FileResult(str(p.source.path), p.source.format, 0, skipped=True, mapping=p.mapping.columns)
                   for p in plans]
        if not todo:
            return IngestReport(dataset, task_name, results, time.monotonic() - started)
        run_id = catalog.start_run(con, "ingest", ds["id"], {
            "files": [str(s.path) for s in sources], "task": task_name, "replace": replace,
            "mapping": [p.mapping.columns for p in plans], "labels": [p.names for p in plans]}, _libraries())
        replaced = [plans[i].previous["id"] for i in todo if plans[i].previous]
        for source_id in replaced:
            examples.delete_source_rows(con, source_id)
        if replaced:
            catalog.reset_labels(con, ds["id"])
        for i in todo:
            results[i] = ingest_file(con, plans[i], ds, run_id, progress)
        seconds = time.monotonic() - started
        catalog.finish_run(con, run_id, {
            "files": len(results), "rows": sum(r.rows for r in results), "replaced": sum(r.replaced for r in results),
            "skipped_files": sum(r.skipped for r in results), "seconds": round(seconds, 3)})
    return IngestReport(dataset, task_name, results, seconds, run_id)
