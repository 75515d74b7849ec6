"""Corpus mode: a recipe over Parquet files that never enter a workspace store, streamed through Ray Data.

    curate run pipelines/sft.yaml --input 'corpus/*.parquet' --output cleaned/ --engine ray
    curate report --from cleaned/

Ray Data reads the files (local paths or any fsspec URL pyarrow opens) in batches of ``batch_rows``
rows; each batch goes through ``runner.execute`` (the same operators) and is written by the worker as
Parquet under ``OUTPUT/data/``: every input column, the task's fields cleaned, ``signal.<name>`` per
signal, ``issue`` and ``issue_reason`` of dropped rows, ``dropped_step`` and ``edits`` (the mapper steps
that changed the row, one entry per field). A second streamed pass over those small columns counts
the report (``OUTPUT/report.json``), so no process holds the corpus: memory per worker is bounded by
the batch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.engine.cluster import EngineError, cluster
from curate.engine.ray_recipe import _recipe, check, worker_errors
from curate.errors import InputError
from curate.ops import columns, recipe as recipes
from curate.ops.report import Report, filter_steps
from curate.ops.outcome import RecipeCounters, summarize
from curate.ops.steps import execute
from curate.store.ops import FIELDS

REPORT, DATA = "report.json", "data"
SAMPLES = 5


def input_files(pattern: str) -> list[str]:
    """The Parquet files a glob (or folder, or single file; any fsspec URL) names; an error if none."""
    import fsspec

    fs, _, paths = fsspec.core.get_fs_token_paths(pattern)
    if len(paths) == 1 and fs.isdir(paths[0]):
        paths = fs.glob(paths[0].rstrip("/") + "/*.parquet")
    paths = sorted(p for p in paths if p.endswith(".parquet"))
    if not paths:
        raise InputError(pattern, "no Parquet files match", fix="quote the glob, e.g. --input 'corpus/*.parquet'")
    protocol = fs.protocol[0] if isinstance(fs.protocol, (list, tuple)) else fs.protocol
    return paths if protocol in ("file", "local") else [f"{protocol}://{p}" for p in paths]


def infer_task(schema: pa.Schema, path: str) -> str:
    names = set(schema.names)
    for task, needed in (("chat", {"messages"}), ("sft", {"instruction", "response"}), ("classification", {"text"})):
        if needed <= names:
            return task
    raise InputError(path, f"no column the recipe can read (columns: {', '.join(schema.names)})",
                     fix="give `text`, `instruction` + `response`, or `messages` columns")


def _field(batch: pa.Table, name: str) -> list:
    if name not in batch.column_names:
        return [None] * batch.num_rows
    col = batch.column(name)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return col.to_pylist()
    return [None if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
            for v in col.to_pylist()]


def corpus_batch(batch: pa.Table, *, text: str, path: str, task: str, batch_rows: int) -> pa.Table:
    """One batch of the corpus through the recipe: the input columns, cleaned, with signals and issues."""
    recipe = _recipe(text, path, task)
    frame = pd.DataFrame({"id": np.arange(batch.num_rows, dtype=np.int64), **{f: _field(batch, f) for f in FIELDS}})
    wide = columns.to_columns(execute(recipe, frame, batch_rows=batch_rows), recipe)
    out = batch
    made: list[list[int]] = [[] for _ in range(batch.num_rows)]
    for column, index, fld in columns.edit_columns(recipe):
        new = wide.column(column).to_pylist()
        for i, v in enumerate(new):
            if v is not None:
                frame.at[i, fld] = v
                made[i].append(index)
    for fld in sorted({f for _, _, f in columns.edit_columns(recipe)}):
        cleaned = pa.array(frame[fld].tolist(), pa.string())
        out = out.set_column(out.column_names.index(fld), fld, cleaned) if fld in out.column_names else \
            out.append_column(fld, cleaned)
    for name in columns.signal_names(recipe):   # no evidence (NaN) is written as null
        col = wide.column(columns.SIGNAL + name)
        out = out.append_column(columns.SIGNAL + name, pc.if_else(pc.is_nan(col), pa.scalar(None, pa.float64()), col))
    return (out.append_column("issue", wide.column("issue")).append_column("issue_reason", wide.column("issue_detail"))
            .append_column("dropped_step", wide.column("dropped_step"))
            .append_column("edits", pa.array(made, pa.list_(pa.int32()))))


def _tally(batch: pa.Table, *, task: str) -> pa.Table:
    """Per block: rows, rows dropped per step, edits per step, and a few dropped rows per reason."""
    from curate.ops.report import _preview

    steps = batch.column("dropped_step").fill_null(0).to_numpy()
    edits = pc.list_flatten(batch.column("edits")).to_numpy() if batch.num_rows else np.zeros(0)
    rows: list[dict[str, Any]] = [{"kind": "total", "step": 0, "n": batch.num_rows, "text": None, "detail": None}]
    for kind, values in (("dropped", steps[steps > 0]), ("edited", edits)):
        for step, n in zip(*np.unique(values, return_counts=True)):
            rows.append({"kind": kind, "step": int(step), "n": int(n), "text": None, "detail": None})
    records = batch.to_pylist()
    for step in np.unique(steps[steps > 0]):
        for i in np.flatnonzero(steps == step)[:SAMPLES]:
            rows.append({"kind": "sample", "step": int(step), "n": 0, "text": _preview(records[i], task),
                         "detail": records[i]["issue_reason"]})
    return pa.Table.from_pylist(rows, schema=pa.schema([("kind", pa.string()), ("step", pa.int64()), ("n", pa.int64()),
                                                        ("text", pa.string()), ("detail", pa.string())]))


def run_corpus(recipe_path: str | Path, pattern: str, output: str | Path, *, address: str | None = None,
               workers: int | None = None, batch_rows: int = 10_000) -> dict[str, Any]:
    """Run a recipe over Parquet files into ``output`` (data/ + report.json); returns the report."""
    files = input_files(pattern)
    task_of_recipe = recipes.load(recipe_path).task
    task = task_of_recipe or infer_task(pq.read_schema(files[0]), files[0])
    recipe = recipes.load(recipe_path, task=task)
    check(recipe, address)
    out = Path(output)
    if out.exists() and any(out.iterdir()):
        raise EngineError(f"{out}: the output folder is not empty; fix: pass a new --output folder")
    kwargs = {"text": Path(recipe.path).read_text(encoding="utf-8"), "path": recipe.path, "task": task,
              "batch_rows": batch_rows}
    with cluster(address) as ray:
        def run() -> list[dict[str, Any]]:
            ray.data.read_parquet(files).map_batches(
                corpus_batch, fn_kwargs=kwargs, batch_format="pyarrow", batch_size=batch_rows, concurrency=workers,
                num_cpus=1).write_parquet(str(out / DATA))
            small = ["dropped_step", "edits", "issue_reason", *[f for f in FIELDS if f in _out_names(out)]]
            return ray.data.read_parquet(str(out / DATA)).select_columns(small).map_batches(
                _tally, fn_kwargs={"task": task}, batch_format="pyarrow", batch_size=batch_rows).take_all()
        tallies = worker_errors(ray, run)
    report = _report(recipe, task, tallies, pattern, out)
    (out / REPORT).write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return report


def _out_names(out: Path) -> list[str]:
    first = next(iter(sorted((out / DATA).glob("*.parquet"))), None)
    return pq.read_schema(first).names if first else []


def _report(recipe: recipes.Recipe, task: str, tallies: list[dict[str, Any]], pattern: str, out: Path) -> dict:
    count: dict[tuple[str, int], int] = {}
    samples: dict[str, list[dict[str, Any]]] = {}
    reason_of = {s.index: s.reads[1] for s in recipe.filters}
    for t in tallies:
        if t["kind"] == "sample":
            rows = samples.setdefault(reason_of[t["step"]], [])
            if len(rows) < SAMPLES:
                rows.append({"id": len(rows) + 1, "text": t["text"], "detail": t["detail"]})
        else:
            count[(t["kind"], t["step"])] = count.get((t["kind"], t["step"]), 0) + t["n"]
    total = count.get(("total", 0), 0)
    dropped = {s: n for (k, s), n in count.items() if k == "dropped"}
    edited = {s: n for (k, s), n in count.items() if k == "edited"}
    steps = columns.step_reports(recipe, total, dropped, edited)
    counters = summarize(steps, total=total, kept=total - sum(dropped.values()), edits=sum(edited.values()))
    edits = {f"op:{s.op}": s.edited for s in steps if s.edited}
    return {"recipe": recipe.name, "task": task, "input": pattern, "output": str(out / DATA), "engine": "ray",
            "params": recipe.resolved(), "counters": counters.to_json(), "samples": samples, "edits": edits}


def load_report(folder: str | Path) -> Report | None:
    """The report a corpus run wrote into ``folder``, as the ``Report`` that ``curate report`` prints
    (``None`` for a corpus dedup's report, which has counters only)."""
    path = Path(folder) / REPORT
    if not path.is_file():
        raise InputError(path, "no corpus report here", fix="pass the --output folder of `curate run --input ...`")
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("kind") == "dedup":
        return None
    return Report(str(folder), doc["task"], {"id": "corpus"}, doc["recipe"], RecipeCounters.from_json(doc["counters"]),
                  filter_steps(doc["params"]), pd.DataFrame(), doc["samples"], {}, doc["edits"])
