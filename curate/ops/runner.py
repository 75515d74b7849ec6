"""Run a recipe on a dataset: mappers → edits, scorers → signals, filters → issues, one run record.

``execute`` is the engine: pure, over an in-memory batch (a DataFrame of current field values), step
by step in chunks of ``batch_rows``, with a progress callback. ``run_recipe`` wraps it with the store:
validate the recipe for the dataset's task, skip an identical re-run, read the input, compute without
holding the write lock, then write edits, signals, issues and counters in one transaction
(``write_back``). With ``engine="ray"`` the same ``execute`` runs per batch on Ray Data
(``curate.engine.ray_recipe``) and the merged outcome goes through the same ``write_back``.

Filters cascade: a row dropped by one filter is counted (and gets its one issue) at that step only;
later filters see the rows still kept. Scorers score every row, so thresholds can be moved later
over the stored signals without recomputing (see ``curate.ops.report``).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from curate import __version__
from curate.ops import recipe as recipes
from curate.ops.filters import passes
from curate.ops.columns import signals_long
from curate.ops.quality import StepSkipped
from curate.ops.recipe import Recipe, Step
from curate.ops.text import contents, field_values
from curate.store import catalog
from curate.store import ops as store
from curate.store.workspace import Workspace

Progress = Callable[[str, int, int], None]   # (step label, rows done, rows total)
Prepare = Callable[[Step, pd.DataFrame], dict]  # context a scorer needs (embeddings, marks)


@dataclass
class StepReport:
    index: int
    op: str
    kind: str
    rows_in: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    edited: int = 0
    skipped: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        out = {"step": self.index, "op": self.op, "kind": self.kind, "seconds": round(self.seconds, 3)}
        if self.kind == "mapper":
            out["edited"] = self.edited
        if self.kind == "filter":
            out.update(rows_in=self.rows_in, kept=self.kept, dropped=self.dropped)
        if self.skipped:
            out["skipped"] = self.skipped
        return out


@dataclass
class Outcome:
    """What ``execute`` computed for one batch of rows."""

    ids: np.ndarray
    edits: list[pa.Table]               # one table per mapper step: example_id, field, value, author
    signals: dict[str, np.ndarray]
    dropped_by: np.ndarray              # per row: the reason of the filter that dropped it, else None
    issues: pa.Table
    steps: list[StepReport]
    dropped_at: np.ndarray              # per row: the index of the filter step that dropped it, else 0

    def counters(self) -> dict[str, Any]:
        return summarize(self.steps, total=len(self.ids), kept=int(sum(r is None for r in self.dropped_by)),
                         edits=int(sum(t.num_rows for t in self.edits)))


def summarize(steps: list[StepReport], *, total: int, kept: int, edits: int) -> dict[str, Any]:
    """A run's counters: ``total``, ``kept``, ``dropped_<reason>``, ``edits`` and the per-step reports."""
    out: dict[str, Any] = {"total": int(total), "kept": int(kept)}
    for step in steps:
        for reason, n in step.dropped.items():
            out[f"dropped_{reason}"] = out.get(f"dropped_{reason}", 0) + n
    out["edits"] = int(edits)
    out["steps"] = [s.as_dict() for s in steps]
    return out


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
    alive = np.ones(n, dtype=bool)
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
            try:
                if step.op.needs:
                    ctx = prepare(step, frame) if prepare else {}
                    out = step.op.fn(frame, step.params, ctx)
                else:
                    chunks = [step.op.fn(frame.iloc[i:i + batch_rows], step.params, {})
                              for i in range(0, n, batch_rows)]
                    out = {s: np.concatenate([c[s] for c in chunks]) if chunks else np.zeros(0)
                           for s in step.op.signals}
            except StepSkipped as exc:
                report.skipped = str(exc)
                out = {}
            for name, values in out.items():
                values = np.asarray(values, dtype=np.float64)
                if values.shape != (n,) or np.any((values < 0) | (values > 1)):
                    raise RuntimeError(f"{step.label}: operator returned signal {name!r} outside [0, 1]")
                signals[name] = values
        else:
            signal, reason = step.reads
            min_score = step.params.min_score
            values = signals.get(signal, np.full(n, np.nan))
            flagged = alive & ~passes(values, min_score)
            report.rows_in, report.kept = int(alive.sum()), int((alive & ~flagged).sum())
            if flagged.any():
                report.dropped = {reason: int(flagged.sum())}
                dropped_by[flagged] = reason
                dropped_at[flagged] = step.index
                issue_parts.append(pd.DataFrame({
                    "example_id": ids[flagged], "kind": reason,
                    "reason": [f"{signal} {v:.3f} < {min_score:g} ({step.label})" for v in values[flagged]],
                    "score": values[flagged]}))
            alive &= ~flagged
        report.seconds = time.perf_counter() - started
        reports.append(report)
        if progress:
            progress(step.label, n, n)
    issues = (pa.Table.from_pandas(pd.concat(issue_parts, ignore_index=True), preserve_index=False)
              if issue_parts else pa.table({"example_id": pa.array([], pa.int64()), "kind": pa.array([], pa.string()),
                                             "reason": pa.array([], pa.string()), "score": pa.array([], pa.float64())}))
    return Outcome(ids, edits, signals, dropped_by, issues, reports, dropped_at)


@dataclass
class RunResult:
    run_id: int
    dataset: str
    recipe: str
    counters: dict[str, Any]
    skipped: bool = False
    seconds: float = 0.0

    @property
    def steps(self) -> list[dict[str, Any]]:
        return self.counters.get("steps", [])


def _libraries() -> dict[str, str]:
    import duckdb
    import ftfy
    from importlib.metadata import version

    return {"curate": __version__, "duckdb": duckdb.__version__, "pyarrow": pa.__version__,
            "ftfy": ftfy.__version__, "lingua": version("lingua-language-detector"), "jieba": version("jieba"),
            "opencc": version("opencc"), "numpy": np.__version__}


def _frame(table: pa.Table) -> pd.DataFrame:
    return pd.DataFrame({name: table.column(name).to_pylist() if name != "id" else
                         table.column(name).to_numpy() for name in table.column_names})


def run_recipe(workspace: Workspace, recipe_path: str | Path, dataset: str, *, force: bool = False,
               progress: Progress | None = None, batch_rows: int = 10_000, engine: str = "local",
               address: str | None = None, workers: int | None = None) -> RunResult:
    """Run a recipe file on a dataset and record it; an identical earlier run is reused, not repeated.

    ``engine="ray"`` computes the same outcome on Ray Data (``curate.engine.ray_recipe``; ``address``:
    an existing cluster, ``workers``: parallel batches); the write-back below is the same for both.
    """
    started = time.monotonic()
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
    recipe = recipes.load(recipe_path, task=ds["task"])   # whole-file validation before any write
    scale_out = _engine(engine, recipe, address)
    needs_marks = any("marks" in s.op.needs for s in recipe.steps)
    with workspace.connect() as con:
        input_fp = store.input_fingerprint(con, ds["id"], recipe.name, with_marks=needs_marks)
        key = hashlib.sha256(f"{recipe.fingerprint()}:{input_fp}".encode()).hexdigest()
        same = store.find_identical_run(con, ds["id"], key)
        if same and not force:
            return RunResult(same["id"], dataset, recipe.name, json.loads(same["counters"] or "{}"), skipped=True,
                             seconds=time.monotonic() - started)
        if scale_out:
            shards = scale_out.export_shards(workspace, con, ds["id"], recipe.name, batch_rows)
        else:
            table = store.current_values(con, ds["id"], recipe.name)
            marks = store.marks(con, ds["id"]) if needs_marks else {}
    params = {**recipe.resolved(), "path": str(recipe_path), "key": key, "input": input_fp, "engine": engine}
    with workspace.transaction() as con:
        run_id = catalog.start_run(con, store.KIND, ds["id"], params, _libraries())
    try:
        if scale_out:
            with shards:
                outcome = scale_out.compute(recipe, shards.name, ds["task"], address=address, workers=workers,
                                            batch_rows=batch_rows, progress=progress)
        else:
            outcome = execute(recipe, _frame(table), prepare=_preparer(workspace, marks, progress),
                              progress=progress, batch_rows=batch_rows)
        counters = write_back(workspace, run_id, outcome, started)
    except BaseException as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        with workspace.transaction() as con:
            catalog.finish_run(con, run_id, {}, status="failed", message=message)
        raise
    return RunResult(run_id, dataset, recipe.name, counters, seconds=time.monotonic() - started)


def _engine(engine: str, recipe: Recipe, address: str | None):
    """``None`` for the local engine, else the scale-out module (after it has accepted the recipe)."""
    from curate.engine import ENGINES

    if engine not in ENGINES:
        from curate.engine.cluster import EngineError

        raise EngineError(f"unknown engine {engine!r}; fix: use one of {', '.join(ENGINES)}")
    if engine == "local":
        return None
    from curate.engine import ray_recipe

    ray_recipe.check(recipe, address)
    return ray_recipe


def _preparer(workspace: Workspace, marks: dict[int, str], progress: Progress | None) -> Prepare:
    def prepare(step: Step, frame: pd.DataFrame) -> dict:
        from curate.embed import embed_cached

        texts = field_values(frame, step.params.field).to_pylist()
        ctx: dict = {"embeddings": embed_cached(
            workspace, texts, progress=(lambda d, t: progress(f"{step.label}: embedding", d, t)) if progress else None)}
        if "marks" in step.op.needs:
            ctx["marks"] = np.array([{"good": 1.0, "bad": 0.0}.get(marks.get(int(i)), np.nan) for i in frame["id"]])
        return ctx
    return prepare


def write_back(workspace: Workspace, run_id: int, outcome: Outcome, started: float) -> dict[str, Any]:
    """Edits, signals, issues and counters of a run in one transaction (any engine); returns the counters."""
    counters = outcome.counters()
    counters["seconds"] = round(time.monotonic() - started, 3)
    long = signals_long(outcome)
    with workspace.transaction() as con:
        for part in outcome.edits:
            store.save_edits(con, run_id, part)
        store.save_signals(con, run_id, long)
        store.save_issues(con, run_id, outcome.issues)
        catalog.finish_run(con, run_id, counters)
    return counters
