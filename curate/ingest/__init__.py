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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import pyarrow as pa
import numpy as np

from curate import __version__
from curate.errors import InputError
from curate.ingest import chat, readers, shapes
from curate.ingest.labels import parse_labels, sequence_names
from curate.ingest.plan import Plan, check_tasks, plan_file
from curate.ingest.readers import Source, detect, peek
from curate.ingest.tasks import TASK_FIELDS, Mapping, columns_of, key_path, parse_map, resolve, suggest_map
from curate.store import catalog, examples
from curate.store.workspace import Workspace, scratch

__all__ = ["ingest", "preview", "Preview", "IngestReport", "parse_labels", "parse_map", "TASK_FIELDS"]

Progress = Callable[[str, int], None]


@dataclass
class FileResult:
    path: str
    format: str
    rows: int
    skipped: bool = False
    source_id: int | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    replaced: bool = False
    label_names: dict[str, str | None] = field(default_factory=dict)


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


def _label_type(plan: Plan, dataset: dict, paths: dict[str, str]) -> str | None:
    labelled = plan.mapping.task == "classification" and "label" in paths
    if not labelled:
        return None
    if dataset["label_type"] and not plan.previous:
        return dataset["label_type"]
    return _label_type_of(plan.sample, plan.mapping.columns["label"])


def _ingest_one(con: duckdb.DuckDBPyConnection, plan: Plan, dataset: dict, run_id: int,
                progress: Progress | None) -> FileResult:
    source, mapping = plan.source, plan.mapping
    result = FileResult(str(source.path), source.format, 0, mapping=mapping.columns, replaced=plan.previous is not None,
                        label_names=plan.names)
    if plan.previous:
        source_id = plan.previous["id"]
        catalog.reset_source(con, source_id, mapping.columns, run_id)
    else:
        source_id = catalog.add_source(con, dataset["id"], str(source.path), source.format, plan.sha, mapping.columns,
                                       run_id)
    columns = columns_of(plan.sample)
    in_python = mapping.task in shapes.OUTPUTS
    paths = {} if in_python else {f: examples.json_path(key_path(c, columns)) for f, c in mapping.columns.items()}
    tag_names = sequence_names(source, mapping.columns["ner_tags"]) if "ner_tags" in mapping.columns else None
    label_type = _label_type(plan, dataset, paths)
    next_id = examples.next_id(con)
    for table in readers.batches(source):
        if "label" in paths and mapping.task == "classification" and label_type is None:
            with scratch() as side:
                label_type = examples.first_label_type(side, table, paths["label"])
        n = table.num_rows
        ids = plan.ids[result.rows:result.rows + n] if plan.ids is not None else range(next_id, next_id + n)
        try:
            if mapping.task == "chat":
                table = _with_messages(source, table, key_path(mapping.columns["messages"], columns))
            elif in_python:
                table = _with_shapes(source, table, mapping, tag_names)
            table = table.append_column("id", pa.array(np.asarray(ids, dtype=np.int64)))
            examples.insert_batch(con, table, dataset_id=dataset["id"], source_id=source_id, task=mapping.task,
                                  paths=paths, label_type=label_type)
        except (duckdb.Error, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise _explain(source, table, mapping, paths, label_type, exc) from None
        next_id += n if plan.ids is None else 0
        result.rows += n
        if progress:
            progress(str(source.path), result.rows)
    _finish_source(con, plan, dataset, source_id, result, label_type)
    return result


def _finish_source(con: duckdb.DuckDBPyConnection, plan: Plan, dataset: dict, source_id: int, result: FileResult,
                   label_type: str | None) -> None:
    source = plan.source
    if result.rows == 0:
        raise InputError(source.path, "file is empty (no records)", fix="export the data again")
    if plan.ids is not None and result.rows != len(plan.ids):
        raise InputError(source.path, f"read {result.rows} records but the earlier ingest had {len(plan.ids)}",
                         fix="ingest the changed file as a new source, without --replace")
    if plan.names:
        bad = examples.name_labels(con, source_id, plan.names)
        if bad:
            raise InputError(source.path, f"label {bad[1]!r} has no name", **source.where(bad[0]),
                             fix=f"name every class in --labels (given: {', '.join(k for k in plan.names if plan.names[k])})")
    catalog.finish_source(con, source_id, result.rows)
    catalog.record_labels(con, dataset["id"], source_id, [n for n in plan.names.values() if n is not None])
    if label_type and label_type != dataset["label_type"]:
        catalog.set_label_type(con, dataset["id"], label_type)
        dataset["label_type"] = label_type
    result.source_id = source_id


def _with_messages(source: Source, table: pa.Table, column: tuple[str, ...]) -> pa.Table:
    out = []
    for row_num, raw in zip(table.column("row_num").to_pylist(), table.column("raw").to_pylist()):
        try:
            out.append(chat.normalise_raw(raw, column))
        except chat.ChatProblem as exc:
            raise InputError(source.path, str(exc), **source.where(row_num),
                             fix="give each turn a role (system/user/assistant) and text content") from None
    return table.append_column("messages", pa.array(out, pa.string()))


def _with_shapes(source: Source, table: pa.Table, mapping: Mapping, tag_names: list[str] | None) -> pa.Table:
    """A batch of spans or preference records with its normalised columns (see ``curate.ingest.shapes``)."""
    import json

    outputs = shapes.OUTPUTS[mapping.task]
    out: dict[str, list[str]] = {name: [] for name in outputs}
    for row_num, raw in zip(table.column("row_num").to_pylist(), table.column("raw").to_pylist()):
        try:
            record = json.loads(raw)
            if not isinstance(record, dict):
                raise shapes.ShapeProblem("record is not a JSON object", 'each record must be an object like {"text": ...}')
            values = shapes.columns_for(mapping.task, record, mapping.columns, tag_names)
        except json.JSONDecodeError as exc:
            raise InputError(source.path, f"malformed JSON ({exc.msg})", **source.where(row_num),
                             fix="fix or remove this line") from None
        except shapes.ShapeProblem as exc:
            raise InputError(source.path, str(exc), **source.where(row_num), fix=exc.fix) from None
        for name in outputs:
            out[name].append(values[name])
    for name in outputs:
        table = table.append_column(name, pa.array(out[name], pa.string()))
    return table


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
            results[i] = _ingest_one(con, plans[i], ds, run_id, progress)
        seconds = time.monotonic() - started
        catalog.finish_run(con, run_id, {
            "files": len(results), "rows": sum(r.rows for r in results), "replaced": sum(r.replaced for r in results),
            "skipped_files": sum(r.skipped for r in results), "seconds": round(seconds, 3)})
    return IngestReport(dataset, task_name, results, seconds, run_id)
