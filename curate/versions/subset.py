"""A version made of a subset of another version's rows (a selection), through the same store path.

The rows are copied as they are in the source version (fields, final label, split, group), so the
source's leak-free split assignment and decontamination still hold for every subset of it; only
training rows are chosen, validation and test rows are kept whole so scores stay comparable. Rows
left out are recorded in ``version_dropped`` with the reason the caller gives (e.g. ``not_selected``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

import pyarrow as pa
import pyarrow.compute as pc

from curate.errors import InputError
from curate.store import versions as store
from curate.store.workspace import Workspace
from curate.versions.model import Version, VersionDetail
from curate.versions.refs import SPLITS, check_name, make_ref


def create_subset(workspace: Workspace, source: Version, rows: pa.Table, name: str, *,
                  keep_train: list[int], dropped: dict[int, tuple[str, str]], params: dict[str, Any],
                  counters: dict[str, Any], note: str | None = None,
                  also: Callable[[Any, int], object] | None = None) -> VersionDetail:
    """Write version ``name`` holding ``rows``' validation/test rows and the train rows ``keep_train``
    (example ids); ``dropped``: example id → (reason, detail). ``also(con, version_id)`` runs in the
    same transaction (to record why rows were picked). Returns the new version (``get_version``)."""
    from curate.versions.core import get_version

    check_name(name)
    split = rows.column("split")
    is_train = pc.equal(split, "train")
    keep = pc.or_(pc.invert(is_train), pc.is_in(rows.column("example_id"), pa.array(keep_train, pa.int64())))
    chosen = rows.filter(keep).select(list(store.ROW_COLUMNS))
    ids = sorted(dropped)
    lost = pa.table({"example_id": pa.array(ids, pa.int64()),
                     "reason": pa.array([dropped[i][0] for i in ids], pa.string()),
                     "detail": pa.array([dropped[i][1] for i in ids], pa.string())})
    per_label: dict[str, dict[str, int]] = {s: {} for s in SPLITS}
    for s, lab in zip(chosen.column("split").to_pylist(), chosen.column("label").to_pylist()):
        per_label[s][str(lab)] = per_label[s].get(str(lab), 0) + 1
    splits = Counter(chosen.column("split").to_pylist())
    reasons = Counter(dropped[i][0] for i in ids)
    # A subset of a leak-free, decontaminated version stays so: its split and group counters carry over.
    inherited = {k: v for k, v in source.counters.to_json().items() if not k.startswith("dropped_")}
    counters = {**inherited, "total": rows.num_rows, "kept": chosen.num_rows,
                **{f"dropped_{r}": c for r, c in sorted(reasons.items())},
                "splits": {s: splits.get(s, 0) for s in SPLITS}, "labels": per_label, **counters}
    params = {**source.params, **params}
    with workspace.transaction() as con:
        if store.find_version(con, source.dataset_id, name):
            raise InputError("--name", f"{make_ref(source.dataset, name)} exists already and versions never change",
                             fix="choose a new name")
        version_id = store.insert_version(con, dataset_id=source.dataset_id, name=name, parent_id=source.id,
                                          note=note, task=source.task, params=params,
                                          source_runs=source.source_runs, counters=counters, rows=chosen,
                                          dropped=lost)
        if also:
            also(con, version_id)
    return get_version(workspace, make_ref(source.dataset, name))
