"""The one error family of curate: every user mistake becomes one readable line.

The CLI prints ``str(error)`` and exits 1; the UI shows it with ``st.error``. Never a traceback.
"""

from __future__ import annotations


class CurateError(Exception):
    """Base of every error a user can cause; its message is one line with the fix."""


class InputError(CurateError):
    """Bad input data: names the file, the line or row, what is wrong and the fix."""

    def __init__(self, path: object, problem: str, *, line: int | None = None, row: int | None = None,
                 fix: str | None = None) -> None:
        where = str(path)
        if line is not None:
            where += f":{line}"
        elif row is not None:
            where += f": row {row}"
        message = f"{where}: {problem}"
        if fix:
            message += f" — fix: {fix}"
        super().__init__(message)
        self.path, self.line, self.row, self.problem, self.fix = str(path), line, row, problem, fix


class StoreBusy(CurateError):
    """Another process holds the workspace's write lock longer than we are willing to wait."""


class NotFound(CurateError):
    """A named dataset, example or source does not exist."""


class MigrationError(CurateError):
    """A store migration failed; the store was left as it was."""
