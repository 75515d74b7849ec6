"""A workspace is a folder holding ``curate.duckdb`` and ``artifacts/``.

DuckDB lets one process write a file at a time, and the UI and the CLI must both work on one
workspace at once. So nobody keeps the file open: every unit of work opens it with
``Workspace.connect()``, retries a busy lock briefly, and closes it when done.

How: one in-memory DuckDB instance per process (the *host*) stays up; a unit of work ATTACHes the
store file to it (shared, reference-counted, between the process's threads) and gets its own cursor
with the store as default database; the last one out DETACHes it, which checkpoints and releases
the file lock. Creating a DuckDB instance per unit of work instead cost 10-15 ms each (registering
every built-in function) and, inside a training worker, slowed the next training step by ~0.15 s
(bench/train.py: +10 % time with progress written every 2 s; attaching: ~3-10 ms, ~40 ms on the next step).
The host also serves scratch work on in-memory Arrow data (``scratch()``).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from curate.errors import StoreBusy
from curate.store import faults, gate
from curate.store.migrations import migrate, pending
from curate.store.retry import retry_conflicts  # noqa: F401  (re-exported: callers import it from here)
from curate.store.upkeep import mark_stale_runs

DB_NAME = "curate.duckdb"
BUSY_TIMEOUT = 120.0  # seconds a unit of work waits for its turn (``$CURATE_BUSY_TIMEOUT``)
ENV_VAR = "CURATE_WORKSPACE"
_LOCK_PID = re.compile(r"\(PID (\d+)\)")
# Attaching, detaching and the reference counts happen under one process-wide lock (a connect racing
# a teardown failed with "Unique file handle conflict" when 8 labelling threads shared a store).
_OPEN_CLOSE = threading.Lock()
_TRANSIENT = ("lock", "already attached", "file handle conflict")
_HOST: duckdb.DuckDBPyConnection | None = None
_OPENING: set[str] = set()  # aliases a thread of this process is taking a turn for


class _Held:
    """This process's attachment of one store: read-write or read-only, its users and its turn."""

    def __init__(self, write: bool, gate_fd: int | None) -> None:
        self.write, self.gate_fd, self.users, self.writers_waiting = write, gate_fd, 1, 0


_ATTACHED: dict[str, _Held] = {}  # alias -> this process's attachment


def _host() -> duckdb.DuckDBPyConnection:
    """The process's in-memory DuckDB instance (call with ``_OPEN_CLOSE`` held)."""
    global _HOST
    if _HOST is None:
        spill = Path(tempfile.gettempdir()) / f"curate-duckdb-{os.getpid()}"
        _HOST = duckdb.connect(config={"temp_directory": str(spill)})
        # Under ``python -c`` or in a notebook DuckDB draws a progress bar on stdout for a statement over 2 s
        # on this connection: a slow DETACH (checkpoint) put one into a loader's result line.
        _HOST.execute("SET enable_progress_bar = false")
    return _HOST


@contextmanager
def scratch() -> Iterator[duckdb.DuckDBPyConnection]:
    """A private cursor on the host for SQL over in-memory Arrow data (never the store)."""
    with _OPEN_CLOSE:
        con = _host().cursor()
    try:
        yield con
    finally:
        con.close()


def resolve_workspace(path: str | os.PathLike | None = None) -> "Workspace":
    """The workspace named by ``path``, else by ``$CURATE_WORKSPACE``, else the current folder."""
    chosen = path or os.environ.get(ENV_VAR) or os.getcwd()
    return Workspace(chosen)


class Workspace:
    """One workspace folder; creates its store and runs pending migrations on first connect."""

    def __init__(self, root: str | os.PathLike, *, busy_timeout: float | None = None) -> None:
        self.root = Path(root).expanduser().resolve()
        # Turns are fair (``gate``), so waiting longer only ever means waiting for real work to end.
        self.busy_timeout = busy_timeout if busy_timeout is not None else float(
            os.environ.get("CURATE_BUSY_TIMEOUT", BUSY_TIMEOUT))
        self._migrated = False
        self.read_only = False  # set when the store is attached

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

    @property
    def _alias(self) -> str:
        return "ws_" + hashlib.md5(str(self.db_path).encode()).hexdigest()[:16]

    def _join(self, write: bool) -> duckdb.DuckDBPyConnection | None:
        """A cursor on this process's attachment when it serves (call with ``_OPEN_CLOSE`` held)."""
        held = _ATTACHED.get(self._alias)
        if not held or (write and not held.write) or (not write and not held.write and held.writers_waiting):
            return None
        held.users += 1
        return self._cursor()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        try:
            con = _host().cursor()
            con.execute(f"USE {self._alias}")
        except BaseException:
            self._release(None)
            raise
        return con

    def _attach(self, write: bool, gate_fd: int | None) -> duckdb.DuckDBPyConnection:
        """Attach the store (call with ``_OPEN_CLOSE`` held and this process's turn taken)."""
        path = str(self.db_path).replace("'", "''")
        self.read_only = faults.read_only(self.db_path)
        mode = "" if write and not self.read_only else " (READ_ONLY)"
        _host().execute(f"ATTACH '{path}' AS {self._alias}{mode}")
        _ATTACHED[self._alias] = _Held(write and not self.read_only, gate_fd)
        return self._cursor()

    def _release(self, con: duckdb.DuckDBPyConnection | None) -> None:
        """Close a cursor; the last user of the store detaches it (checkpoint, lock released)."""
        if con is not None:
            con.close()
        held = _ATTACHED[self._alias]
        held.users -= 1
        if held.users:
            return
        del _ATTACHED[self._alias]
        try:
            _host().execute(f"DETACH {self._alias}")
        except duckdb.Error as exc:
            # Detached, but its checkpoint failed (a full disk): what was committed is safe in the
            # write-ahead log, which the next opening replays; the unit of work succeeded.
            if "during detach failed" not in str(exc).lower():
                raise
        finally:
            gate.release(held.gate_fd)

    def _open(self, write: bool) -> duckdb.DuckDBPyConnection:
        """Join this process's attachment, or take a turn on the workspace (``gate``) and attach.

        Threads of one process share one attachment; a writer waits for the process's readers to
        finish and then attaches read-write (readers arriving meanwhile wait behind it)."""
        deadline = time.monotonic() + self.busy_timeout
        alias = self._alias
        while True:
            with _OPEN_CLOSE:
                con = self._join(write)
                if con is not None:
                    return con
                held = _ATTACHED.get(alias)
                if held is None and alias not in _OPENING:
                    _OPENING.add(alias)
                    break
                if held is not None and write:
                    held.writers_waiting += 1
            if time.monotonic() >= deadline:
                raise StoreBusy(f"{self.db_path}: workspace is busy in this process (a long read or write "
                                f"by another thread); try again when it finishes")
            time.sleep(0.002)
            if held is not None and write:
                with _OPEN_CLOSE:
                    held.writers_waiting -= 1
        try:
            return self._take_turn(write or not self.exists(), deadline)
        finally:
            with _OPEN_CLOSE:
                _OPENING.discard(alias)

    def _take_turn(self, write: bool, deadline: float) -> duckdb.DuckDBPyConnection:
        try:
            gate_fd = gate.acquire(self.root, write and not faults.read_only(self.db_path), deadline)
        except gate.Timeout as busy:
            raise StoreBusy(f"{self.db_path}: workspace is busy, {busy.holders} is using it; "
                            f"try again when it finishes") from None
        try:
            return self._attach_retrying(write, gate_fd, deadline)
        except BaseException:
            gate.release(gate_fd)
            raise

    def _attach_retrying(self, write: bool, gate_fd: int | None, deadline: float) -> duckdb.DuckDBPyConnection:
        """Attach; retried while a process that does not take turns (an older curate, a DuckDB shell)
        holds the file."""
        delay = 0.02
        while True:
            try:
                with _OPEN_CLOSE:
                    return self._attach(write, gate_fd)
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
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for reading only: readers share the store (a read-only attachment) and do
        not wait for one another, only for a writer."""
        with self.connect(write=False) as con:
            yield con

    @contextmanager
    def connect(self, write: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work (reads, or writes inside ``transaction``).

        A store that cannot be written is opened read-only; a write then fails with one line
        (``StoreReadOnly``), as does a write that finds the disk full (``DiskFull``)."""
        if not self.exists():
            self.root.mkdir(parents=True, exist_ok=True)
        try:
            self.artifacts.mkdir(exist_ok=True)
        except OSError:
            pass  # a read-only workspace: reading needs no artifacts folder
        with faults.mapped(self):
            if not self._migrated:
                self._prepare(write)
            con = self._open(write)
        try:
            with faults.mapped(self):
                yield con
        finally:
            with _OPEN_CLOSE:
                self._release(con)

    def _prepare(self, write: bool) -> None:
        """This object's first opening: migrate the store and mark stale runs, taking a writer's turn
        only when there is something to write."""
        from curate.store import catalog

        for as_writer in ((write,) if write else (False, True)):
            con = self._open(as_writer)
            try:
                held_write = _ATTACHED[self._alias].write
                if held_write or self.read_only or not (pending(con) or catalog.stale_runs(con)):
                    migrate(con, read_only=self.read_only)
                    if held_write:
                        mark_stale_runs(con)
                    self._migrated = True
                    return
            finally:
                with _OPEN_CLOSE:
                    self._release(con)

    def discard_if_empty(self, created_root: bool) -> None:
        """Remove a store that a failed first write just created (see ``upkeep.discard_if_empty``)."""
        from curate.store.upkeep import discard_if_empty

        with _OPEN_CLOSE:
            if _ATTACHED.get(self._alias):
                return
        if discard_if_empty(self, created_root):
            self._migrated = False

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
