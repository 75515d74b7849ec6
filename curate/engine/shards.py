"""Parquet shards: how a dataset leaves the store for Ray workers, one file per ``batch_rows`` rows.

The shards live in a temporary folder under the workspace's ``artifacts/`` (removed when the run ends),
so a local Ray instance and the workers of a cluster that mounts the workspace can read them.
"""

from __future__ import annotations

import tempfile
from typing import Iterable

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
        schema = batches.schema if hasattr(batches, "schema") else pa.schema([])
        pq.write_table(schema.empty_table(), f"{folder.name}/part-00000.parquet")
    return folder
