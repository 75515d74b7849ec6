"""The ``curate`` command: a thin shell that parses arguments, makes one library call and prints.

Every ``CurateError`` becomes one line on stderr and exit code 1; so does any other exception, whose
traceback goes to a log file named in that line (``curate/crashlog.py``).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Optional

import click
import typer
from rich.console import Console
from rich.json import JSON
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from curate import browse, crashlog
from curate.cli_render import esc, literal
from curate.errors import CurateError
from curate.ingest import ingest as run_ingest, parse_labels, parse_map
from curate.store.workspace import ENV_VAR, Workspace, resolve_workspace

app = typer.Typer(help="curate: build, clean, label, version and evaluate fine-tuning datasets.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
# markup=False: data printed by any command shows literally ([laughs] stays, [bold red] styles nothing);
# the few lines with our own styling pass markup=True and escape their data with cli_render.esc.
out = Console(soft_wrap=True, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)
_state: dict[str, Optional[str]] = {"workspace": None}


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {esc(message)}", highlight=False, soft_wrap=True, markup=True)  # "curate[ray]" is no markup
    raise typer.Exit(1)


def on(group: typer.Typer, name: str | None = None) -> Callable[[Callable], Callable]:
    """Register a command on ``group`` (the app or a sub-app) that turns curate's errors into one line
    and exit 1."""
    def register(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except CurateError as exc:
                _fail(str(exc))
            except (typer.Exit, typer.Abort, click.exceptions.ClickException):
                raise
            except Exception as exc:  # noqa: BLE001  the edge: never a traceback on the terminal
                _fail(_unexpected(exc))
        return group.command(name)(wrapper)
    return register


def _unexpected(exc: BaseException) -> str:
    """One line for an exception that is not a CurateError; its traceback goes to a log file."""
    known = crashlog.environment_problem(exc)
    if known:
        return known
    try:
        root = resolve_workspace(_state["workspace"]).root
    except Exception:  # noqa: BLE001  a broken --workspace must not hide the real error
        root = None
    return crashlog.one_line(exc, root)


def command(fn: Callable) -> Callable:
    """Register a top-level ``curate`` command (see ``on``)."""
    return on(app)(fn)


def _workspace() -> Workspace:
    return resolve_workspace(_state["workspace"])


def _print_version(value: bool) -> None:
    if value:
        from curate import __version__

        out.print(f"curate {__version__}")
        raise typer.Exit()


@app.callback()
def _main(workspace: Optional[Path] = typer.Option(
        None, "--workspace", "-w", help=f"Workspace folder (default: ${ENV_VAR}, else the current folder)."),
        version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                     help="Print curate's version and exit.")) -> None:
    _state["workspace"] = str(workspace) if workspace else None


@command
def ingest(
    files: list[Path] = typer.Argument(..., help="JSONL, JSON, CSV/TSV (.gz/.zst too), Parquet or HF save_to_disk folders."),
    dataset: str = typer.Option(..., "--dataset", "-d", help="Dataset to add to (created if new)."),
    task: Optional[str] = typer.Option(None, "--task", help="classification | sft | chat | spans | preference (default: detected)."),
    map_: Optional[str] = typer.Option(None, "--map", help="Field=column pairs, e.g. text=review,label=stars; "
                                       "a dotted path reaches into nested records (text=data.text)."),
    labels: Optional[str] = typer.Option(None, "--labels", help="Class names of raw label values, e.g. "
                                         "0=negative,1=positive (default: an HF ClassLabel's names, else the labels)."),
    replace: bool = typer.Option(False, "--replace", help="Read files ingested before again with this --map/--task/"
                                 "--labels, keeping their example ids (and so their labels and edits)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Ingest files into a dataset, keeping every raw record; all files or none."""
    mapping = parse_map(map_)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        job = bar.add_task("reading", total=None)
        report = run_ingest(_workspace(), files, dataset, task=task, mapping=mapping, labels=parse_labels(labels),
                            replace=replace, progress=lambda f, n: bar.update(job, description=f"{Path(f).name}: {n:,} rows"))
    if as_json:
        print(json.dumps(asdict(report) | {"rows": report.rows}, ensure_ascii=False, default=str))
        return
    for f in report.files:
        if f.skipped:
            out.print(f"{f.path}: already ingested into {dataset}; nothing added")
        else:
            cols = ",".join(f"{k}={v}" for k, v in f.mapping.items())
            names = ",".join(f"{k}={v}" for k, v in f.label_names.items() if v is not None)
            out.print(f"{f.path}: {f.rows:,} rows ({f.format}, {cols}){' labels ' + names if names else ''}"
                      f"{' — replaced the earlier ingest, same example ids' if f.replaced else ''}")
    if report.rows:
        out.print(f"ingested {report.rows:,} rows into {dataset} ({report.task}) in {report.seconds:.2f}s")


@command
def datasets(as_json: bool = typer.Option(False, "--json", help="Print one JSON object per dataset.")) -> None:
    """List the workspace's datasets with their counts."""
    rows = browse.datasets(_workspace())
    if as_json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False, default=str))
        return
    if not rows:
        out.print("no datasets yet; add one with: curate ingest FILE --dataset NAME")
        return
    table = Table("dataset", "task", "examples", "labelled", "sources", "labels")
    for r in rows:
        labels = ", ".join(r["labels"][:8]) + (" …" if len(r["labels"]) > 8 else "")
        table.add_row(literal(r["name"]), r["task"], f"{r['examples']:,}", f"{r['labelled']:,}", str(r["sources"]),
                      literal(labels))
    out.print(table)


@command
def show(
    dataset: str = typer.Argument(..., help="Dataset name."),
    limit: int = typer.Option(10, "--limit", "-n", min=1, help="Rows to show."),
    offset: int = typer.Option(0, "--offset", min=0, help="Rows to skip."),
    query: Optional[str] = typer.Option(None, "--filter", "-f", help="Only rows containing this text."),
    example: Optional[int] = typer.Option(None, "--id", help="Show one example whole: raw record and provenance."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines instead of a table."),
) -> None:
    """Show a dataset's examples, or one example with its raw record and provenance."""
    ws = _workspace()
    if example is not None:
        out.print(JSON(json.dumps(browse.example(ws, example, dataset=dataset), default=str, ensure_ascii=False)))
        return
    page = browse.page(ws, dataset, offset=offset, limit=limit, query=query)
    if as_json:
        for row in page.rows:
            print(json.dumps(row, ensure_ascii=False, default=str))
        return
    out.print(f"{dataset} ({page.task}): rows {offset + 1}–{offset + len(page.rows)} of {page.total:,}")
    edited = any(row["edited"] for row in page.rows)
    table = Table("id", *page.columns, *(["edited"] if edited else []))
    for row in page.rows:
        table.add_row(str(row["id"]), *[literal(row[c], width=80) for c in page.columns],
                      *([literal(", ".join(row["edited"]))] if edited else []))
    out.print(table)


@command
def demo(path: Path = typer.Argument(Path("curate-demo"), help="Folder for the demo workspace.")) -> None:
    """Build a demo workspace from sample_data/ (about a minute; re-running adds nothing)."""
    from curate.demo import NOISE, STEPS, build_demo
    from curate.train import compare

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err, transient=False) as bar:
        job = bar.add_task("starting", total=len(STEPS))
        reports = build_demo(path, progress=lambda i, step: bar.update(
            job, completed=i, description=f"step {i + 1}/{len(STEPS)}: {step}"))
        bar.update(job, completed=len(STEPS), description=f"built in {len(STEPS)} steps")
    for r in reports:
        out.print(f"{r.dataset}: {r.rows:,} rows ({r.task})" if r.rows else f"{r.dataset}: up to date")
    board = {b["version"]: b["value"] for b in compare.leaderboard(Workspace(path), "sst2", "accuracy")
             if b["kind"] == "baseline" and b["eval_set"] == "sst2-dev"}
    if {"v1", "v2"} <= set(board):
        out.print(f"the story: sst2 was ingested with {NOISE:.0%} of its labels flipped on purpose; the curated "
                  f"sst2:v2 scores {board['v2']:.3f} accuracy on the pinned sst2-dev, sst2:v1 as ingested "
                  f"{board['v1']:.3f} (Compare page: leaderboard and flips; Versions page: the diff v1 → v2)")
    out.print(f"demo workspace ready: {Path(path).resolve()}\nopen it with: curate ui {path}")


@command
def ui(path: Optional[Path] = typer.Argument(None, help="Workspace folder (default: --workspace / $CURATE_WORKSPACE / here)."),
       port: int = typer.Option(8501, "--port", help="Port to serve on."),
       host: str = typer.Option("127.0.0.1", "--host",
                                help="Address to listen on; 0.0.0.0 serves every interface (annotators on other machines)."),
       headless: bool = typer.Option(True, help="Do not try to open a browser.")) -> None:
    """Open the curate UI in the browser on a workspace (this computer only unless --host says otherwise)."""
    ws = resolve_workspace(path or _state["workspace"])
    script = Path(__file__).resolve().parent / "ui" / "entry" / "main.py"
    env = {**os.environ, ENV_VAR: str(ws.root), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    out.print(f"curate UI on http://{shown}:{port} (workspace {ws.root})")
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
           "--server.address", host, "--server.headless", str(headless).lower(),
           "--browser.gatherUsageStats", "false", "--browser.serverAddress", shown]
    sys.stdout.flush()
    # Become the server (no child left serving when this process is stopped).
    os.execve(sys.executable, cmd, env)


# Each stage registers its commands on ``app``.
from curate import cli_dedup, cli_eval, cli_label, cli_ops, cli_select, cli_train, cli_versions  # noqa: E402,F401


def main() -> None:
    """The ``curate`` entry point; anything escaping a command still ends as one line and exit 1."""
    try:
        app()
    except Exception as exc:  # noqa: BLE001
        err.print(f"[bold red]error:[/] {_unexpected(exc)}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    # Run as ``python -m curate.cli``: the stages registered on ``curate.cli.app``, not on this
    # ``__main__`` module's copy, so start that one.
    from curate.cli import main as registered_main

    registered_main()
