"""A workspace is a folder holding ``curate.duckdb`` and ``artifacts/``.

DuckDB lets one process write a file at a time, and the UI and the CLI must both work on one
workspace at once. So nobody keeps a connection: every unit of work opens one with
``Workspace.connect()``, retries a busy lock briefly, and closes it when done.
"""

from __future__ import annotations

import os
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import duckdb

from curate.errors import StoreBusy
from curate.store.migrations import migrate

DB_NAME = "curate.duckdb"
ENV_VAR = "CURATE_WORKSPACE"
_LOCK_PID = re.compile(r"\(PID (\d+)\)")
# DuckDB shares one database instance between a process's connections to a file and tears it down
# when the last one closes; a connect racing that teardown fails ("Unique file handle conflict").
# Opening and closing under one process-wide lock removes the race (seen with 8 labelling threads).
_OPEN_CLOSE = threading.Lock()
_TRANSIENT = ("lock", "already attached", "file handle conflict")


def resolve_workspace(path: str | os.PathLike | None = None) -> "Workspace":
    """The workspace named by ``path``, else by ``$CURATE_WORKSPACE``, else the current folder."""
    chosen = path or os.environ.get(ENV_VAR) or os.getcwd()
    return Workspace(chosen)


class Workspace:
    """One workspace folder; creates its store and runs pending migrations on first connect."""

    def __init__(self, root: str | os.PathLike, *, busy_timeout: float = 10.0) -> None:
        self.root = Path(root).expanduser().resolve()
        self.busy_timeout = busy_timeout
        self._migrated = False

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    def exists(self) -> bool:
        return self.db_path.exists()

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    def _open(self) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.02
        while True:
            try:
                with _OPEN_CLOSE:
                    return duckdb.connect(str(self.db_path))
            except (duckdb.IOException, duckdb.ResourceInUseException) as exc:
                if not any(t in str(exc).lower() for t in _TRANSIENT):
                    raise
                if time.monotonic() >= deadline:
                    pid = _LOCK_PID.search(str(exc))
                    holder = f"process {pid.group(1)}" if pid else "another process"
                    raise StoreBusy(
                        f"{self.db_path}: workspace is busy, {holder} is writing to it; "
                        f"try again when it finishes") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.25)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work (reads, or writes inside ``transaction``)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.artifacts.mkdir(exist_ok=True)
        con = self._open()
        try:
            if not self._migrated:
                migrate(con)
                self._migrated = True
            yield con
        finally:
            with _OPEN_CLOSE:
                con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction: committed on success, rolled back on any error."""
        with self.connect() as con:
            with transaction(con):
                yield con


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run a block in one DuckDB transaction on an open connection."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


T = TypeVar("T")


def retry_conflicts(fn: Callable[[], T], attempts: int = 30) -> T:
    """Run a write transaction, retrying DuckDB's optimistic-concurrency conflicts briefly.

    Threads of one process (Streamlit sessions, labelling annotators, a training worker's progress
    writes) may write the same table at once; DuckDB aborts the loser with a conflict.
    """
    for attempt in range(attempts):
        try:
            return fn()
        except duckdb.TransactionException as exc:
            if "conflict" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.005 * (attempt + 1))
    raise AssertionError("unreachable")
