"""Data selection: which N rows of a version to label or train on, and proof against random subsets.

- ``preview(workspace, "sst2:v1", 1000, "mix,clean")``: what the strategies pick (nothing written);
- ``create(...)``: the pick as a new version (``purpose="train"``) or a labelling queue (``"label"``),
  with each row's rank and scores stored;
- ``compare_random(...)``: train the selection and K random subsets of the same size the same way
  and report by how much the selection wins on the eval score.

Strategies (``curate.select.strategies``) are pure functions over a ``Pool`` of arrays.
"""

from curate.select.core import PURPOSES, ClassCount, Preview, Selection, create, pool_map, preview, selection_of
from curate.select.pool import build_pool, load_source
from curate.select.strategies import STRATEGIES, Pool, parse_strategy, select

__all__ = ["PURPOSES", "STRATEGIES", "ClassCount", "Pool", "Preview", "Selection", "build_pool", "create", "load_source", "parse_strategy",
           "pool_map", "preview", "select", "selection_of"]
