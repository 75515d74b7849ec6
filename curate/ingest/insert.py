"""One planned file into the store: read batch by batch, normalise chat, spans and preference records,
insert the examples (with the ids of the records they replace, under ``replace``) and finish the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import duckdb
import numpy as np
import pyarrow as pa

from curate.errors import InputError
from curate.ingest import chat, readers, shapes
from curate.ingest.labels import sequence_names
from curate.ingest.plan import Plan
from curate.ingest.problems import explain_batch
from curate.ingest.readers import Source
from curate.ingest.tasks import Mapping, columns_of, key_path
from curate.store import catalog, examples
from curate.store.workspace import scratch

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


def _label_type_of(records: list[dict], column: str) -> str | None:
    """``int`` or ``str`` from the first sampled record whose label is one of those."""
    for record in records:
        value = record.get(column)
        if isinstance(value, str):
            return "str"
        if isinstance(value, int) and not isinstance(value, bool):
            return "int"
    return None


def _label_type(plan: Plan, dataset: dict, paths: dict[str, str]) -> str | None:
    labelled = plan.mapping.task == "classification" and "label" in paths
    if not labelled:
        return None
    if dataset["label_type"] and not plan.previous:
        return dataset["label_type"]
    return _label_type_of(plan.sample, plan.mapping.columns["label"])


def ingest_file(con: duckdb.DuckDBPyConnection, plan: Plan, dataset: dict, run_id: int,
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
            raise explain_batch(source, table, mapping, paths, label_type, exc) from None
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
