"""Prove a selection: train it and K random subsets of the same size the same way, compare eval scores.

Training goes through the library's public entry points (``curate.train.start`` / ``wait``, the same
path as ``curate train``), one run at a time. The score compared is the metric on the first pinned
eval set every run was scored on, else on the version's own test split (a selected version keeps its
source's test rows, so every run sees the same items).
"""

from __future__ import annotations

import statistics
from typing import Any, Callable

from curate.errors import CurateError
from curate.select.core import Selection, create
from curate.store import catalog, select as store
from curate.store.workspace import Workspace
from curate.versions.refs import parse_ref


def _score(scores: dict[str, dict[str, float | None]], ref: str, metric: str) -> tuple[str | None, float | None]:
    pinned = [n for n in scores if not n.startswith(f"{ref}:")]
    for name in pinned + [f"{ref}:test", f"{ref}:validation"]:
        value = scores[name].get(metric) if name in scores else None
        if value is not None:
            return name, float(value)
    return None, None


def _version(made: Selection) -> str:
    """The version a selection wrote (``create`` with purpose ``train``, as here, always writes one)."""
    if made.ref is None:
        raise CurateError(f"selection {made.selection_id} made the labelling queue {made.queue!r}, not a version; "
                          f"fix: compare a selection made for training (--for train)")
    return made.ref


def train_and_score(workspace: Workspace, ref: str, *, finetune: bool, params=None, metric: str = "accuracy",
                    on_update: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train one version (quick baseline unless ``finetune``) and return its run id, eval set and score."""
    from curate import train as training

    run_id = training.start(workspace, ref, baseline=not finetune, params=params)
    if on_update:
        on_update(f"training {ref} (model run {run_id})")
    run = training.wait(workspace, run_id)
    if run.status != "done":
        raise CurateError(f"model run {run_id} on {ref} {run.status}: {run.message or ''}; "
                          f"fix: see its log {training.log_path(workspace, run_id)}")
    eval_set, value = _score(training.scores(workspace, run_id), ref, metric)
    return {"run": run_id, "version": ref, "eval_set": eval_set.replace(f"{ref}:", "own ") if eval_set else None,
            "metric": metric, "value": value}


def compare_random(workspace: Workspace, ref: str, budget: int, strategy: str, name: str, *, k: int = 3,
                   finetune: bool = False, params=None, seed: int = 0, balance: bool = True,
                   metric: str = "accuracy", on_update: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Create selection ``name`` and ``k`` random versions ``name-random<i>`` of the same size (seeds
    ``seed+1..seed+k``, same class balance), train each the same way and record the comparison.

    Returns ``{"selected": result, "random": [results], "random_mean", "random_spread" (sample standard
    deviation), "win" (selected − mean), "wins" (win > spread), "selection_id"}``."""
    if k < 1:
        raise CurateError("--compare-random needs at least 1 random subset; fix: e.g. --compare-random 3")
    made = create(workspace, ref, budget, strategy, name, seed=seed, balance=balance)
    made_ref = _version(made)
    selected = {**train_and_score(workspace, made_ref, finetune=finetune, params=params, metric=metric,
                                  on_update=on_update), "role": "selected"}
    randoms = []
    dataset, _ = parse_ref(ref)
    for i in range(1, k + 1):
        rand = create(workspace, ref, made.selected, "random", f"{name}-random{i}", seed=seed + i, balance=balance,
                      note=f"random control {i} of {k} for {made_ref}")
        randoms.append({**train_and_score(workspace, _version(rand), finetune=finetune, params=params, metric=metric,
                                          on_update=on_update), "role": "random"})
    values = [r["value"] for r in randoms if r["value"] is not None]
    mean = statistics.fmean(values) if values else None
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    win = None if mean is None or selected["value"] is None else selected["value"] - mean
    with workspace.transaction() as con:
        store.save_compare(con, made.selection_id, [selected, *randoms])
    return {"selection_id": made.selection_id, "ref": made_ref, "size": made.selected,
            "kind": "fine-tune" if finetune else "baseline", "metric": metric, "selected": selected,
            "random": randoms, "random_mean": mean, "random_spread": spread, "win": win,
            "wins": win is not None and win > spread, "dataset": dataset}


def comparisons(workspace: Workspace, dataset: str) -> list[dict[str, Any]]:
    """Every recorded random-subset comparison of a dataset (one row per model run)."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        return store.compares(con, ds["id"])
