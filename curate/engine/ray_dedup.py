"""Exact and MinHash dedup on Ray Data, the same algorithm as ``curate.dedup.pairs.find_pairs``:

1. ``map_batches``: normalise, shingle (``curate.dedup.shingles.shingles``), sign
   (``minhash.signatures``) and band (``minhash.band_keys``) each batch; exact dedup keys rows by their
   normalised text instead;
2. ``groupby(band, key)``: every bucket of two or more documents gives star edges (smallest id, other);
3. ``groupby(a)`` over the edges and the shingle sets: each candidate pair is counted once and gets
   the set of ``a``; ``groupby(b)`` gives it the set of ``b`` and ``minhash.verify`` keeps the pairs
   whose true Jaccard reaches the threshold;
4. connected components by min-label propagation across actors (``ray_components``).

Same signatures, same band keys and the same verification over the same shingle sets give the same
verified pairs as the local engine, hence the same clusters.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup import minhash
from curate.dedup.params import DedupParams, TextStats, text_stats
from curate.dedup.shingles import Shingles, normalize, shingles
from curate.engine.cluster import cluster
from curate.engine.ray_components import components
from curate.engine.ray_recipe import worker_errors
from curate.engine.shards import read_shards, write_shards
from curate.store import dedup as store

Progress = Callable[[str, int, int], None]
SETS = pa.list_(pa.uint64())


def export_shards(workspace: Any, con: Any, dataset_id: int, task: str, fields: list[str],
                  batch_rows: int = 10_000) -> Any:
    """The compared text of every example (``id, text``) as Parquet shards of ``batch_rows`` rows."""
    return write_shards(workspace, store.doc_text_batches(con, dataset_id, task, fields, batch_rows), prefix="dedup")


EDGES = pa.schema([("a", pa.int64()), ("b", pa.int64()), ("sim", pa.float64())])


def _keyed_schema(carry: list[str]) -> pa.Schema:
    return pa.schema([("key", pa.int64()), ("is_set", pa.bool_()), ("set", SETS),
                      *[(c, SETS if c.startswith("sh") else pa.int64()) for c in carry]])


def _or_empty(schema: pa.Schema, fn: Callable) -> Callable:
    """``fn``, except that an empty block (Ray passes them on with the upstream schema, not the
    columns ``fn`` reads) gives an empty table of ``schema``."""
    def safe(block: pa.Table, **kwargs: Any) -> pa.Table:
        return schema.empty_table() if block.num_rows == 0 else fn(block, **kwargs)
    return safe


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
    """``id, nonempty, keys, sh``: band keys and shingle set of every row (exact: the normalised text)."""
    norm = normalize(batch.column("text").combine_chunks())
    nonempty = pc.greater(pc.utf8_length(norm), 0)
    if params["method"] == "exact":
        return pa.table({"id": batch.column("id"), "nonempty": nonempty, "norm": norm})
    sh = shingles(norm, ngram=params["ngram"], kind=params["shingle"], threads=1)
    keys = minhash.band_keys(minhash.signatures(sh, params["num_perm"], threads=1), bands, rows)
    valid = nonempty.to_numpy(zero_copy_only=False) & (sh.counts() > 0)
    keys[~valid] = 0
    key_list = pa.ListArray.from_arrays(pa.array(np.arange(0, keys.size + 1, bands), pa.int32()),
                                        pa.array(keys.ravel(), pa.uint64()))
    return pa.table({"id": batch.column("id"), "nonempty": nonempty, "valid": pa.array(valid),
                     "keys": key_list, "sh": pa.ListArray.from_arrays(pa.array(sh.offsets, pa.int32()),
                                                                      pa.array(sh.hashes, pa.uint64()))})


def _bucket_rows(batch: pa.Table) -> pa.Table:
    """One row per (band, key, id) of the documents that can be candidates."""
    batch = batch.filter(batch.column("valid"))
    keys = batch.column("keys").combine_chunks()
    bands = len(keys[0]) if len(keys) else 0
    return pa.table({"band": pa.array(np.tile(np.arange(bands, dtype=np.int32), len(keys))),
                     "key": keys.flatten(), "id": pa.array(np.repeat(batch.column("id").to_numpy(), bands))})


def _first_of_runs(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(order, first)``: rows sorted by ``keys`` (last key sorts first, as ``np.lexsort``) and, per
    sorted row, the position of the first row of its run of equal keys."""
    order = np.lexsort(keys)
    new = np.ones(len(order), bool)
    for k in keys[1:]:
        ks = k[order]
        new[1:] &= ks[1:] == ks[:-1]
    new[1:] = ~new[1:]
    return order, np.flatnonzero(new)[np.cumsum(new) - 1]


def _star(block: pa.Table, *, by: list[str]) -> pa.Table:
    """Edges (smallest id, other) of every bucket in a block (rows sharing the ``by`` columns)."""
    cols = [pc.dictionary_encode(block.column(c)).combine_chunks().indices.to_numpy()
            if pa.types.is_string(block.schema.field(c).type) or pa.types.is_large_string(block.schema.field(c).type)
            else block.column(c).to_numpy() for c in by]
    ids = block.column("id").to_numpy()
    order, first = _first_of_runs(ids, *reversed(cols))
    a, b = ids[order][first], ids[order]
    keep = a != b
    return pa.table({"a": pa.array(a[keep], pa.int64()), "b": pa.array(b[keep], pa.int64()),
                     "sim": pa.array(np.ones(int(keep.sum())))})   # exact: a bucket is one text


def _keyed(batch: pa.Table, *, key: str, sets: bool, carry: list[str]) -> pa.Table:
    """Rows of a keyed union: pair rows (``key`` column, carried columns) or set rows (``id``, ``sh``)."""
    n = batch.num_rows
    if sets:
        cols = {"key": batch.column("id"), "is_set": pa.array(np.ones(n, bool)), "set": batch.column("sh")}
        cols.update({c: pa.nulls(n, SETS if c.startswith("sh") else pa.int64()) for c in carry})
    else:
        cols = {"key": batch.column(key), "is_set": pa.array(np.zeros(n, bool)), "set": pa.nulls(n, SETS)}
        cols.update({c: batch.column(c) for c in carry})
    return pa.table(cols)


def _split_block(block: pa.Table) -> tuple[pa.Table, pa.Table, np.ndarray]:
    """A keyed block's pair rows, its set rows sorted by key, and per pair row the index of its key's set."""
    is_set = block.column("is_set").to_numpy(zero_copy_only=False)
    pairs, sets = block.filter(pa.array(~is_set)), block.filter(pa.array(is_set)).sort_by("key")
    where = np.searchsorted(sets.column("key").to_numpy(), pairs.column("key").to_numpy())
    return pairs, sets, where


def _attach_a(block: pa.Table) -> pa.Table:
    """Each candidate pair once, with the shingle set of ``a``."""
    pairs, sets, where = _split_block(block)
    a, b = pairs.column("key").to_numpy(), pairs.column("b").to_numpy()
    code = np.unique(np.stack([a, b], axis=1), axis=0, return_index=True)[1] if len(a) else np.zeros(0, np.int64)
    return pa.table({"a": pa.array(a[code], pa.int64()), "b": pa.array(b[code], pa.int64()),
                     "sh_a": sets.column("set").take(pa.array(where[code], pa.int64()))})


def _attach_b_verify(block: pa.Table, *, threshold: float) -> pa.Table:
    """The candidate pairs verified by the true Jaccard of their two shingle sets (``minhash.verify``)."""
    pairs, sets, where = _split_block(block)
    m = pairs.num_rows
    set_a = pairs.column("sh_a").combine_chunks()
    set_b = sets.column("set").take(pa.array(where, pa.int64())).combine_chunks() if m else set_a
    off_a, off_b = set_a.offsets.to_numpy().astype(np.int64), set_b.offsets.to_numpy().astype(np.int64)
    ha, hb = set_a.values.to_numpy()[off_a[0]:off_a[-1]], set_b.values.to_numpy()[off_b[0]:off_b[-1]]
    sh = Shingles(np.concatenate([ha, hb]).astype(np.uint64),
                  np.concatenate([off_a - off_a[0], off_b[1:] - off_b[0] + len(ha)]))
    kept, sims = minhash.verify(sh, np.stack([np.arange(m), np.arange(m, 2 * m)], axis=1), threshold)
    rows = kept[:, 0]
    return pa.table({"a": pa.array(pairs.column("a").to_numpy()[rows], pa.int64()),
                     "b": pa.array(pairs.column("key").to_numpy()[rows], pa.int64()),
                     "sim": pa.array(sims, pa.float64())})


def _where(ds: Any, column: str) -> Any:
    """The rows of ``ds`` whose boolean ``column`` is true."""
    return ds.map_batches(lambda b: b.filter(b.column(column)) if b.num_rows else b, batch_format="pyarrow")


def _by_key(ds: Any, keys: list[str], blocks: int, fn: Callable, **kwargs: Any) -> Any:
    """``fn`` over whole blocks of ``ds`` hash-partitioned by ``keys`` (equal keys share a block)."""
    return ds.repartition(blocks, keys=keys).map_batches(fn, fn_kwargs=kwargs, batch_size=None,
                                                        batch_format="pyarrow")


_STAR = _or_empty(EDGES, _star)
_ATTACH_A = _or_empty(pa.schema([("a", pa.int64()), ("b", pa.int64()), ("sh_a", SETS)]), _attach_a)
_VERIFY = _or_empty(EDGES, _attach_b_verify)


def _joined(signed: Any, pairs: Any, *, key: str, carry: list[str], blocks: int, fn: Callable, **kwargs: Any) -> Any:
    """``fn`` over ``pairs`` and the shingle sets keyed by ``key`` / ``id``: a join as one shuffle."""
    keyed = _or_empty(_keyed_schema(carry), _keyed)
    left = pairs.map_batches(keyed, fn_kwargs={"key": key, "sets": False, "carry": carry}, batch_format="pyarrow")
    right = _where(signed, "valid").map_batches(keyed, fn_kwargs={"key": key, "sets": True, "carry": carry},
                                                batch_format="pyarrow")
    return _by_key(left.union(right), ["key"], blocks, fn, **kwargs)


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
    bands, rows = minhash.lsh_params(params.threshold, params.num_perm, *minhash.RECALL_WEIGHTS)
    kwargs = {"params": params.model_dump(mode="json"), "bands": bands, "rows": rows}
    parts = max(1, workers or int(ray.cluster_resources().get("CPU", 1)))
    say("ray: normalising, shingling, signing", 0, 0)
    signed = docs.map_batches(_sign, fn_kwargs=kwargs, batch_format="pyarrow", batch_size=batch_rows,
                              concurrency=workers, num_cpus=1).materialize()
    compared = _where(signed, "nonempty").count()
    blocks = max(parts, -(-signed.count() // batch_rows))
    if params.method == "exact":
        edges = _by_key(_where(signed, "nonempty"), ["norm"], blocks, _STAR, by=["norm"]).materialize()
        candidates = edges.count()
    else:
        say("ray: LSH buckets", 0, 0)
        buckets = signed.map_batches(_or_empty(pa.schema([("band", pa.int32()), ("key", pa.uint64()),
                                                          ("id", pa.int64())]), _bucket_rows), batch_format="pyarrow")
        star = _by_key(buckets, ["band", "key"], blocks, _STAR, by=["band", "key"])
        with_a = _joined(signed, star, key="a", carry=["b"], blocks=blocks, fn=_ATTACH_A).materialize()
        candidates = with_a.count()
        say("ray: verifying candidates", 0, candidates)
        edges = _joined(signed, with_a, key="b", carry=["a", "sh_a"], blocks=blocks, fn=_VERIFY,
                        threshold=params.threshold).materialize()
    say("ray: connected components", 0, 0)
    groups = components(ray, edges, parts=parts)
    return {"groups": groups, "total": signed.count(), "compared": compared, "candidates": int(candidates),
            "verified": int(edges.count())}
