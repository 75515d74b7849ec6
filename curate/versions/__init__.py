"""Versions: immutable snapshots of a dataset with leak-free splits, pinned eval sets, diffs and exports.

A version is named ``DATASET:NAME`` everywhere (``sst2:v3``). Pure logic over the store
(``curate.store.versions`` holds the SQL); no streamlit, no typer. Results are typed
(``curate.versions.model``: ``Version``, ``VersionDetail``, ``Counters``, ``EvalSet``, ``VersionDiff``,
``Export``, ``Leak``).
"""

from curate.versions.core import (DEFAULT_RATIOS, ROW_KEYS, check_leaks, eval_rows, get_version, issue_kinds,
                                  list_eval_sets, list_versions, load_rows, pin_eval_set)
from curate.versions.create import create_version
from curate.versions.diff import diff
from curate.versions.export import FORMATS, export_version, neutralise
from curate.versions.inputs import LABEL_RULES
from curate.versions.model import (Counters, DiffRow, EvalSet, Export, Leak, Splits, Version, VersionDetail,
                                   VersionDiff)
from curate.versions.neardup import NearDup
from curate.versions.refs import SPLITS, make_ref, parse_ref

__all__ = ["DEFAULT_RATIOS", "FORMATS", "LABEL_RULES", "ROW_KEYS", "SPLITS", "Counters", "DiffRow", "EvalSet",
           "Export", "Leak", "NearDup", "Splits", "Version", "VersionDetail", "VersionDiff", "check_leaks",
           "create_version", "diff", "eval_rows", "export_version", "get_version", "issue_kinds", "list_eval_sets",
           "list_versions", "load_rows", "make_ref", "neutralise", "parse_ref", "pin_eval_set"]
