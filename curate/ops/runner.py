"""Run a recipe on a dataset: mappers → edits, scorers → signals, filters → issues, one run record.

``run_recipe`` wraps the pure ``execute`` (``curate.ops.steps``) with the store: validate the recipe for
the dataset's task, skip an identical re-run, read the input, compute without holding the write lock,
then write edits, signals, issues and counters in one transaction (``write_back``). With
``engine="ray"`` the same ``execute`` runs per batch on Ray Data (``curate.engine.ray_recipe``) and the
merged outcome goes through the same ``write_back``.

Filters cascade (``curate.ops.cascade``): a row dropped by one filter is counted (and gets its one issue)
at that step only; later filters see the rows still kept. Scorers score every row, so thresholds can be
moved later over the stored signals without recomputing (see ``curate.ops.report``).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from curate import __version__
from curate.ops import recipe as recipes
from curate.ops.columns import signals_long
from curate.ops.outcome import Outcome, RecipeCounters, StepCounts
from curate.ops.recipe import Recipe, Step
from curate.ops.steps import Prepare, Progress, execute, frame_of
from curate.ops.text import field_values
from curate.store import catalog
from curate.store import ops as store
from curate.store.workspace import Workspace


@dataclass
class RunResult:
    run_id: int
    dataset: str
    recipe: str
    counters: RecipeCounters
    skipped: bool = False
    seconds: float = 0.0

    @property
    def steps(self) -> list[StepCounts]:
        return self.counters.steps


def _libraries() -> dict[str, str]:
    import duckdb
    import ftfy
    from importlib.metadata import version

    return {"curate": __version__, "duckdb": duckdb.__version__, "pyarrow": pa.__version__,
            "ftfy": ftfy.__version__, "lingua": version("lingua-language-detector"), "jieba": version("jieba"),
            "opencc": version("opencc"), "numpy": np.__version__}


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
    shards, table, marks = None, pa.table({}), {}   # Ray reads shards, the in-process engine table and marks
    with workspace.connect() as con:
        input_fp = store.input_fingerprint(con, ds["id"], recipe.name, with_marks=needs_marks)
        key = hashlib.sha256(f"{recipe.fingerprint()}:{input_fp}".encode()).hexdigest()
        same = store.find_identical_run(con, ds["id"], key)
        if same and not force:
            return RunResult(same["id"], dataset, recipe.name, RecipeCounters.from_json(json.loads(same["counters"] or "{}")),
                             skipped=True, seconds=time.monotonic() - started)
        if scale_out:
            shards = scale_out.export_shards(workspace, con, ds["id"], recipe.name, batch_rows)
        else:
            table = store.current_values(con, ds["id"], recipe.name)
            marks = store.marks(con, ds["id"]) if needs_marks else {}
    params = {**recipe.resolved(), "path": str(recipe_path), "key": key, "input": input_fp, "engine": engine}
    with workspace.transaction() as con:
        run_id = catalog.start_run(con, store.KIND, ds["id"], params, _libraries())
    try:
        if scale_out and shards:
            with shards:
                outcome = scale_out.compute(recipe, shards.name, ds["task"], address=address, workers=workers,
                                            batch_rows=batch_rows, progress=progress)
        else:
            outcome = execute(recipe, frame_of(table), prepare=_preparer(workspace, marks, progress),
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


def _embedding_progress(step: Step, progress: Progress | None) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(f"{step.label}: embedding", done, total)


def _preparer(workspace: Workspace, marks: dict[int, str], progress: Progress | None) -> Prepare:
    def prepare(step: Step, frame: pd.DataFrame) -> dict:
        from curate.embed import embed_cached

        texts = field_values(frame, step.op.param(step.params, "field")).to_pylist()
        ctx: dict = {"embeddings": embed_cached(
            workspace, texts, progress=_embedding_progress(step, progress))}
        if "marks" in step.op.needs:
            value = {"good": 1.0, "bad": 0.0}
            ctx["marks"] = np.array([value.get(marks.get(int(i), ""), np.nan) for i in frame["id"]])
        return ctx
    return prepare


def write_back(workspace: Workspace, run_id: int, outcome: Outcome, started: float) -> RecipeCounters:
    """Edits, signals, issues and counters of a run in one transaction (any engine); returns the counters."""
    counters = outcome.counters().timed(round(time.monotonic() - started, 3))
    long = signals_long(outcome)
    with workspace.transaction() as con:
        for part in outcome.edits:
            store.save_edits(con, run_id, part)
        store.save_signals(con, run_id, long)
        store.save_issues(con, run_id, outcome.issues)
        catalog.finish_run(con, run_id, counters.to_json())
    return counters
