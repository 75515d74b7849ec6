"""A recipe on Ray Data: the dataset's current values as Parquet shards, every step of ``execute`` as
``map_batches`` over Arrow batches, one wide row per example back (``curate.ops.columns``).

Filters cascade per row and mappers and scorers are pure batch functions, so a batch's outcome does
not depend on the other batches: merged, they equal the local engine's outcome. Steps that compare
a row with the whole dataset (``score.outlier``, ``score.quality_model``) are refused up front.
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa

from curate.engine.cluster import EngineError, check_reachable, cluster, require_ray
from curate.engine.shards import read_shards, write_shards
from curate.ops import columns
from curate.ops.recipe import Recipe, parse
from curate.store import ops as store
from curate.store.workspace import Workspace

Progress = Callable[[str, int, int], None]
# A task asks Ray for one CPU, so its operators must use one: lingua's parallel detection (``score.lang``)
# otherwise spreads over every core of the node (rayon), and a second worker only fights the first for
# them (measured, 100k rows of the SFT recipe on 2 cores: 2 workers 8.3 s per 10k-row batch against one
# worker's 4.7 s; both engines the same rows/s).
ONE_CPU = {"env_vars": {"RAYON_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}}


def check(recipe: Recipe, address: str | None = None) -> None:
    """Refuse, before the store is touched, steps that need the whole dataset, a missing Ray and an
    unreachable cluster."""
    for step in recipe.steps:
        if step.op.needs:
            raise EngineError(f"{recipe.path}: {step.label} needs {' and '.join(step.op.needs)} of the whole dataset, "
                              f"which the Ray engine does not gather; fix: run this recipe with --engine local")
    require_ray()
    if address:
        check_reachable(address)


def export_shards(workspace: Workspace, con: Any, dataset_id: int, recipe: str,
                  batch_rows: int) -> tempfile.TemporaryDirectory:
    """The current values a run of ``recipe`` reads, as Parquet shards of ``batch_rows`` rows."""
    return write_shards(workspace, store.current_value_batches(con, dataset_id, recipe, batch_rows), prefix="recipe")


@lru_cache(maxsize=8)
def _recipe(text: str, path: str, task: str | None) -> Recipe:
    return parse(text, path, task=task)


def apply_batch(batch: pa.Table, *, text: str, path: str, task: str | None, batch_rows: int) -> pa.Table:
    """One worker's batch: ``id`` + fields in, the wide outcome row per example out."""
    from curate.ops.steps import execute, frame_of

    recipe = _recipe(text, path, task)
    return columns.to_columns(execute(recipe, frame_of(batch), batch_rows=batch_rows), recipe)


def mapped(ray: Any, source: Any, recipe: Recipe, task: str | None, *, batch_rows: int,
           workers: int | None) -> Any:
    """``source`` (a Ray Dataset of ``id`` + fields) with the recipe applied batch by batch."""
    kwargs = {"text": Path(recipe.path).read_text(encoding="utf-8"), "path": recipe.path, "task": task,
              "batch_rows": batch_rows}
    return source.map_batches(apply_batch, fn_kwargs=kwargs, batch_format="pyarrow", batch_size=batch_rows,
                              concurrency=workers, num_cpus=1, runtime_env=ONE_CPU)


def compute(recipe: Recipe, folder: str, task: str, *, address: str | None = None, workers: int | None = None,
            batch_rows: int = 10_000, progress: Progress | None = None):
    """The ``Outcome`` of ``recipe`` over the shards in ``folder``, computed on Ray."""
    with cluster(address) as ray:
        if progress:
            progress("ray: map_batches over shards", 0, 0)

        def run() -> list[pa.Table]:
            out = mapped(ray, read_shards(ray, folder), recipe, task, batch_rows=batch_rows, workers=workers)
            return [pa.Table.from_batches([b]) if isinstance(b, pa.RecordBatch) else b
                    for b in out.iter_batches(batch_size=None, batch_format="pyarrow")]
        tables = worker_errors(ray, run)
    merged = pa.concat_tables(tables) if tables else columns.schema(recipe).empty_table()
    return columns.from_columns(merged, recipe)


def worker_errors(ray: Any, fn: Callable[[], Any]) -> Any:
    """Run ``fn``; a failed Ray task becomes the curate error it raised, else one line naming the failure."""
    from curate.errors import CurateError

    try:
        return fn()
    except ray.exceptions.RayError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, CurateError):
            raise cause from None
        what = f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}" if cause else \
            str(exc).splitlines()[0]
        raise EngineError(f"a Ray worker failed after Ray's retries ({what}); nothing was written to the store; "
                          f"fix: see the worker log under /tmp/ray/session_latest/logs") from None
