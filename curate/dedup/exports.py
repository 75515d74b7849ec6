"""Export of the latest dedup run: one JSON line per example with its cluster and canonical id."""

from __future__ import annotations

import json
from pathlib import Path

from curate.dedup.params import DedupError
from curate.dedup.results import dataset_and_run
from curate.store import dedup as store
from curate.store.workspace import Workspace


def export(workspace: Workspace, dataset: str, out: str | Path) -> int:
    """Write one JSON line per example: ``id`` (the record's own ``id``, else its source row number),
    ``cluster`` (null when none) and ``canonical`` (the id it is kept in favour of; itself if kept)."""
    with workspace.connect() as con:
        ds, run = dataset_and_run(con, dataset)
        table = store.export_rows(con, ds["id"], run["id"])
    path = Path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            for pid, cl, canon in zip(*(table.column(c).to_pylist() for c in ("id", "cluster", "canonical"))):
                fh.write(json.dumps({"id": json.loads(pid), "cluster": cl, "canonical": json.loads(canon)},
                                    ensure_ascii=False) + "\n")
    except OSError as exc:
        raise DedupError(f"{path}: cannot write the export ({exc.strerror}); fix: choose a writable --out path") from None
    return table.num_rows
