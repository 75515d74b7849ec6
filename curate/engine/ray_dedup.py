"""Exact and MinHash dedup on Ray, the same algorithm as ``curate.dedup.pairs.find_pairs``:

1. Ray Data ``map_batches`` normalises, shingles (``curate.dedup.shingles.shingles``), signs
   (``minhash.signatures``) and bands (``minhash.band_keys``) each batch, once, materialised; exact
   dedup keys each row by the MD5 of its normalised text instead;
2. plain Ray tasks over the signed blocks' object refs (``ray_pairs``): the (band, key, id) rows are
   shuffled by key, every bucket of two or more documents gives star edges (smallest id, other), each
   candidate pair is verified once by the true Jaccard of its two shingle sets (``minhash.verify``),
   which are looked up in the signed blocks by id range: no shuffle moves a set column;
3. connected components by min-label propagation in rounds of tasks (``ray_components``).

Same signatures, same band keys and the same verification over the same shingle sets give the same
verified pairs as the local engine, hence the same clusters.

Measured 2026-12-02 with ``python -P bench/ray_engine.py --rows 200000 --stages dedup`` on the shared
2-core machine (load average 15-19): the stages after signing took 58 s with two Ray Data hash shuffles
of the union of the pairs and all shingle sets (LSH buckets 45.2 s, verification 12.8 s), 4.5 s as tasks
here; Ray 1 worker 2,635 -> 13,694 rows/s, the same 14,318 clusters as the local engine.
At load 0.8-3 the same bench: after signing 16.6 s (1 worker) / 26.9 s (2 workers) before, 2.4 / 1.6 s
here; Ray 1 worker 8,100 -> 23,188 rows/s, 2 workers 5,752 -> 31,318 rows/s.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup import minhash
from curate.dedup.params import DedupParams, TextStats, text_stats
from curate.dedup.shingles import normalize, shingles
from curate.engine.cluster import cluster
from curate.engine import ray_pairs
from curate.engine.ray_components import components
from curate.engine.ray_recipe import worker_errors
from curate.engine.shards import read_shards, write_shards
from curate.store import dedup as store
from curate.store.dedup import text_digests

Progress = Callable[[str, int, int], None]
PART_ROWS = 250_000   # documents per bucket partition (16 bands: ~64 MB of bucket rows per task)


def export_shards(workspace: Any, con: Any, dataset_id: int, task: str, fields: list[str],
                  batch_rows: int = 10_000) -> Any:
    """The compared text of every example (``id, text``) as Parquet shards of ``batch_rows`` rows."""
    return write_shards(workspace, store.doc_text_batches(con, dataset_id, task, fields, batch_rows), prefix="dedup")


def stats(folder: str) -> TextStats:
    """``TextStats`` of the compared text of every shard in ``folder``, for ``params.resolve_params``'s
    auto shingles: read one shard at a time, so the driver never holds the dataset's text."""
    import pyarrow.parquet as pq
    from pathlib import Path

    total = TextStats()
    for part in sorted(Path(folder).glob("part-*.parquet")):
        total = total + text_stats(pq.read_table(part, columns=["text"]).column("text"))
    return total


def _sign(batch: pa.Table, *, params: dict, bands: int, rows: int) -> pa.Table:
    """``id, nonempty, valid, keys, sh``: band keys and shingle set of every row (exact: ``id, nonempty,
    valid, lo, hi``, the MD5 of the normalised text)."""
    norm = normalize(batch.column("text").combine_chunks(), threads=1)
    nonempty = pc.greater(pc.utf8_length(norm), 0)
    if params["method"] == "exact":
        lo, hi = text_digests(norm)
        return pa.table({"id": batch.column("id"), "nonempty": nonempty, "valid": nonempty, "lo": lo, "hi": hi})
    sh = shingles(norm, ngram=params["ngram"], kind=params["shingle"], threads=1)
    keys = minhash.band_keys(minhash.signatures(sh, params["num_perm"], threads=1), bands, rows)
    valid = nonempty.to_numpy(zero_copy_only=False) & (sh.counts() > 0)
    keys[~valid] = 0
    key_list = pa.ListArray.from_arrays(pa.array(np.arange(0, keys.size + 1, bands), pa.int32()),
                                        pa.array(keys.ravel(), pa.uint64()))
    return pa.table({"id": batch.column("id"), "nonempty": nonempty, "valid": pa.array(valid),
                     "keys": key_list, "sh": pa.ListArray.from_arrays(pa.array(sh.offsets, pa.int32()),
                                                                      pa.array(sh.hashes, pa.uint64()))})


def find(folder: str, params: DedupParams, *, address: str | None = None, workers: int | None = None,
         batch_rows: int = 10_000, progress: Progress | None = None) -> dict[str, Any]:
    """Clusters (lists of example ids, largest first) and the pair counters of a dedup on Ray."""
    with cluster(address) as ray:
        return worker_errors(ray, lambda: find_in(ray, read_shards(ray, folder), params, workers=workers,
                                                  batch_rows=batch_rows, progress=progress))


def find_in(ray: Any, docs: Any, params: DedupParams, *, workers: int | None = None, batch_rows: int = 10_000,
            progress: Progress | None = None) -> dict[str, Any]:
    """``find`` over a Ray Dataset of ``id, text`` rows."""
    say = progress or (lambda *a: None)
    bands, rows = minhash.lsh_params(params.cut, params.num_perm, *minhash.RECALL_WEIGHTS)
    kwargs = {"params": params.model_dump(mode="json"), "bands": bands, "rows": rows}
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    limit = max(1, workers or cpus)
    say("ray: normalising, shingling, signing", 0, 0)
    signed = docs.map_batches(_sign, fn_kwargs=kwargs, batch_format="pyarrow", batch_size=batch_rows,
                              concurrency=workers, num_cpus=1).materialize()
    # partitions: one per worker, more when one would hold the buckets of over PART_ROWS documents
    parts = max(limit, -(-signed.count() // PART_ROWS))
    say("ray: exact keys" if params.method == "exact" else "ray: LSH buckets and verification", 0, 0)
    found = ray_pairs.edges(ray, signed.to_arrow_refs(), params, parts=parts, limit=limit)
    say("ray: connected components", 0, 0)
    groups = components(ray, found.pop("edges"), parts=limit)
    return {"groups": groups, **found}
