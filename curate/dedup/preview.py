"""Preview for the threshold slider: verified pairs down to a low floor once, then the cluster sizes at
any higher threshold without touching the texts again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.dedup.clusters import components
from curate.dedup.pairs import find_pairs
from curate.dedup.params import DedupParams, make_params, resolve_params
from curate.store import catalog
from curate.store import dedup as store
from curate.store.workspace import Workspace

PREVIEW_FLOOR = {"exact": 1.0, "minhash": 0.5, "semantic": 0.7}


@dataclass
class PreviewGraph:
    n: int
    pairs: np.ndarray
    sims: np.ndarray
    floor: float
    params: DedupParams | None = None   # resolved: the shingles used and the default threshold for this data


def preview_graph(workspace: Workspace, dataset: str, *, method: str | None = None, fields: list[str] | None = None,
                  ngram: int | None = None, shingle: str | None = None, num_perm: int | None = None,
                  floor: float | None = None) -> PreviewGraph:
    """Verified pairs down to a low ``floor`` threshold, so any higher threshold's clusters follow
    without touching the texts again (``preview_sizes``); unset settings take ``DedupParams``' defaults."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        params = make_params(ds["task"], method=method, ngram=ngram, shingle=shingle, num_perm=num_perm,
                             fields=fields, dataset=dataset)
        table = store.doc_texts(con, ds["id"], ds["task"], list(params.fields))
    floor = PREVIEW_FLOOR[params.method] if floor is None else floor
    texts = table.column("text").combine_chunks()
    params = resolve_params(params, texts)   # the run's defaults for this data (shingles, threshold)
    graph = find_pairs(workspace, texts, params, threshold=min(floor, params.threshold))
    return PreviewGraph(table.num_rows, graph.pairs, graph.sims, min(floor, params.threshold), params)


def preview_sizes(graph: PreviewGraph, threshold: float) -> list[int]:
    """Cluster sizes (largest first) at ``threshold`` (≥ the graph's floor)."""
    keep = graph.sims >= threshold - 1e-9
    return [len(g) for g in components(graph.n, graph.pairs[keep])]


def revision(workspace: Workspace, dataset: str) -> tuple[int, int]:
    """Changes when the dataset's rows or edits change (a cache key for previews)."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        return store.revision(con, ds["id"])
