"""Corpus-mode dedup: exact or MinHash dedup of Parquet files that never enter a workspace store.

    curate dedup --input 'corpus/*.parquet' --output deduped/ --engine ray [--method exact]

Each row group of each file is read by one Ray task (row ids ``file number << 32 | row``), so a
worker holds one row group; the compared text is built as a workspace dedup builds it (the chosen fields' values joined by newlines; chat roles from ``messages``),
clusters found by ``ray_dedup.find_in`` (the engine's distributed stages), and every row written back
by the workers under ``OUTPUT/data/`` with ``dup_cluster`` (1 = largest), ``is_dup`` (every member but
the first row of its cluster) and ``duplicate_of`` (``file.parquet#row`` of that first row), plus
``OUTPUT/report.json`` with the counters. Auto shingles are resolved from per-block counts
(``params.TextStats``), so no process gathers the corpus's text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.dedup.params import (DedupError, TextStats, make_params, reads_texts, resolve_params,
                                 text_stats)
from curate.engine.cluster import EngineError, cluster
from curate.engine.corpus import DATA, REPORT, _field, infer_task, input_files
from curate.engine.ray_dedup import find_in
from curate.engine.ray_recipe import worker_errors
from curate.ops.text import contents


def _compared(table: pa.Table, task: str, fields: list[str]) -> pa.Array:
    parts = []
    for f in fields:
        if task == "chat":
            role = None if f == "messages" else f
            parts.append(["\n".join(str(t.get("content") or "") for t in contents(m) if role in (None, t.get("role")))
                          for m in _field(table, "messages")])
        else:
            parts.append(_field(table, f))
    return pa.array(["\n".join(v for v in row if v) for row in zip(*parts)], pa.string())


def _row_groups(path: str) -> list[tuple[int, int]]:
    """``(row group, its first row)`` of a Parquet file, from its footer."""
    meta = pq.ParquetFile(path).metadata
    starts = np.cumsum([0] + [meta.row_group(g).num_rows for g in range(meta.num_row_groups)])
    return [(g, int(starts[g])) for g in range(meta.num_row_groups)] or [(-1, 0)]


def _read(path: str, number: int, group: int, first: int, task: str, fields: list[str]) -> pa.Table:
    """One row group of file ``number`` (-1: a file without row groups) with ``_id`` (file number << 32 |
    row) and ``_text`` (the compared text)."""
    source = pq.ParquetFile(path)
    table = source.read_row_group(group) if group >= 0 else source.schema_arrow.empty_table()
    ids = (np.int64(number) << np.int64(32)) + first + np.arange(table.num_rows, dtype=np.int64)
    return table.append_column("_id", pa.array(ids)).append_column("_text", _compared(table, task, fields))


def _mark(batch: pa.Table, *, marks: pa.Table, names: list[str]) -> pa.Table:
    ids = batch.column("_id").to_numpy()
    known = marks.column("id").to_numpy()
    pos = np.clip(np.searchsorted(known, ids), 0, max(len(known) - 1, 0))
    hit = (known[pos] == ids) if len(known) else np.zeros(len(ids), bool)
    cluster_no = np.where(hit, marks.column("cluster").to_numpy()[pos] if len(known) else 0, 0)
    first = marks.column("first").to_numpy()[pos] if len(known) else ids
    is_dup = hit & (first != ids)
    of = [f"{names[int(f) >> 32]}#{int(f) & 0xFFFFFFFF}" if d else None for f, d in zip(first, is_dup)]
    return (batch.drop_columns(["_id", "_text"])
            .append_column("dup_cluster", pa.array(cluster_no, pa.int64(), mask=~hit))
            .append_column("is_dup", pa.array(is_dup)).append_column("duplicate_of", pa.array(of, pa.string())))


def _marks(groups: list[list[int]]) -> pa.Table:
    ids = [m for g in groups for m in g]
    cluster_no = [k for k, g in enumerate(groups, 1) for _ in g]
    first = [g[0] for g in groups for _ in g]
    return pa.table({"id": pa.array(ids, pa.int64()), "cluster": pa.array(cluster_no, pa.int64()),
                     "first": pa.array(first, pa.int64())}).sort_by("id")


def dedup_corpus(pattern: str, output: str | Path, *, method: str | None = None, threshold: float | None = None,
                 ngram: int | None = None, shingle: str | None = None, num_perm: int | None = None,
                 fields: list[str] | str | None = None, threads: int | None = None,
                 address: str | None = None, workers: int | None = None, batch_rows: int = 10_000) -> dict[str, Any]:
    """Dedup Parquet files into ``output`` (data/ + report.json); returns the report."""
    files = input_files(pattern)
    task = infer_task(pq.read_schema(files[0]), files[0])
    params = make_params(task, method=method, threshold=threshold, ngram=ngram, shingle=shingle, num_perm=num_perm,
                         fields=fields, threads=threads, dataset=pattern)
    if params.method == "semantic":
        raise DedupError(f"dedup {pattern}: corpus mode runs exact and minhash dedup; fix: --method minhash")
    out = Path(output)
    if out.exists() and any(out.iterdir()):
        raise EngineError(f"{out}: the output folder is not empty; fix: pass a new --output folder")
    names = [Path(f).name for f in files]
    with cluster(address) as ray:
        def run() -> dict[str, Any]:
            read = ray.remote(_read)
            docs = ray.data.from_arrow_refs([read.remote(f, i, group, first, task, list(params.fields))
                                             for i, f in enumerate(files) for group, first in _row_groups(f)])
            docs = docs.materialize()
            compared = docs.select_columns(["_id", "_text"]).rename_columns({"_id": "id", "_text": "text"})
            measure = ray.remote(lambda block: text_stats(block.column("text")))
            stats = sum(ray.get([measure.remote(ref) for ref in compared.to_arrow_refs()]), TextStats()) \
                if reads_texts(params) else TextStats()
            resolved = resolve_params(params, stats)   # auto shingles, from per-block counts
            found = find_in(ray, compared, resolved, workers=workers, batch_rows=batch_rows)
            found["params"] = resolved.model_dump(mode="json")
            docs.map_batches(_mark, fn_kwargs={"marks": _marks(found["groups"]), "names": names},
                             batch_format="pyarrow").write_parquet(str(out / DATA))
            return found
        found = worker_errors(ray, run)
    groups = found.pop("groups")
    in_clusters = sum(len(g) for g in groups)
    report = {"kind": "dedup", "input": pattern, "output": str(out / DATA), "engine": "ray",
              "params": found.pop("params"),
              "counters": {**found, "clusters": len(groups), "in_clusters": in_clusters,
                           "dropped_is_dup": in_clusters - len(groups), "kept": found["total"] - in_clusters + len(groups)},
              "sizes": [len(g) for g in groups[:20]]}
    out.mkdir(parents=True, exist_ok=True)
    (out / REPORT).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return report
