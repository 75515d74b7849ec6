"""The demo's dedup runs."""

from __future__ import annotations

from curate.dedup.run import run_dedup
from curate.store import catalog
from curate.store import dedup as store
from curate.store.workspace import Workspace


def dedup_demo(workspace: Workspace, datasets: list[str]) -> None:
    """MinHash dedup of the demo's datasets that have never been deduped (re-running adds nothing)."""
    for name in datasets:
        with workspace.connect() as con:
            ds = catalog.find_dataset(con, name)
            done = ds is not None and store.latest_run(con, ds["id"]) is not None
        if ds is not None and not done:
            run_dedup(workspace, name, method="minhash")
