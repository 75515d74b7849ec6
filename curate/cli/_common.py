"""What every ``curate`` command module shares: the consoles, the ``--workspace`` it acts on, the one
error guard, and printing untrusted strings literally.

The guard (``GuardedGroup.main``) sits on the top-level command group, so every command and
sub-command is covered once: a ``CurateError`` becomes one line on stderr and exit code 1; so does any
other exception, whose traceback goes to a log file named in that line (``curate/crashlog.py``).
Command modules import from here and never from ``curate.cli``; ``curate/cli/__init__.py`` builds the
app and calls each module's ``register(app)``, so there is no import cycle.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional, Sequence, TypeVar

import typer
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Column, Table
from rich.text import Text
from typer.core import TyperGroup

from curate import crashlog
from curate.errors import CurateError
from curate.store.workspace import ENV_VAR, Workspace, resolve_workspace

# markup=False: data printed by any command shows literally ([laughs] stays, [bold red] styles nothing);
# the few lines with our own styling pass markup=True and escape their data with ``esc``.
out = Console(soft_wrap=True, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)
_state: dict[str, Optional[str]] = {"workspace": None}


def workspace(path: str | Path | None = None) -> Workspace:
    """The workspace a command acts on: ``path``, else ``--workspace``, else ``$CURATE_WORKSPACE``, else here."""
    return resolve_workspace(path or _state["workspace"])


def _say_error(message: str) -> None:
    err.print(f"[bold red]error:[/] {esc(message)}", highlight=False, soft_wrap=True, markup=True)  # "curate[ray]" is no markup


def fail(message: str) -> NoReturn:
    """Stop a command with one error line and exit code 1."""
    _say_error(message)
    raise typer.Exit(1)


def unexpected(exc: BaseException) -> str:
    """One line for an exception that is not a CurateError; its traceback goes to a log file."""
    known = crashlog.environment_problem(exc)
    if known:
        return known
    try:
        root = resolve_workspace(_state["workspace"]).root
    except Exception:  # noqa: BLE001  a broken --workspace must not hide the real error
        root = None
    return crashlog.one_line(exc, root)


class GuardedGroup(TyperGroup):
    """The top-level ``curate`` group: the one place where errors become one line and exit 1."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        except CurateError as exc:
            _say_error(str(exc))
        except Exception as exc:  # noqa: BLE001  the edge: never a traceback on the terminal
            _say_error(unexpected(exc))
        sys.exit(1)


def _print_version(value: bool) -> None:
    if value:
        from curate import __version__

        out.print(f"curate {__version__}")
        raise typer.Exit()


def _main(workspace: Optional[Path] = typer.Option(
        None, "--workspace", "-w", help=f"Workspace folder (default: ${ENV_VAR}, else the current folder)."),
        version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                     help="Print curate's version and exit.")) -> None:
    _state["workspace"] = str(workspace) if workspace else None


def new_app() -> typer.Typer:
    """The ``curate`` app with its global options and its error guard; commands are added by ``register``."""
    app = typer.Typer(help="curate: build, clean, label, version and evaluate fine-tuning datasets.",
                      no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, cls=GuardedGroup)
    app.callback()(_main)
    return app


class DefaultCommandGroup(TyperGroup):
    """A group whose sub-command may be left out: ``curate dedup DATASET`` is ``curate dedup run DATASET``.

    The first argument names a sub-command only when something follows it, so a dataset that happens to
    be called ``export`` is still deduped by ``curate dedup export``."""

    default_command = "run"

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        first = args[0] if args else None
        if first not in ctx.help_option_names and (first not in self.commands or len(args) == 1):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


def group(app: typer.Typer, name: str, help_text: str, *, default: str | None = None) -> typer.Typer:
    """A sub-command group such as ``curate version``, added to ``app``; with ``default``, the sub-command
    run when none is named (see ``DefaultCommandGroup``)."""
    if default is None:
        sub = typer.Typer(help=help_text, no_args_is_help=True)
    else:
        cls = type("DefaultCommandGroup", (DefaultCommandGroup,), {"default_command": default})
        sub = typer.Typer(help=help_text, cls=cls)
    app.add_typer(sub, name=name)
    return sub


def json_line(value: Any) -> None:
    """Print ``value`` as one line of JSON (non-ASCII kept, anything else as its string); a typed
    result (``Version``, ``ModelRun``...) prints its ``to_json()``."""
    data = value.to_json() if hasattr(value, "to_json") else value
    print(json.dumps(data, ensure_ascii=False, default=str))


Row = TypeVar("Row")


def listing(rows: Sequence[Row], columns: Sequence[str | Column], cells: Callable[[Row], Sequence[RenderableType]], *,
            empty: str, as_json: bool = False, json_of: Callable[[Row], Any] | None = None) -> None:
    """Print a list the way every ``list`` command does: with ``--json`` one JSON line per row
    (``json_of(row)``, else the row), else the hint ``empty`` when there is none, else a table of
    ``columns`` with ``cells(row)`` per row."""
    if as_json:
        for row in rows:
            json_line(json_of(row) if json_of else row)
        return
    if not rows:
        out.print(empty)
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*cells(row))
    out.print(table)


# The one way the CLI prints untrusted strings (data, labels, names, notes): literally. Rich reads
# ``[...]`` as console markup, so ``[laughs]`` would vanish and ``[bold red]`` would style what follows.

def literal(value: object, *, width: int | None = None) -> Text:
    """``value`` as unparsed text (never parsed, safe in tables); with ``width``, on one line (``⏎`` for
    line breaks) and cut to it."""
    text = "" if value is None else str(value)
    if width is not None:
        text = text.replace("\n", " ⏎ ")
        text = text if len(text) <= width else text[:width - 1] + "…"
    return Text(text)


def esc(value: object) -> str:
    """``value`` escaped for an f-string printed with markup."""
    return escape("" if value is None else str(value))
