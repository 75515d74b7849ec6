"""``curate select``: a budgeted selection as a new version or labelling queue, optionally proven
against random subsets. A thin shell over ``curate.select``."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.table import Table

from curate import select as selection
from curate.cli._common import err, out, workspace
from curate.cli._options import build, field_option
from curate.select.params import SelectParams


def _print_counts(counts: dict[str, selection.ClassCount]) -> None:
    table = Table("class", "pool", "selected")
    for label, c in counts.items():
        table.add_row(label, f"{c.pool:,}", f"{c.selected:,}")
    out.print(table)


def _print_compare(report: dict) -> None:
    table = Table("role", "version", "run", "eval set", report["metric"])
    for r in [report["selected"], *report["random"]]:
        value = "—" if r["value"] is None else f"{r['value']:.4f}"
        table.add_row(r["role"], r["version"], str(r["run"]), r["eval_set"] or "—", value)
    out.print(table)
    if report["win"] is None:
        out.print("no comparable score (no eval set was scored)")
        return
    verdict = "selection wins" if report["wins"] else "no clear win: keep the random subset or another strategy"
    out.print(f"{report['kind']}: selected {report['selected']['value']:.4f} vs random mean "
              f"{report['random_mean']:.4f} ± {report['random_spread']:.4f} (sd of {len(report['random'])}): "
              f"{report['win']:+.4f} → {verdict}")


def select(
    ref: str = typer.Argument(..., help="Version to select from, as DATASET:VERSION (its train split is the pool)."),
    budget: int = typer.Option(..., "--budget", "-b", help="How many training rows to keep."),
    strategy: Optional[str] = field_option(SelectParams, "strategy", "-s"),
    name: str = typer.Option(..., "--name", "-n", help="Name of the new version (or of the labelling queue)."),
    purpose: str = typer.Option("train", "--for", help="train: a new version; label: a labelling queue "
                                "(Label page: selected)."),
    seed: Optional[int] = field_option(SelectParams, "seed"),
    no_balance: bool = typer.Option(False, "--no-balance", help="Do not keep the pool's class proportions."),
    compare_random: Optional[int] = field_option(SelectParams, "compare_random"),
    finetune: bool = typer.Option(False, "--finetune", help="With --compare-random: fine-tune "
                                  "(default: quick baseline)."),
    epochs: Optional[float] = typer.Option(None, "--epochs", help="With --finetune: passes over the training split."),
    metric: str = typer.Option("accuracy", "--metric", help="Metric compared with --compare-random."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Choose BUDGET training rows by strategy as a new version or labelling queue; --compare-random K proves it."""
    ws = workspace()
    settings = build(SelectParams, {"seed": seed, "compare_random": compare_random, "strategy": strategy,
                                    "balance": False if no_balance else None}, command="select")
    seed, compare_random, strategy, balance = settings.seed, settings.compare_random, settings.strategy, settings.balance
    if compare_random:
        from curate.train import TrainParams
        from curate.select.compare import compare_random as run_compare

        if purpose != "train":
            err.print("--compare-random trains versions; it ignores --for label")
        report = run_compare(ws, ref, budget, strategy, name, k=compare_random, finetune=finetune,
                             params=build(TrainParams, {"epochs": epochs}), seed=seed, balance=balance, metric=metric,
                             on_update=lambda msg: err.print(msg))
        if as_json:
            print(json.dumps(report, default=str))
        else:
            _print_compare(report)
        return
    made = selection.create(ws, ref, budget, strategy, name, purpose=purpose, seed=seed, balance=balance)
    if as_json:
        print(json.dumps(made.to_json(), default=str))
        return
    where = f"version {made.ref}" if made.ref else f"labelling queue {made.queue!r} (Label page: selected)"
    out.print(f"selected {made.selected:,} of {made.params['pool']:,} training rows of {ref} "
              f"into {where} in {made.seconds:.1f}s")
    _print_counts(made.counts)


def register(app: typer.Typer) -> None:
    app.command("select")(select)
