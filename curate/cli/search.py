"""``curate train V --search SPACE --trials N``: a hyperparameter search, one model run per trial."""

from __future__ import annotations

from typing import Callable

from rich.table import Table

from curate.cli._common import out
from curate.train.model import ModelRun
from curate.train.params import TrainParams


def run_search(ws, ref: str, params: TrainParams, space: str, *, trials: int | None, sampler: str | None,
               follow: Callable[..., ModelRun]) -> None:
    """Run the search in the foreground (each trial a worker process, shown by ``follow``), then print
    the trials."""
    from curate.train import search

    def on_trial(number: int, run_id: int, values: dict) -> ModelRun:
        shown = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        out.print(f"trial {number}: model run {run_id} ({shown})")
        return follow(ws, run_id, label=f"trial {number} · ")

    result = search.search(ws, ref, params, space, trials=trials, sampler=sampler, on_trial=on_trial)
    table = Table("trial", "run", "parameters", "validation score", "status", title=f"search {result['id']} on {ref}")
    for t in result["trials"]:
        mark = " ★ best" if t["run"] == result["best_run"] else ""
        score = "—" if t["score"] is None else f"{t['score']:.4f}"
        table.add_row(str(t["trial"]), f"{t['run']}{mark}", ", ".join(f"{k}={v}" for k, v in t["params"].items()),
                      score, t["status"])
    out.print(table)
    if result["best_run"]:
        out.print(f"best: model run {result['best_run']} (validation score {result['best_score']:.4f}); "
                  f"rank versions by their best trial with: curate compare DATASET --best-trials")
