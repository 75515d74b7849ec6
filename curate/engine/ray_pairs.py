"""Candidate pairs and their verification on Ray by plain tasks over the signed blocks' object refs:
the shingle sets never leave the object store through a shuffle; only (band, key, id) rows and pairs do.

Per signed block (``ray_dedup._sign``), one ``_split`` task cuts its bucket rows ``(band, key, id)``
into ``P`` parts by ``key % P`` (the key is already a hash) and reports the block's metadata (rows,
compared, valid, smallest and largest id). ``P`` ``_star`` tasks each take their part of every block
and emit the star edges (smallest id, other) of every (band, key) bucket of two or more documents.

Verification routes pairs by id *range*: the driver cuts the blocks, sorted by their smallest id, into
``G <= P`` groups of about equal valid rows; group ``g`` owns the ids in ``[bounds[g], bounds[g + 1])``
and reads the signed blocks whose id range meets it (each block once when blocks hold disjoint id
ranges, as shards exported in id order and corpus row groups do; overlapping blocks stay correct, they
are only read by more groups). ``_star`` sends each edge to the group of ``a``; ``_attach`` (one per
group) drops repeated pairs (a pair found in several bands is verified once), looks the set of ``a``
up in its own blocks and sends ``(a, b, set of a)`` to the group of ``b``; ``_verify`` looks the set of
``b`` up and keeps the pairs whose true Jaccard (``minhash.verify``) reaches the threshold. The driver
holds only object refs and the per-block metadata: no ids, no sets.

Exact dedup keys each row by the 128-bit MD5 of its normalised text (``band`` = upper, ``key`` = lower
64 bits): its star edges need no verification (two texts share a digest with probability ~2^-128).

Every stage is throttled to ``limit`` tasks at a time, so ``workers=1`` uses one CPU as the local
engine's figures are compared at.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pyarrow as pa

from curate.dedup import minhash
from curate.dedup.shingles import Shingles

LOWEST = np.iinfo(np.int64).min
Rows = tuple[np.ndarray, ...]


def by_owner(columns: Rows, owner: np.ndarray, parts: int) -> list[Rows]:
    """``columns`` split into ``parts`` by ``owner`` (0..parts-1), each part in its input order (one sort,
    not a mask per part; ``ray_components`` splits its edges and offers with it too)."""
    order = np.argsort(owner, kind="stable")
    cuts = np.cumsum(np.bincount(owner, minlength=parts))[:-1]
    return [tuple(piece) for piece in zip(*[np.split(c[order], cuts) for c in columns])] if parts > 1 else \
        [columns]


def _split(block: pa.Table, parts: int, exact: bool) -> list[Any]:
    """``parts`` tuples ``(band, key, id)`` of the block's candidate rows by ``key % parts``, then the
    block's metadata."""
    n = block.num_rows
    if n == 0:   # an empty block may carry its upstream's columns
        return [*by_owner((np.zeros(0, np.uint64), np.zeros(0, np.uint64), np.zeros(0, np.int64)),
                        np.zeros(0, np.int64), parts), {"rows": 0, "compared": 0, "valid": 0, "lo": None, "hi": None}]
    valid = block.column("valid").to_numpy(zero_copy_only=False)
    ids = block.column("id").to_numpy()[valid]
    if exact:
        band, key = block.column("hi").to_numpy()[valid], block.column("lo").to_numpy()[valid]
    else:
        keys = block.column("keys").combine_chunks()
        width = len(keys[0])
        flat = keys.flatten().to_numpy().reshape(-1, width)[valid]
        band = np.tile(np.arange(width, dtype=np.uint64), len(flat))
        key, ids = flat.ravel(), np.repeat(ids, width)
    meta = {"rows": n, "compared": int(block.column("nonempty").to_numpy(zero_copy_only=False).sum()),
            "valid": int(valid.sum()), "lo": int(ids.min()) if len(ids) else None,
            "hi": int(ids.max()) if len(ids) else None}
    owner = (key % np.uint64(parts)).astype(np.int64)
    return [*by_owner((band.astype(np.uint64), key.astype(np.uint64), ids.astype(np.int64)), owner, parts), meta]


def _group(ids: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    return np.searchsorted(bounds, ids, side="right") - 1


def _star(*pieces: Rows, bounds: np.ndarray) -> list[Any]:
    """Star edges ``(a, b)`` of the buckets in ``pieces``, one table per group of ``a``, then their count."""
    band = np.concatenate([np.zeros(0, np.uint64), *[p[0] for p in pieces]])
    key = np.concatenate([np.zeros(0, np.uint64), *[p[1] for p in pieces]])
    ids = np.concatenate([np.zeros(0, np.int64), *[p[2] for p in pieces]])
    order = np.argsort(key)
    k, bd = key[order], band[order]
    same_key = k[1:] == k[:-1]
    if (same_key & (bd[1:] != bd[:-1])).any():   # one key in two bands: sort by band too
        order = np.lexsort((band, key))
        k, bd = key[order], band[order]
        same_key = k[1:] == k[:-1]
    new = np.ones(len(k), bool)
    new[1:] = ~(same_key & (bd[1:] == bd[:-1]))
    sid = ids[order]
    first = np.minimum.reduceat(sid, np.flatnonzero(new))[np.cumsum(new) - 1] if len(sid) else sid
    keep = first != sid
    a, b = first[keep], sid[keep]
    return [*[pa.table({"a": x, "b": y}) for x, y in by_owner((a, b), _group(a, bounds), len(bounds))], len(a)]


def _locate(blocks: Sequence[pa.Table], wanted: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """``(order, sets)``: the shingle sets of the ids ``wanted[order]`` (every one is in some block)."""
    ids = [b.column("id").to_numpy() for b in blocks]
    every = np.concatenate(ids) if ids else np.zeros(0, np.int64)
    which = np.repeat(np.arange(len(ids)), [len(i) for i in ids])
    row = np.concatenate([np.arange(len(i)) for i in ids]) if ids else np.zeros(0, np.int64)
    by_id = np.argsort(every)
    at = by_id[np.searchsorted(every[by_id], wanted)] if len(wanted) else np.zeros(0, np.int64)
    blk, row = which[at], row[at]
    order = np.argsort(blk, kind="stable")
    cuts = np.concatenate([[0], np.cumsum(np.bincount(blk, minlength=len(blocks)))])
    sets = [blocks[j].column("sh").combine_chunks().take(pa.array(row[order[cuts[j]:cuts[j + 1]]]))
            for j in range(len(blocks)) if cuts[j + 1] > cuts[j]]
    return order, (pa.concat_arrays(sets) if sets else pa.array([], pa.list_(pa.uint64())))


def _unique_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    keep = np.ones(len(a), bool)
    keep[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[keep], b[keep]


def _attach(*args: Any, pieces: int, bounds: np.ndarray) -> list[pa.Table]:
    """``args``: ``pieces`` edge tuples of this group's ``a`` then its signed blocks. Each pair once, with
    the set of ``a``, one table per group of ``b``."""
    edges, blocks = pa.concat_tables(args[:pieces]), args[pieces:]
    a, b = _unique_pairs(edges.column("a").to_numpy(), edges.column("b").to_numpy())
    order, sets = _locate(blocks, a)
    a, b = a[order], b[order]
    out = [pa.table({"a": x, "b": y, "sh_a": sets.take(pa.array(at))})
           for x, y, at in by_owner((a, b, np.arange(len(a))), _group(b, bounds), len(bounds))]
    return out if len(bounds) > 1 else out[0]


def _verify(*args: Any, pieces: int, threshold: float) -> list[Any]:
    """``args``: ``pieces`` tables ``(a, b, sh_a)`` of this group's ``b`` then its signed blocks. The pairs
    whose true Jaccard reaches ``threshold``, then how many were compared and kept."""
    pairs, blocks = pa.concat_tables(args[:pieces]), args[pieces:]
    order, set_b = _locate(blocks, pairs.column("b").to_numpy())
    pairs = pairs.take(pa.array(order))
    set_a, m = pairs.column("sh_a").combine_chunks(), pairs.num_rows
    off_a, off_b = set_a.offsets.to_numpy().astype(np.int64), set_b.offsets.to_numpy().astype(np.int64)
    ha, hb = set_a.values.to_numpy()[off_a[0]:off_a[-1]], set_b.values.to_numpy()[off_b[0]:off_b[-1]]
    sh = Shingles(np.concatenate([ha, hb]).astype(np.uint64),
                  np.concatenate([off_a - off_a[0], off_b[1:] - off_b[0] + len(ha)]))
    kept, sims = minhash.verify(sh, np.stack([np.arange(m), np.arange(m, 2 * m)], axis=1), threshold)
    rows = pa.array(kept[:, 0])
    return [pa.table({"a": pairs.column("a").take(rows), "b": pairs.column("b").take(rows),
                      "sim": pa.array(sims, pa.float64())}), (m, len(rows))]


def _launch(ray: Any, task: Any, calls: list[tuple[tuple, dict]], limit: int) -> list[list[Any]]:
    """Submit ``task`` once per ``(args, kwargs)``, at most ``limit`` running; the refs of each call."""
    out, running = [], []
    for args, kwargs in calls:
        if len(running) >= limit:
            _, running = ray.wait(running, num_returns=1, fetch_local=False)
        refs = task.remote(*args, **kwargs)
        refs = list(refs) if isinstance(refs, list) else [refs]
        out.append(refs)
        running.append(refs[-1])
    return out


def _bounds(metas: list[dict], groups: int) -> tuple[np.ndarray, list[list[int]]]:
    """Id bounds of up to ``groups`` groups of about equal valid rows, and the blocks each group reads."""
    held = sorted((m["lo"], m["hi"], m["valid"], j) for j, m in enumerate(metas) if m["valid"])
    total, starts, seen = sum(h[2] for h in held), [LOWEST], 0
    for lo, _, valid, _ in held:
        if seen >= len(starts) * total / groups and lo > starts[-1]:
            starts.append(lo)
        seen += valid
    bounds = np.array(starts, np.int64)
    upper = [*starts[1:], None]
    reads = [[j for lo, hi, _, j in held if hi >= start and (end is None or lo < end)]
             for start, end in zip(starts, upper)]
    return bounds, reads


def edges(ray: Any, blocks: list[Any], params: Any, *, parts: int, limit: int) -> dict[str, Any]:
    """Verified edges (refs of ``a, b[, sim]`` tables) of the signed ``blocks``, and the counters."""
    exact = params.method == "exact"
    split = ray.remote(_split).options(num_returns=parts + 1)
    pieces = _launch(ray, split, [((ref, parts, exact), {}) for ref in blocks], limit)
    metas = ray.get([p[-1] for p in pieces])
    bounds, reads = _bounds(metas, 1 if exact else parts)
    groups = len(bounds)
    star = ray.remote(_star).options(num_returns=groups + 1)
    stars = _launch(ray, star, [(tuple(p[k] for p in pieces), {"bounds": bounds}) for k in range(parts)], limit)
    counters = {"total": sum(m["rows"] for m in metas), "compared": sum(m["compared"] for m in metas)}
    if exact:   # a bucket is one text: its star edges are the duplicate pairs
        found = sum(ray.get([s[-1] for s in stars]))
        return {"edges": [s[0] for s in stars], **counters, "candidates": found, "verified": found}
    attach = ray.remote(_attach).options(num_returns=groups)
    attached = _launch(ray, attach, [((*[s[g] for s in stars], *[blocks[j] for j in reads[g]]),
                                      {"pieces": len(stars), "bounds": bounds}) for g in range(groups)], limit)
    verify = ray.remote(_verify).options(num_returns=2)
    verified = _launch(ray, verify, [((*[t[g] for t in attached], *[blocks[j] for j in reads[g]]),
                                      {"pieces": len(attached), "threshold": params.cut}) for g in range(groups)],
                       limit)
    counts = ray.get([v[1] for v in verified])
    return {"edges": [v[0] for v in verified], **counters, "candidates": sum(c[0] for c in counts),
            "verified": sum(c[1] for c in counts)}
