"""``curate datasets`` and ``curate show``: what a workspace holds, row by row."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.json import JSON
from rich.table import Table

from curate import browse
from curate.cli._common import json_line, listing, literal, out, workspace


def datasets(as_json: bool = typer.Option(False, "--json", help="Print one JSON object per dataset.")) -> None:
    """List the workspace's datasets with their counts."""
    def cells(r: browse.DatasetInfo) -> list:
        labels = ", ".join(r.labels[:8]) + (" …" if len(r.labels) > 8 else "")
        return [literal(r.name), r.task, f"{r.examples:,}", f"{r.labelled:,}", str(r.sources), literal(labels)]
    listing(browse.datasets(workspace()), ["dataset", "task", "examples", "labelled", "sources", "labels"], cells,
            empty="no datasets yet; add one with: curate ingest FILE --dataset NAME", as_json=as_json)


def show(
    dataset: str = typer.Argument(..., help="Dataset name."),
    limit: int = typer.Option(10, "--limit", "-n", min=1, help="Rows to show."),
    offset: int = typer.Option(0, "--offset", min=0, help="Rows to skip."),
    query: Optional[str] = typer.Option(None, "--filter", "-f", help="Only rows containing this text."),
    example: Optional[int] = typer.Option(None, "--id", help="Show one example whole: raw record and provenance."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines instead of a table."),
) -> None:
    """Show a dataset's examples, or one example with its raw record and provenance."""
    ws = workspace()
    if example is not None:
        out.print(JSON(json.dumps(browse.example(ws, example, dataset=dataset), default=str, ensure_ascii=False)))
        return
    page = browse.page(ws, dataset, offset=offset, limit=limit, query=query)
    if as_json:
        for row in page.rows:
            json_line(row)
        return
    out.print(f"{dataset} ({page.task}): rows {offset + 1}–{offset + len(page.rows)} of {page.total:,}")
    edited = any(row["edited"] for row in page.rows)
    table = Table("id", *page.columns, *(["edited"] if edited else []))
    for row in page.rows:
        table.add_row(str(row["id"]), *[literal(row[c], width=80) for c in page.columns],
                      *([literal(", ".join(row["edited"]))] if edited else []))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command("datasets")(datasets)
    app.command("show")(show)
