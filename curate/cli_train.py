"""Training commands: ``curate train``, ``curate runs``, ``curate compare``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from curate import train as training
from curate.cli import command, err, out, _workspace
from curate.cli_eval import print_report, run_report
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
    as_json: bool = typer.Option(False, "--json", help="Print the finished run's scores and details as JSON."),
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
    report = run_report(ws, run)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, default=str))
    else:
        print_report(report)


@command
def runs(dataset: str = typer.Argument(..., help="Dataset name."),
         as_json: bool = typer.Option(False, "--json", help="Print each run with its scores as JSON lines.")) -> None:
    """List the model runs of a dataset with their status and headline scores."""
    ws = _workspace()
    found = training.runs(ws, dataset)
    if as_json:
        for r in found:
            print(json.dumps({**r, "scores": training.scores(ws, r["id"])}, ensure_ascii=False, default=str))
        return
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
    as_json: bool = typer.Option(False, "--json", help="Print the leaderboard (or the flips) as JSON."),
) -> None:
    """Leaderboard of versions × eval sets × runs (ranked within one label space); --flips A B: items that flipped."""
    ws = _workspace()
    if flips:
        f = training.flips(ws, flips[0], flips[1], eval_set)
        if as_json:
            print(json.dumps(asdict(f), ensure_ascii=False, default=str))
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
    board = training.leaderboard(ws, dataset, metric)
    if as_json:
        print(json.dumps(board, ensure_ascii=False, default=str))
        return
    if not board:
        out.print(f"no finished model runs of {dataset} yet; start one with: curate train {dataset}:VERSION --baseline")
        return
    table = Table("eval set", "labels", "kind", "rank", "version", "run", metric, "model")
    for r in board:
        rank = "—" if r["rank"] is None else str(r["rank"])
        table.add_row(r["eval_set"], r["label_space"], r["kind"], rank, r["version"], str(r["run"]), _fmt(r["value"]),
                      r["model"])
    out.print(table)
    for r in board:
        if r["mismatch"]:
            out.print(f"run {r['run']} on {r['eval_set']}: the eval set's labels are not the model's classes "
                      f"({r['label_space']}); not comparable, not ranked")
