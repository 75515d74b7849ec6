"""Clean-and-score commands: ``curate run RECIPE --dataset D``, ``curate report D``, ``curate ops``,
``curate mark D --good IDS --bad IDS``. Each parses, makes one library call and prints with rich."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from curate import ops as library
from curate.cli._common import err, esc, out, workspace
from curate.errors import InputError
from curate.ids import parse_ids
from curate.ops.report import Report, mark as mark_examples


def run(recipe: Path = typer.Argument(..., help="Recipe file, e.g. pipelines/classification.yaml."),
        dataset: Optional[str] = typer.Option(None, "--dataset", "-d", help="Dataset to clean and score."),
        force: bool = typer.Option(False, "--force", help="Run even when an identical run exists."),
        samples: int = typer.Option(3, "--samples", min=0, max=50, help="Dropped rows shown per reason."),
        engine: str = typer.Option("local", "--engine", help="local | ray (the same operators on Ray Data)."),
        address: Optional[str] = typer.Option(None, "--address", help="Ray cluster to join, HOST:PORT from "
                                              "`ray start --head` (default: a local Ray on this machine's cores)."),
        input_: Optional[str] = typer.Option(None, "--input", help="Corpus mode: Parquet files, e.g. 'corpus/*.parquet' "
                                             "(any fsspec URL); needs --output and --engine ray."),
        output: Optional[Path] = typer.Option(None, "--output", help="Corpus mode: a new folder for data/ and "
                                              "report.json.")) -> None:
    """Run a recipe on a dataset (edits, signals and issues, with a filtering report), or on Parquet files
    with --input/--output (corpus mode, on Ray)."""
    if input_ is not None or output is not None:
        _run_corpus(recipe, input_, output, engine, address, samples)
        return
    if dataset is None:
        raise InputError("run", "no dataset given", fix="add --dataset NAME, or --input/--output for a corpus")
    ws = workspace()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        job = bar.add_task("starting", total=None)
        result = library.run_recipe(ws, recipe, dataset, force=force, engine=engine, address=address,
                                progress=lambda label, done, total: bar.update(job, description=label,
                                                                               completed=done, total=total))
    if result.skipped:
        out.print(f"{dataset}: identical run #{result.run_id} of {result.recipe} already done "
                  f"(same params, same input); skipped. Use --force to run again.")
    else:
        out.print(f"{dataset}: ran {result.recipe} as run #{result.run_id} in {result.seconds:.2f}s")
    _print_report(library.report(ws, dataset, run_id=result.run_id, samples=samples), samples)


def _run_corpus(recipe: Path, input_: Optional[str], output: Optional[Path], engine: str, address: Optional[str],
                samples: int) -> None:
    from curate.engine.corpus import load_report, run_corpus

    if not input_ or output is None or engine != "ray":
        raise InputError("run", "corpus mode needs --input, --output and --engine ray",
                         fix="e.g. curate run pipelines/sft.yaml --input 'corpus/*.parquet' --output out/ --engine ray")
    with err.status(f"running {recipe} over {input_} on Ray"):
        run_corpus(recipe, input_, output, address=address)
    out.print(f"wrote {output}/data/*.parquet and {output}/report.json")
    rep = load_report(output)   # a recipe's run always writes one
    if rep is not None:
        _print_report(rep, samples)


def report(dataset: Optional[str] = typer.Argument(None, help="Dataset name."),
           run_id: Optional[int] = typer.Option(None, "--run", help="Run id (default: the latest recipe run)."),
           samples: int = typer.Option(3, "--samples", min=0, max=50, help="Dropped rows shown per reason."),
           as_json: bool = typer.Option(False, "--json", help="Print the counters as JSON."),
           from_: Optional[Path] = typer.Option(None, "--from", help="The --output folder of a corpus run.")) -> None:
    """The filtering report of a recipe run: kept and dropped per step and reason, samples, edits."""
    if from_ is not None:
        from curate.engine.corpus import load_report

        rep = load_report(from_)
        if rep is None:   # a corpus dedup's report: its counters
            print(json.dumps(json.loads((from_ / "report.json").read_text(encoding="utf-8"))["counters"]))
            return
    elif dataset is None:
        raise InputError("report", "no dataset given", fix="curate report DATASET, or curate report --from FOLDER")
    else:
        rep = library.report(workspace(), dataset, run_id=run_id, samples=samples)
    if as_json:
        print(json.dumps({"run": rep.run["id"], "recipe": rep.recipe, **rep.counters.to_json()}, default=str))
        return
    _print_report(rep, samples)


def ops(kind: Optional[str] = typer.Option(None, "--kind", help="mapper | scorer | filter")) -> None:
    """List the operators a recipe can use, with their parameters."""
    table = Table("operator", "kind", "what it does", "parameters")
    for op in library.operators():
        if kind and op.kind != kind:
            continue
        params = ", ".join(f"{n}={f.default!r}" if not f.is_required() else n for n, f in op.params.model_fields.items())
        table.add_row(op.name, op.kind, op.doc, params)
    out.print(table)


def mark(dataset: str = typer.Argument(..., help="Dataset name."),
         good: Optional[str] = typer.Option(None, "--good", help="Example ids to mark good, e.g. 12,15,40."),
         bad: Optional[str] = typer.Option(None, "--bad", help="Example ids to mark bad."),
         clear: Optional[str] = typer.Option(None, "--clear", help="Example ids to unmark.")) -> None:
    """Mark examples good or bad: the training data of the quality classifier (score.quality_model)."""
    if not (good or bad or clear):
        raise InputError("mark", "no ids given", fix="e.g. curate mark sst2 --good 12,15 --bad 40")
    for option, value, label in (("--good", good, "good"), ("--bad", bad, "bad"), ("--clear", clear, None)):
        if value:
            n = mark_examples(workspace(), dataset, parse_ids(value, option), label)
            out.print(f"{dataset}: {n} example(s) " + (f"marked {label}" if label else "unmarked"))


def _print_report(rep: Report, samples: int) -> None:
    c = rep.counters
    out.print(f"[bold]{esc(rep.dataset)}[/] · recipe {esc(rep.recipe)} · run #{rep.run['id']}: "
              f"{c.total:,} rows, {c.kept:,} kept, {c.removed:,} dropped, {c.edits:,} edits",
              highlight=False, markup=True)
    table = Table("step", "operator", "rows in", "kept", "dropped (reason)", "edited", "note")
    for s in rep.steps:
        dropped = ", ".join(f"{n} {r}" for r, n in s.dropped.items())
        table.add_row(str(s.step), s.op, _n(s.rows_in), _n(s.kept), dropped, _n(s.edited), s.skipped or "")
    out.print(table)
    for reason, rows in rep.samples.items():
        out.print(f"[bold]dropped: {esc(reason)}[/] ({rep.dropped.get(reason, 0)} rows), e.g.:", highlight=False, markup=True)
        for r in rows[:samples]:
            out.print(f"  #{r['id']}: {esc(_short(r['text']))}  [dim]{esc(r['detail'])}[/]", highlight=False, markup=True)
    for author, pairs in rep.diffs.items():
        out.print(f"[bold]{esc(author)}[/]: {rep.edits.get(author, 0)} edits, e.g.:", highlight=False, markup=True)
        for d in pairs[:samples]:
            before, after = _window(d["before"] or "", d["after"] or "")
            out.print(f"  #{d['example_id']} {d['field']}: {before!r}", highlight=False, markup=False)
            out.print(f"  {' ' * len(str(d['example_id']))}  → {after!r}", highlight=False, markup=False)


def _window(before: str, after: str, width: int = 90) -> tuple[str, str]:
    """Both texts cut to the region where they start to differ."""
    common = next((i for i, (a, b) in enumerate(zip(before, after)) if a != b), min(len(before), len(after)))
    start = max(0, common - 30)
    cut = (lambda t: ("…" if start else "") + _short(t[start:], width))
    return cut(before), cut(after)


def _n(value) -> str:
    return "" if value is None else f"{value:,}"


def _short(text: str | None, width: int = 100) -> str:
    text = (text or "").replace("\n", " ⏎ ")
    return text if len(text) <= width else text[: width - 1] + "…"


def register(app: typer.Typer) -> None:
    for name, fn in (("run", run), ("report", report), ("ops", ops), ("mark", mark)):
        app.command(name)(fn)
