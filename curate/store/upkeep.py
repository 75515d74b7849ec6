"""Keeping a store tidy after faults: runs left 'running' by a dead process, a store a refused first
ingest created."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from curate.store import catalog, gate

if TYPE_CHECKING:
    from curate.store.workspace import Workspace


def mark_stale_runs(con: duckdb.DuckDBPyConnection) -> None:
    """On a process's first opening of a store: runs left 'running' by a dead process become 'interrupted'."""
    if catalog.stale_runs(con):
        try:
            con.execute("BEGIN TRANSACTION")
            catalog.mark_interrupted(con)
            con.execute("COMMIT")
        except duckdb.Error:  # a concurrent writer or a read-only store: the next run marks them
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass


def discard_if_empty(ws: Workspace, created_root: bool) -> bool:
    """Remove a store that a failed first write just created (no datasets in it), so a refused ingest
    into a new folder leaves nothing behind; ``created_root``: the folder was new too. True if removed."""
    if not ws.db_path.exists():
        return False
    try:
        with ws.connect() as con:
            if con.execute("SELECT count(*) FROM datasets").fetchall()[0][0]:
                return False
    except duckdb.Error:
        return False
    for path in (ws.db_path, ws.db_path.with_name(ws.db_path.name + ".wal"), *(ws.root / f for f in gate.FILES)):
        path.unlink(missing_ok=True)
    for folder in (ws.artifacts, ws.root) if created_root else (ws.artifacts,):
        try:
            folder.rmdir()  # only if empty
        except OSError:
            pass
    return True
