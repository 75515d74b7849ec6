"""The last line of defence: an unexpected exception becomes one line plus a log file with its traceback.

The CLI (and any other shell) calls ``report(exc, root)`` for an exception that is not a
``CurateError``: the traceback goes to ``<workspace>/artifacts/logs/`` when that folder can be written,
else to ``<tmp>/curate-logs/``; the user sees one line naming the problem and the log file.
"""

from __future__ import annotations

import datetime as _dt
import errno
import os
import sys
import tempfile
import traceback
from pathlib import Path


def _log_folders(root: str | os.PathLike | None) -> list[Path]:
    folders = []
    if root is not None and (Path(root) / "curate.duckdb").exists():
        folders.append(Path(root) / "artifacts" / "logs")
    folders.append(Path(tempfile.gettempdir()) / "curate-logs")
    return folders


def write_log(exc: BaseException, root: str | os.PathLike | None = None) -> Path | None:
    """Write ``exc``'s traceback (and the command line) to a new log file; its path, or None if nowhere
    could be written (a full disk)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = (f"curate crash log {stamp}\ncommand: {' '.join(sys.argv)}\n\n"
            + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    for folder in _log_folders(root):
        path = folder / f"error-{stamp}-{os.getpid()}.log"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def summary(exc: BaseException) -> str:
    """The exception as one short line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if len(first) > 200:
        first = first[:199] + "…"
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def one_line(exc: BaseException, root: str | os.PathLike | None = None) -> str:
    """The one line a user sees for an unexpected exception, with where its traceback went."""
    log = write_log(exc, root)
    where = f"details in {log}" if log else "no log written (nowhere writable)"
    return f"unexpected {summary(exc)} — {where}; please report it"


_ENV_PROBLEMS = {
    errno.ENOSPC: ("the disk is full", "free some space and run it again"),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space and run it again"),
    errno.EROFS: ("the file system is read-only", "work on a writable copy of the workspace"),
    errno.EACCES: ("permission denied", "check the file's permissions, or work on a writable copy"),
    errno.EPERM: ("operation not permitted", "check the file's permissions, or work on a writable copy"),
}


def environment_problem(exc: BaseException) -> str | None:
    """One line for a failure caused by the machine, not by curate (disk full, read-only, permissions)."""
    if isinstance(exc, OSError) and exc.errno in _ENV_PROBLEMS:
        problem, fix = _ENV_PROBLEMS[exc.errno]
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{problem} — fix: {fix}"
    return None
