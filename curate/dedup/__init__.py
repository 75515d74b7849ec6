"""Deduplication: exact (normalised hash), near (MinHash LSH verified by true Jaccard) and semantic
(MiniLM cosine kNN), with clusters people decide and decisions re-applied on every run.

Pure logic lives in ``shingles``, ``minhash``, ``semantic`` and ``clusters``; ``pairs`` finds a method's
duplicate pairs; the modules below tie them to the store (``curate/store/dedup.py``), one job each:
``run`` (a dedup run), ``results`` (reading runs and clusters), ``decisions`` (a person's decision),
``exports``, ``preview`` (the threshold slider) and ``demo``.
"""

from curate.dedup.decisions import decide
from curate.dedup.demo import dedup_demo
from curate.dedup.exports import export
from curate.dedup.pairs import find_pairs
from curate.dedup.params import DEFAULT_FIELDS, DEFAULT_THRESHOLD, METHODS, DedupError, DedupParams, make_params
from curate.dedup.preview import PreviewGraph, preview_graph, preview_sizes, revision
from curate.dedup.results import (Cluster, ClusterDetail, DedupCounters, DedupSummary, Member, MethodReport,
                                  cluster_detail, clusters, report, summary)
from curate.dedup.run import DedupReport, run_dedup

__all__ = ["DEFAULT_FIELDS", "DEFAULT_THRESHOLD", "METHODS", "Cluster", "ClusterDetail", "DedupCounters", "DedupError",
           "DedupParams", "DedupReport", "DedupSummary", "Member", "MethodReport",
           "PreviewGraph", "cluster_detail", "clusters", "decide", "dedup_demo", "export", "find_pairs", "make_params",
           "preview_graph", "preview_sizes", "report", "revision", "run_dedup", "summary"]
