"""Run a recipe's steps over an in-memory batch (a DataFrame of current field values), step by step in
chunks of ``batch_rows``, with a progress callback: mappers give edits, scorers signals, filters drop
rows through the cascade (``curate.ops.cascade``). Pure: no store; the runner (``curate.ops.runner``)
and the scale-out engines (``curate.engine``) call ``execute`` on their batches.
"""

from __future__ import annotations

import json
import time
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from curate.ops.cascade import Cascade
from curate.ops.outcome import Outcome, StepReport
from curate.ops.quality import StepSkipped
from curate.ops.recipe import Recipe, Step
from curate.ops.text import contents

Progress = Callable[[str, int, int], None]   # (step label, rows done, rows total)
Prepare = Callable[[Step, pd.DataFrame], dict]  # context a scorer needs (embeddings, marks)


def _map_column(step: Step, values: list, fld: str, batch_rows: int) -> list:
    fn, params = step.op.fn, step.params
    if fld == "messages":
        out = []
        for raw in values:
            turns = contents(raw)
            if not turns:
                out.append(raw)
                continue
            texts = pa.array([str(t.get("content") or "") for t in turns], pa.string())
            cleaned = fn(texts, params).to_pylist()
            if getattr(params, "roles", None):   # only the asked roles' turns change
                cleaned = [c if t.get("role") in params.roles else o
                           for t, c, o in zip(turns, cleaned, texts.to_pylist())]
            changed = [dict(t, content=c) for t, c in zip(turns, cleaned)]
            out.append(raw if cleaned == texts.to_pylist() else json.dumps(changed, ensure_ascii=False))
        return out
    arr = pa.array(values, pa.string())
    parts = [fn(arr.slice(i, batch_rows), params) for i in range(0, len(arr), batch_rows)]
    return [v for part in parts for v in part.to_pylist()]


def _apply_mapper(step: Step, frame: pd.DataFrame, ids: np.ndarray, batch_rows: int,
                  report: StepReport) -> list[pa.Table]:
    """Run one mapper step over its fields: ``frame`` gets the cleaned values, the changes come back
    as edit tables. Rows the operator's guard names stay as they are."""
    edits = []
    guard = step.op.guard(frame, step.params) if step.op.guard else np.zeros(len(frame), dtype=bool)
    for fld in step.params.fields or []:
        if fld not in frame:
            continue
        before = frame[fld].tolist()
        after = [b if g else a for a, b, g in zip(_map_column(step, before, fld, batch_rows), before, guard)]
        changed = np.array([a != b for a, b in zip(after, before)], dtype=bool)
        if changed.any():
            idx = np.flatnonzero(changed)
            edits.append(pa.table({
                "example_id": pa.array(ids[idx], pa.int64()),
                "field": pa.array([fld] * len(idx), pa.string()),
                "value": pa.array([after[i] for i in idx], pa.string()),
                "author": pa.array([f"op:{step.op.name}"] * len(idx), pa.string())}))
            frame[fld] = after
            report.edited += int(changed.sum())
    return edits


def execute(recipe: Recipe, frame: pd.DataFrame, *, prepare: Prepare | None = None,
            progress: Progress | None = None, batch_rows: int = 10_000) -> Outcome:
    """Apply every step of ``recipe`` to ``frame`` (``id`` + field columns); the frame is not changed."""
    frame = frame.copy()
    n = len(frame)
    ids = frame["id"].to_numpy(dtype=np.int64)
    cascade = Cascade(n)
    dropped_by = np.full(n, None, dtype=object)
    dropped_at = np.zeros(n, dtype=np.int32)
    signals: dict[str, np.ndarray] = {}
    edits: list[pa.Table] = []
    issue_parts: list[pd.DataFrame] = []
    reports: list[StepReport] = []
    for step in recipe.steps:
        started = time.perf_counter()
        report = StepReport(step.index, step.op.name, step.op.kind)
        if progress:
            progress(step.label, 0, n)
        if step.op.kind == "mapper":
            edits += _apply_mapper(step, frame, ids, batch_rows, report)
        elif step.op.kind == "scorer":
            signals.update(_score(step, frame, prepare, batch_rows, report))
        else:
            flagged, issue = _filter(step, signals, cascade, ids, report)
            if issue is not None:
                dropped_by[flagged] = step.reads[1]
                dropped_at[flagged] = step.index
                issue_parts.append(issue)
        report.seconds = time.perf_counter() - started
        reports.append(report)
        if progress:
            progress(step.label, n, n)
    issues = (pa.Table.from_pandas(pd.concat(issue_parts, ignore_index=True), preserve_index=False)
              if issue_parts else pa.table({"example_id": pa.array([], pa.int64()), "kind": pa.array([], pa.string()),
                                             "reason": pa.array([], pa.string()), "score": pa.array([], pa.float64())}))
    return Outcome(ids, edits, signals, dropped_by, issues, reports, dropped_at)


def _score(step: Step, frame: pd.DataFrame, prepare: Prepare | None, batch_rows: int,
           report: StepReport) -> dict[str, np.ndarray]:
    """A scorer step's signals over every row (each in [0, 1]); none when the step is skipped."""
    n = len(frame)
    try:
        if step.op.needs:
            ctx = prepare(step, frame) if prepare else {}
            out = step.op.fn(frame, step.params, ctx)
        else:
            chunks = [step.op.fn(frame.iloc[i:i + batch_rows], step.params, {}) for i in range(0, n, batch_rows)]
            out = {s: np.concatenate([c[s] for c in chunks]) if chunks else np.zeros(0) for s in step.op.signals}
    except StepSkipped as exc:
        report.skipped = str(exc)
        out = {}
    signals = {}
    for name, values in out.items():
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (n,) or np.any((values < 0) | (values > 1)):
            raise RuntimeError(f"{step.label}: operator returned signal {name!r} outside [0, 1]")
        signals[name] = values
    return signals


def _filter(step: Step, signals: dict[str, np.ndarray], cascade: Cascade, ids: np.ndarray,
            report: StepReport) -> tuple[np.ndarray, pd.DataFrame | None]:
    """A filter step of the cascade: the rows it drops and their issues (None when it drops none)."""
    signal, reason = step.reads
    min_score = step.params.min_score
    values = signals.get(signal, np.full(len(ids), np.nan))
    cut = cascade.apply(values, min_score)
    report.rows_in, report.kept = cut.rows_in, cut.kept
    flagged = cut.dropped
    if not flagged.any():
        return flagged, None
    report.dropped = {reason: int(flagged.sum())}
    return flagged, pd.DataFrame({
        "example_id": ids[flagged], "kind": reason,
        "reason": [f"{signal} {v:.3f} < {min_score:g} ({step.label})" for v in values[flagged]],
        "score": values[flagged]})


def frame_of(table: pa.Table) -> pd.DataFrame:
    """A batch as ``execute`` takes it: the ``id`` column as numbers, the fields as Python values."""
    return pd.DataFrame({name: table.column(name).to_pylist() if name != "id" else
                         table.column(name).to_numpy() for name in table.column_names})
