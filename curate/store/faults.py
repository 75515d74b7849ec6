"""The machine's faults around a store, as one line each: a read-only store, a full disk.

A store whose file or folder cannot be written (permissions, a read-only mount, ``chattr +i``) is
opened read-only: reading works, and a write fails with ``StoreReadOnly``. A write that finds the
disk full fails with ``DiskFull``; nothing half-written stays (DuckDB rolls the transaction back).
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import duckdb

from curate.errors import CurateError


class StoreReadOnly(CurateError):
    """A write to a store that can only be read."""


class DiskFull(CurateError):
    """A write that found no space left on the store's disk."""


_FULL = ("no space left on device", "disk quota exceeded", "file too large")
_READ_ONLY = ("read-only mode", "read-only file system", "read_only", "attached in read-only",
              "permission denied", "cannot open database", "operation not permitted")


def read_only(db_path: Path) -> bool:
    """Whether an existing store can only be read (its file or folder is not writable)."""
    if not db_path.exists():
        return False
    folder = db_path.parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        pass
    wal = db_path.with_name(db_path.name + ".wal")
    return not (os.access(db_path, os.W_OK) and os.access(folder, os.W_OK)
                and (not wal.exists() or os.access(wal, os.W_OK)))


def _free(folder: Path) -> str:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return "?"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if free < 1024 or unit == "TB":
            return f"{free:.0f} {unit}" if unit == "B" else f"{free:.1f} {unit}"
        free /= 1024
    return "?"


def translate(exc: BaseException, db_path: Path, is_read_only: bool) -> CurateError | None:
    """The one-line error for a DuckDB/OS failure caused by a full disk or a read-only store, else None."""
    text = str(exc).lower()
    if any(t in text for t in _FULL):
        return DiskFull(f"{db_path}: the disk is full ({_free(db_path.parent)} free); nothing was written "
                        f"— fix: free some space on that disk and run it again")
    if is_read_only or any(t in text for t in _READ_ONLY):
        return StoreReadOnly(f"{db_path}: the workspace store is read-only (its file or folder cannot be "
                             f"written), so nothing was written; reading works — fix: make it writable, "
                             f"or copy the workspace folder somewhere writable and use the copy")
    return None


@contextmanager
def mapped(workspace: Any) -> Iterator[None]:
    """Turn a full disk or a read-only store met inside the block into ``DiskFull``/``StoreReadOnly``."""
    try:
        yield
    except (duckdb.Error, OSError) as exc:
        error = translate(exc, workspace.db_path, workspace.read_only)
        if error is None:
            raise
        raise error from None
