"""``curate ingest``: read files into a dataset, all files or none."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from curate.cli._common import err, json_line, out, workspace
from curate.ingest import ingest as run_ingest, parse_labels, parse_map


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
        report = run_ingest(workspace(), files, dataset, task=task, mapping=mapping, labels=parse_labels(labels),
                            replace=replace, progress=lambda f, n: bar.update(job, description=f"{Path(f).name}: {n:,} rows"))
    if as_json:
        json_line(asdict(report) | {"rows": report.rows})
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


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
