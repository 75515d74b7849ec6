"""Parquet shards: how a dataset leaves the store for Ray workers, one file per ``batch_rows`` rows.

The shards live in a temporary folder under the workspace's ``artifacts/`` (removed when the run ends),
so a local Ray instance and the workers of a cluster that mounts the workspace can read them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from curate.store.workspace import Workspace


def write_shards(workspace: Workspace, batches: Iterable[pa.RecordBatch], *, prefix: str) -> tempfile.TemporaryDirectory:
    """Write each batch as ``part-NNNNN.parquet`` in a new temporary folder; returns the folder."""
    workspace.artifacts.mkdir(parents=True, exist_ok=True)
    folder = tempfile.TemporaryDirectory(dir=workspace.artifacts, prefix=f"{prefix}-")
    n = 0
    for batch in batches:
        if batch.num_rows:
            pq.write_table(pa.Table.from_batches([batch]), f"{folder.name}/part-{n:05d}.parquet")
            n += 1
    if n == 0:   # an empty dataset: one empty shard keeps the schema for the readers
        schema = getattr(batches, "schema", None) or pa.schema([])   # a RecordBatchReader has one
        pq.write_table(schema.empty_table(), f"{folder.name}/part-00000.parquet")
    return folder


def read_shards(ray: Any, folder: str) -> Any:
    """The shards of ``folder`` as a Ray Dataset, one block per shard, each read by a Ray task.

    Measured here (3 shards of 1k rows, 2 shared cores): 0.1-0.3 s warm, against 5-14 s for
    ``ray.data.read_parquet`` of the same folder (its metadata and sampling tasks); corpus mode keeps
    ``read_parquet`` for its streaming over files of any size.
    """
    read = ray.remote(pq.read_table)
    return ray.data.from_arrow_refs([read.remote(str(p)) for p in sorted(Path(folder).glob("part-*.parquet"))])
