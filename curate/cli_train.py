"""Training commands: ``curate train``, ``curate runs``, ``curate compare``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from curate import train as training
from curate.cli import command, err, out, _workspace
from curate.cli_render import esc
from curate.errors import InputError


def _params(**given) -> training.TrainParams:
    try:
        return training.TrainParams(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(f"--{str(first['loc'][0]).replace('_', '-')}", first["msg"],
                         fix="see `curate train --help` for the allowed range") from None


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


@command
def train(
    ref: str = typer.Argument(..., help="Version to train on, as DATASET:VERSION (e.g. sst2:v2)."),
    baseline: bool = typer.Option(False, "--baseline", help="Quick baseline: frozen MiniLM embeddings + logistic regression."),
    model: Optional[Path] = typer.Option(None, "--model", help="Local model folder (default: the bundled MiniLM)."),
    epochs: Optional[float] = typer.Option(None, "--epochs", help="Passes over the training split (default 3)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Peak learning rate (default 1e-4 classification, 5e-5 sft/chat)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Examples per step (default 16)."),
    warmup: Optional[float] = typer.Option(None, "--warmup", help="Warm-up fraction of the steps (default 0.1)."),
    weight_decay: Optional[float] = typer.Option(None, "--weight-decay", help="AdamW weight decay (default 0.01)."),
    schedule: Optional[str] = typer.Option(None, "--schedule", help="linear | cosine | constant (default linear)."),
    max_length: Optional[int] = typer.Option(None, "--max-length", help="Tokens per example (default 128)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (default 0)."),
    patience: Optional[int] = typer.Option(None, "--patience", help="Early stopping patience in validation "
                                                                    "evaluations, 0 = off (default 2)."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Stop after this many steps."),
    group_by_length: bool = typer.Option(False, "--group-by-length",
                                         help="Batch examples of similar length together (less padding, faster)."),
    lora: bool = typer.Option(False, "--lora", help="Train LoRA adapters (needs peft)."),
    detach: bool = typer.Option(False, "--detach", help="Start the run and return; follow it with `curate runs`."),
) -> None:
    """Train a model on a version in a child process and print its eval scores."""
    params = _params(model=str(model) if model else None, epochs=epochs, lr=lr, batch_size=batch_size,
                     warmup=warmup, weight_decay=weight_decay, schedule=schedule, max_length=max_length,
                     seed=seed, patience=patience, max_steps=max_steps, lora=lora or None,
                     group_by_length=group_by_length or None)
    ws = _workspace()
    run_id = training.start(ws, ref, baseline=baseline, params=params)
    out.print(f"model run {run_id} ({'baseline' if baseline else 'fine-tune'} on {ref}); "
              f"log: {training.log_path(ws, run_id)}")
    if detach:
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        job = bar.add_task("queued", total=None)

        def show(run) -> None:
            loss = f" loss {run['loss']:.4f}" if run.get("loss") == run.get("loss") and run.get("loss") else ""
            eta = f" eta {run['eta_seconds']:.0f}s" if run.get("eta_seconds") else ""
            bar.update(job, description=f"{run['phase'] or run['status']}{loss}{eta}",
                       completed=run["step"] or 0, total=run["total_steps"])
        try:
            run = training.wait(ws, run_id, on_update=show)
        except KeyboardInterrupt:
            training.cancel(ws, run_id)
            err.print(f"cancel requested for model run {run_id}")
            raise typer.Exit(130)
    if run["status"] != "done":
        err.print(f"[bold red]error:[/] model run {run_id} {run['status']}: {esc(run['message'] or '')}", highlight=False,
                  markup=True)
        raise typer.Exit(1)
    _print_scores(training.scores(ws, run_id), run)


def _print_scores(scores: dict, run: dict) -> None:
    label = "baseline" if run["kind"] == "baseline" else "fine-tune"
    columns = sorted({m for s in scores.values() for m in s if ":" not in m}, key=lambda m: (m == "n", m))
    table = Table("eval set", *columns, title=f"model run {run['id']} ({label})")
    for name, values in scores.items():
        table.add_row(name, *[_fmt(values.get(c)) for c in columns])
    out.print(table)
    if run.get("artifact"):
        out.print(f"model saved in {run['artifact']}")


@command
def runs(dataset: str = typer.Argument(..., help="Dataset name.")) -> None:
    """List the model runs of a dataset with their status and headline scores."""
    ws = _workspace()
    found = training.runs(ws, dataset)
    if not found:
        out.print(f"no model runs of {dataset} yet; start one with: curate train {dataset}:VERSION --baseline")
        return
    table = Table("run", "version", "kind", "model", "status", "progress", "scores")
    for r in found:
        scores = training.scores(ws, r["id"])
        head = "; ".join(f"{name}: " + ", ".join(f"{m}={v:.3f}" for m, v in s.items()
                                                   if m in ("accuracy", "macro_f1", "exact_match", "perplexity")
                                                   and v is not None)
                         for name, s in scores.items())
        progress = f"{r['step']}/{r['total_steps']}" if r["total_steps"] else (r["phase"] or "")
        table.add_row(str(r["id"]), r["version"], r["kind"], training.model_label(r), r["status"], progress, head)
    out.print(table)


@command
def compare(
    dataset: str = typer.Argument(..., help="Dataset name."),
    metric: str = typer.Option("accuracy", "--metric", help="Metric to rank by (accuracy, macro_f1, exact_match, perplexity, ...)."),
    flips: Optional[tuple[int, int]] = typer.Option(None, "--flips", help="Two run ids: list eval items that flipped."),
    eval_set: Optional[str] = typer.Option(None, "--eval-set", help="Eval set for --flips (default: the first shared)."),
) -> None:
    """Leaderboard of versions × eval sets × runs; with --flips A B, the items that flipped between two runs."""
    ws = _workspace()
    if flips:
        f = training.flips(ws, flips[0], flips[1], eval_set)
        out.print(f"{f.eval_set}: run {f.run_a} → run {f.run_b}: {len(f.fixed)} fixed (wrong→right), "
                  f"{len(f.broken)} broken (right→wrong), {f.both_right} right in both, {f.both_wrong} wrong in both")
        table = Table("example", "flip", "reference", f"run {f.run_a}", f"run {f.run_b}", "text")
        for kind, items in (("fixed", f.fixed), ("broken", f.broken)):
            for p in items:
                table.add_row(str(p["example_id"]), kind, str(p["reference"]), str(p["prediction_a"]),
                              str(p["prediction_b"]), (p["text"] or "")[:70])
        out.print(table)
        return
    board = training.leaderboard(ws, dataset, metric)
    if not board:
        out.print(f"no finished model runs of {dataset} yet; start one with: curate train {dataset}:VERSION --baseline")
        return
    table = Table("eval set", "kind", "version", "run", metric, "model")
    for r in board:
        table.add_row(r["eval_set"], r["kind"], r["version"], str(r["run"]), _fmt(r["value"]),
                      r["model"])
    out.print(table)
