"""Deduplication: exact (normalised hash), near (MinHash LSH verified by true Jaccard) and semantic
(MiniLM cosine kNN), with clusters people decide and decisions re-applied on every run.

Pure logic lives in ``shingles``, ``minhash``, ``semantic`` and ``clusters``; ``run`` ties them to the
store (``curate/store/dedup.py``).
"""

from curate.dedup.params import DEFAULT_FIELDS, DEFAULT_THRESHOLD, METHODS, DedupError, DedupParams, make_params
from curate.dedup.run import (DedupReport, PreviewGraph, cluster_detail, clusters, decide, dedup_demo, export, find_pairs,
                              preview_graph, preview_sizes, report, revision, run_dedup, summary)

__all__ = ["DEFAULT_FIELDS", "DEFAULT_THRESHOLD", "METHODS", "DedupError", "DedupParams", "DedupReport",
           "PreviewGraph", "cluster_detail", "clusters", "decide", "dedup_demo", "export", "find_pairs", "make_params",
           "preview_graph", "preview_sizes", "report", "revision", "run_dedup", "summary"]
