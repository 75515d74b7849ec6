"""Lossless ingest: files and HF folders into a dataset, all or nothing.

Every file of one call is read, validated and inserted inside one transaction: a bad record
anywhere leaves the store exactly as it was. The raw record is stored as JSON text next to the
normalised fields; a source already ingested into the dataset (same sha256) is skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import pyarrow as pa
import numpy as np

from curate import __version__
from curate.errors import InputError
from curate.ingest import chat, readers
from curate.ingest.readers import Source, detect, peek
from curate.ingest.tasks import TASK_FIELDS, Mapping, columns_of, detect_task, parse_map, resolve, suggest_map
from curate.store import catalog, examples
from curate.store.workspace import Workspace, scratch

__all__ = ["ingest", "preview", "Preview", "IngestReport", "parse_map", "TASK_FIELDS"]

Progress = Callable[[str, int], None]


@dataclass
class FileResult:
    path: str
    format: str
    rows: int
    skipped: bool = False
    source_id: int | None = None
    mapping: dict[str, str] = field(default_factory=dict)


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


def _libraries() -> dict[str, str]:
    return {"curate": __version__, "duckdb": duckdb.__version__, "pyarrow": pa.__version__}


def _problem_message(problem: str, mapping: Mapping, record: str | None) -> tuple[str, str]:
    if problem == "invalid_json":
        import json
        try:
            json.loads(record or "")
            detail = ""
        except json.JSONDecodeError as exc:
            detail = f" ({exc.msg} at column {exc.colno})"
        if record and "\x00" in record:
            return "malformed JSON with NUL bytes (the file looks UTF-16)", "convert it: iconv -f UTF-16 -t UTF-8"
        return f"malformed JSON{detail}", "fix or remove this line"
    if problem == "not_object":
        return "record is not a JSON object", 'each record must be an object like {"text": ...}'
    cols = ", ".join(f"{k}={v}" for k, v in mapping.columns.items())
    if problem == "missing":
        return f"record has no value for a required field ({cols})", "fill it in, or --map the field to another column"
    return (f"a text field holds a number, boolean, list or object, or a label is not a string or an integer ({cols})",
            'text fields must be JSON strings (quote numbers: "5") and labels strings or integers; '
            "or map the right column with --map")


def _label_type_of(records: list[dict], column: str) -> str | None:
    """``int`` or ``str`` from the first sampled record whose label is one of those."""
    for record in records:
        value = record.get(column)
        if isinstance(value, str):
            return "str"
        if isinstance(value, int) and not isinstance(value, bool):
            return "int"
    return None


def _explain(source: Source, table: pa.Table, mapping: Mapping, paths: dict[str, str], label_type: str | None,
             cause: Exception) -> InputError:
    """Turn a failed batch into one line naming the first bad record (checked on a scratch connection)."""
    with scratch() as con:
        bad = examples.first_problem(con, table.select(["row_num", "raw"]), mapping.task, paths, label_type)
    if bad is None:
        return InputError(source.path, f"could not ingest: {str(cause).splitlines()[0][:200]}",
                          fix="check the file's format")
    row_num, problem = bad
    if problem == "label_mixed":
        kind = "an integer" if label_type == "str" else "a string"
        return InputError(source.path, f"label is {kind} but earlier labels are "
                          f"{'strings' if label_type == 'str' else 'integers'}", **source.where(row_num),
                          fix="make every label a string, or every label an integer")
    idx = int(table.column("row_num").to_numpy().searchsorted(row_num))
    message, fix = _problem_message(problem, mapping, table.column("raw")[idx].as_py())
    return InputError(source.path, message, **source.where(row_num), fix=fix)


def _ingest_one(con: duckdb.DuckDBPyConnection, source: Source, sha: str, dataset: dict, mapping: Mapping,
                sample: list[dict], run_id: int, progress: Progress | None) -> FileResult:
    result = FileResult(str(source.path), source.format, 0, mapping=mapping.columns)
    source_id = catalog.add_source(con, dataset["id"], str(source.path), source.format, sha, mapping.columns, run_id)
    paths = {f: examples.json_path(c) for f, c in mapping.columns.items()}
    labelled = mapping.task == "classification" and "label" in paths
    label_type = dataset["label_type"] or (_label_type_of(sample, mapping.columns["label"]) if labelled else None)
    next_id = examples.next_id(con)
    for table in readers.batches(source):
        if labelled and label_type is None:
            with scratch() as side:
                label_type = examples.first_label_type(side, table, paths["label"])
        try:
            if mapping.task == "chat":
                table = _with_messages(source, table, mapping.columns["messages"])
            n = table.num_rows
            table = table.append_column("id", pa.array(np.arange(next_id, next_id + n, dtype=np.int64)))
            examples.insert_batch(con, table, dataset_id=dataset["id"], source_id=source_id, task=mapping.task,
                                  paths=paths, label_type=label_type)
        except (duckdb.Error, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise _explain(source, table, mapping, paths, label_type, exc) from None
        next_id += n
        result.rows += n
        if progress:
            progress(str(source.path), result.rows)
    if result.rows == 0:
        raise InputError(source.path, "file is empty (no records)", fix="export the data again")
    catalog.finish_source(con, source_id, result.rows)
    catalog.record_labels(con, dataset["id"], source_id)
    if label_type and label_type != dataset["label_type"]:
        catalog.set_label_type(con, dataset["id"], label_type)
        dataset["label_type"] = label_type
    result.source_id = source_id
    return result


def _with_messages(source: Source, table: pa.Table, column: str) -> pa.Table:
    out = []
    for row_num, raw in zip(table.column("row_num").to_pylist(), table.column("raw").to_pylist()):
        try:
            out.append(chat.normalise_raw(raw, column))
        except chat.ChatProblem as exc:
            raise InputError(source.path, str(exc), **source.where(row_num),
                             fix="give each turn a role (system/user/assistant) and text content") from None
    return table.append_column("messages", pa.array(out, pa.string()))


def ingest(workspace: Workspace, paths: list[str | Path], dataset: str, *, task: str | None = None,
           mapping: dict[str, str] | None = None, progress: Progress | None = None) -> IngestReport:
    """Ingest files into ``dataset`` (created if new) in one transaction; return what happened."""
    if not paths:
        raise InputError("ingest", "no files given", fix="name one or more files: curate ingest FILE --dataset NAME")
    if not dataset or dataset[0] in "-." or not dataset.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise InputError("--dataset", f"invalid dataset name {dataset!r}",
                         fix="use letters, digits, '-', '_' or '.' (not first), e.g. --dataset sst2")
    started = time.monotonic()
    sources = [detect(p) for p in paths]
    fresh, new_root = not workspace.exists(), not workspace.root.exists()
    try:
        return _ingest_all(workspace, sources, dataset, task, mapping, progress, started)
    except BaseException:
        if fresh:
            workspace.discard_if_empty(new_root)
        raise


def _ingest_all(workspace: Workspace, sources: list[Source], dataset: str, task: str | None,
                mapping: dict[str, str] | None, progress: Progress | None, started: float) -> IngestReport:
    with workspace.transaction() as con:
        existing = catalog.find_dataset(con, dataset)
        plans, samples = [], []
        for source in sources:
            records = peek(source, 200)
            if not records:
                raise InputError(source.path, "file is empty (no records)", fix="export the data again")
            columns = columns_of(records)
            detected = task or detect_task(columns, mapping or {})
            if existing and detected and detected != existing["task"]:
                raise InputError(source.path, f"holds {detected} records but dataset {dataset!r} is {existing['task']}",
                                 fix="ingest it into another dataset with --dataset NAME")
            plans.append(resolve(source.path, columns, task=task or (existing or {}).get("task"), mapping=mapping))
            samples.append(records)
        task_name = plans[0].task
        if any(p.task != task_name for p in plans):
            odd = next(s for s, p in zip(sources, plans) if p.task != task_name)
            raise InputError(odd.path, "files hold different tasks", fix="ingest them into separate datasets")
        ds = existing or catalog.create_dataset(con, dataset, task_name)
        shas = [readers.sha256(s) for s in sources]
        todo = [i for i, sha in enumerate(shas)
                if not catalog.find_source(con, ds["id"], sha) and sha not in shas[:i]]
        results = [FileResult(str(s.path), s.format, 0, skipped=True, mapping=p.columns)
                   for s, p in zip(sources, plans)]
        if not todo:
            return IngestReport(dataset, task_name, results, time.monotonic() - started)
        run_id = catalog.start_run(con, "ingest", ds["id"], {
            "files": [str(s.path) for s in sources], "task": task_name,
            "mapping": [p.columns for p in plans]}, _libraries())
        for i in todo:
            results[i] = _ingest_one(con, sources[i], shas[i], ds, plans[i], samples[i], run_id, progress)
        seconds = time.monotonic() - started
        catalog.finish_run(con, run_id, {
            "files": len(results), "rows": sum(r.rows for r in results),
            "skipped_files": sum(r.skipped for r in results), "seconds": round(seconds, 3)})
    return IngestReport(dataset, task_name, results, seconds, run_id)
