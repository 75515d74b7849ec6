"""``curate demo`` (build the demo workspace) and ``curate ui`` (serve the Streamlit UI on a workspace)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from curate.cli._common import err, out, workspace
from curate.store.workspace import ENV_VAR, Workspace

# The script `streamlit run` serves: curate/ui/entry/main.py (this file is curate/cli/ui.py).
UI_SCRIPT = Path(__file__).resolve().parents[1] / "ui" / "entry" / "main.py"


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
    board = {b.version: b.value for b in compare.leaderboard(Workspace(path), "sst2", "accuracy")
             if b.kind == "baseline" and b.eval_set == "sst2-dev"}
    if {"v1", "v2"} <= set(board):
        out.print(f"the story: sst2 was ingested with {NOISE:.0%} of its labels flipped on purpose; the curated "
                  f"sst2:v2 scores {board['v2']:.3f} accuracy on the pinned sst2-dev, sst2:v1 as ingested "
                  f"{board['v1']:.3f} (Compare page: leaderboard and flips; Versions page: the diff v1 → v2)")
    out.print(f"demo workspace ready: {Path(path).resolve()}\nopen it with: curate ui {path}")


def ui(path: Optional[Path] = typer.Argument(None, help="Workspace folder (default: --workspace / $CURATE_WORKSPACE / here)."),
       port: int = typer.Option(8501, "--port", help="Port to serve on."),
       host: str = typer.Option("127.0.0.1", "--host",
                                help="Address to listen on; 0.0.0.0 serves every interface (annotators on other machines)."),
       headless: bool = typer.Option(True, help="Do not try to open a browser.")) -> None:
    """Open the curate UI in the browser on a workspace (this computer only unless --host says otherwise)."""
    ws = workspace(path)
    env = {**os.environ, ENV_VAR: str(ws.root), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    out.print(f"curate UI on http://{shown}:{port} (workspace {ws.root})")
    cmd = [sys.executable, "-m", "streamlit", "run", str(UI_SCRIPT), "--server.port", str(port),
           "--server.address", host, "--server.headless", str(headless).lower(),
           "--browser.gatherUsageStats", "false", "--browser.serverAddress", shown]
    sys.stdout.flush()
    # Become the server (no child left serving when this process is stopped).
    os.execve(sys.executable, cmd, env)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("ui")(ui)
