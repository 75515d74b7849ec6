"""Training commands: ``curate train``, ``curate runs``, ``curate compare``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from curate import train as training
from curate.cli._common import err, esc, json_line, listing, out, workspace
from curate.cli._options import build, options_from, pairs
from curate.cli.evaluate import print_report, run_report
from curate.cli.search import run_search
from curate.errors import InputError
from curate.train.search import DEFAULT_TRIALS, SAMPLERS


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


@options_from(training.TrainParams, skip=("args",))
def train(
    ref: Optional[str] = typer.Argument(None, help="Version to train on, as DATASET:VERSION (e.g. sst2:v2)."),
    baseline: bool = typer.Option(False, "--baseline", help="Quick baseline: frozen MiniLM embeddings + logistic regression."),
    arg: Optional[list[str]] = typer.Option(None, "--arg", help="Any other transformers TrainingArguments field, "
                                                                "as name=value (repeatable), e.g. --arg adam_beta2=0.98."),
    resume: Optional[int] = typer.Option(None, "--resume", help="Continue model run RUN (failed or cancelled) "
                                                                "from its last checkpoint."),
    search: Optional[str] = typer.Option(None, "--search", help="Hyperparameter search space, e.g. "
                                         "lr=1e-5:1e-3:log,batch_size=16|32,warmup=0:0.2 (one model run per trial)."),
    trials: Optional[int] = typer.Option(None, "--trials", help=f"Search: number of trials (default {DEFAULT_TRIALS}; "
                                                                "grid: every combination)."),
    sampler: Optional[str] = typer.Option(None, "--sampler", help=f"Search: {' | '.join(SAMPLERS)} "
                                                                  f"(default {SAMPLERS[0]})."),
    detach: bool = typer.Option(False, "--detach", help="Start the run and return; follow it with `curate runs`."),
    as_json: bool = typer.Option(False, "--json", help="Print the finished run's scores and details as JSON."),
    **given,
) -> None:
    """Train a model on a version in a child process and print its eval scores."""
    ws = workspace()
    if resume is not None:
        step = training.resume(ws, resume)
        out.print(f"model run {resume} resumes from its checkpoint at step {step}; log: {training.log_path(ws, resume)}")
        return None if detach else _follow(ws, resume, as_json)
    if not ref:
        raise InputError("curate train", "no version given", fix="curate train DATASET:VERSION (or --resume RUN)")
    params = build(training.TrainParams, given, names={"args": "--arg"}, args=pairs(arg, "--arg"))
    if search:
        return run_search(ws, ref, params, search, trials=trials, sampler=sampler, follow=follow)
    run_id = training.start(ws, ref, baseline=baseline, params=params)
    out.print(f"model run {run_id} ({'baseline' if baseline else 'fine-tune'} on {ref}); "
              f"log: {training.log_path(ws, run_id)}")
    if not detach:
        _follow(ws, run_id, as_json)


def _follow(ws, run_id: int, as_json: bool) -> None:
    """Show a run's progress until it ends, then its scores; Ctrl-C cancels it."""
    run = follow(ws, run_id)
    if run.status != "done":
        err.print(f"[bold red]error:[/] model run {run_id} {run.status}: {esc(run.message or '')}", highlight=False,
                  markup=True)
        raise typer.Exit(1)
    report = run_report(ws, run)
    if as_json:
        json_line(report)
    else:
        print_report(report)


def follow(ws, run_id: int, label: str = "") -> training.ModelRun:
    """A progress bar over a running model run; returns the finished run (Ctrl-C cancels it)."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        job = bar.add_task("queued", total=None)

        def show(run: training.ModelRun) -> None:
            loss = f" loss {run.shown_loss:.4f}" if run.shown_loss is not None else ""
            eta = f" eta {run.eta_seconds:.0f}s" if run.eta_seconds else ""
            bar.update(job, description=f"{label}{run.phase or run.status}{loss}{eta}",
                       completed=run.step or 0, total=run.total_steps)
        try:
            return training.wait(ws, run_id, on_update=show)
        except KeyboardInterrupt:
            training.cancel(ws, run_id)
            err.print(f"cancel requested for model run {run_id}; continue it with: curate train --resume {run_id}")
            raise typer.Exit(130)


def runs(dataset: str = typer.Argument(..., help="Dataset name."),
         as_json: bool = typer.Option(False, "--json", help="Print each run with its scores as JSON lines.")) -> None:
    """List the model runs of a dataset with their status and headline scores."""
    ws = workspace()

    def cells(r: training.ModelRun) -> list[str]:
        head = "; ".join(f"{name}: " + ", ".join(f"{m}={v:.3f}" for m, v in s.items()
                                                   if m in ("accuracy", "macro_f1", "exact_match", "perplexity")
                                                   and v is not None)
                         for name, s in training.scores(ws, r.id).items())
        progress = f"{r.step}/{r.total_steps}" if r.total_steps else (r.phase or "")
        return [str(r.id), r.version, r.kind, training.model_label(r), r.status, progress, head]
    listing(training.runs(ws, dataset), ["run", "version", "kind", "model", "status", "progress", "scores"], cells,
            empty=f"no model runs of {dataset} yet; start one with: curate train {dataset}:VERSION --baseline",
            as_json=as_json, json_of=lambda r: {**r.to_json(), "scores": training.scores(ws, r.id)})


def compare(
    dataset: str = typer.Argument(..., help="Dataset name."),
    metric: str = typer.Option("accuracy", "--metric", help="Metric to rank by (accuracy, macro_f1, exact_match, perplexity, ...)."),
    flips: Optional[tuple[int, int]] = typer.Option(None, "--flips", help="Two run ids: list eval items that flipped."),
    eval_set: Optional[str] = typer.Option(None, "--eval-set", help="Eval set for --flips (default: the first shared)."),
    best_trials: bool = typer.Option(False, "--best-trials", help="A hyperparameter search counts once, by its best "
                                                                  "trial (chosen on validation)."),
    as_json: bool = typer.Option(False, "--json", help="Print the leaderboard (or the flips) as JSON."),
) -> None:
    """Leaderboard of versions × eval sets × runs (ranked within one label space); --flips A B: items that flipped."""
    ws = workspace()
    if flips:
        f = training.flips(ws, flips[0], flips[1], eval_set)
        if as_json:
            json_line(asdict(f))
            return
        out.print(f"{f.eval_set}: run {f.run_a} → run {f.run_b}: {len(f.fixed)} fixed (wrong→right), "
                  f"{len(f.broken)} broken (right→wrong), {f.both_right} right in both, {f.both_wrong} wrong in both")
        table = Table("example", "flip", "reference", f"run {f.run_a}", f"run {f.run_b}", "text")
        for kind, items in (("fixed", f.fixed), ("broken", f.broken)):
            for p in items:
                table.add_row(str(p["example_id"]), kind, str(p["reference"]), str(p["prediction_a"]),
                              str(p["prediction_b"]), (p["text"] or "")[:70])
        out.print(table)
        return
    board = training.leaderboard(ws, dataset, metric, best_trials=best_trials)
    if as_json:
        json_line([r.to_json() for r in board])
        return
    if not board:
        out.print(f"no finished model runs of {dataset} yet; start one with: curate train {dataset}:VERSION --baseline")
        return
    table = Table("eval set", "labels", "kind", "rank", "version", "run", metric, "model")
    for r in board:
        rank = "—" if r.rank is None else str(r.rank)
        table.add_row(r.eval_set, r.label_space, r.kind, rank, r.version, str(r.run), _fmt(r.value), r.model)
    out.print(table)
    for r in board:
        if r.mismatch:
            out.print(f"run {r.run} on {r.eval_set}: the eval set's labels are not the model's classes "
                      f"({r.label_space}); not comparable, not ranked")


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("runs")(runs)
    app.command("compare")(compare)
