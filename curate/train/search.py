"""Hyperparameter search with Optuna: every trial is a recorded model run, grouped under one search.

``search(workspace, "sst2:v2", TrainParams(...), "lr=1e-5:1e-3:log,batch_size=16|32", trials=8)``
records a search (a ``runs`` row of kind ``search``), then for each trial asks Optuna for values,
starts a model run with them (a worker process, as ``curate train`` does), waits, and tells Optuna the
run's best *validation* score (accuracy, or minus the loss for sft/chat) — never an eval set's, so
the eval sets stay unseen by the choice. The best trial is marked in the search's record; Compare can
then rank versions by their best trial (``leaderboard(..., best_trials=True)``).

Space: ``name=low:high`` (uniform), ``name=low:high:log`` (log-uniform), ``name=a|b|c`` (choices), for
any numeric, boolean or choice field of ``TrainParams``. Samplers: ``tpe`` (default, Bayesian),
``random``, ``grid`` (choices only; every combination once).
"""

from __future__ import annotations

import difflib
import itertools
import json
import typing
from dataclasses import dataclass
from typing import Any, Callable

from curate.errors import InputError
from curate.store import catalog, train as store
from curate.store.workspace import Workspace, retry_conflicts
from curate.train.model import ModelRun
from curate.train.params import TrainParams
from curate.train.reporter import write

SAMPLERS = ("tpe", "random", "grid")
DEFAULT_TRIALS = 10
NOT_SEARCHABLE = ("model", "args", "processes", "keep_checkpoints", "gen_max_new_tokens", "gen_limit", "baseline_c")


@dataclass(frozen=True)
class Dimension:
    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple | None = None
    integer: bool = False

    @property
    def bounds(self) -> tuple[float, float]:
        """A range's ``(low, high)``; a dimension of choices has none."""
        if self.low is None or self.high is None:
            raise ValueError(f"{self.name} is a dimension of choices, not a range")
        return self.low, self.high

    def suggest(self, trial) -> Any:
        if self.choices is not None:
            return trial.suggest_categorical(self.name, list(self.choices))
        low, high = self.bounds
        if self.integer:
            return trial.suggest_int(self.name, int(low), int(high), log=self.log)
        return trial.suggest_float(self.name, low, high, log=self.log)


def _searchable() -> list[str]:
    return [n for n in TrainParams.model_fields if n not in NOT_SEARCHABLE]


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_space(spec: str) -> list[Dimension]:
    """``lr=1e-5:1e-3:log,batch_size=16|32`` as dimensions; each value checked against TrainParams."""
    dims = []
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in _searchable():
            close = difflib.get_close_matches(name, _searchable(), n=3)
            raise InputError(f"--search {part}", f"{name!r} is not a searchable setting",
                             fix=f"use name=low:high[:log] or name=a|b with one of: {', '.join(close or _searchable())}")
        annotation = TrainParams.model_fields[name].annotation
        integer = int in (annotation, *typing.get_args(annotation))
        if "|" in value:
            dim = Dimension(name, choices=tuple(_value(v.strip()) for v in value.split("|")))
        elif value.count(":") in (1, 2):
            low, high, *log = value.split(":")
            if log not in ([], ["log"]):
                raise InputError(f"--search {part}", "a range is low:high or low:high:log", fix=f"e.g. {name}=1e-5:1e-3:log")
            dim = Dimension(name, float(low), float(high), bool(log), integer=integer)
            if dim.bounds[0] >= dim.bounds[1]:
                raise InputError(f"--search {part}", "the range is empty", fix="write the lower bound first")
        else:
            raise InputError(f"--search {part}", "expected a range low:high[:log] or choices a|b",
                             fix=f"e.g. {name}=1e-5:1e-3:log or {name}=16|32")
        for v in dim.choices or (dim.low, dim.high):
            _check(name, v, part)
        dims.append(dim)
    if not dims:
        raise InputError("--search", "an empty search space", fix="e.g. --search lr=1e-5:1e-3:log,batch_size=16|32")
    return dims


def _check(name: str, value: Any, part: str) -> None:
    from pydantic import ValidationError

    try:
        TrainParams(**{name: value})
    except ValidationError as exc:
        raise InputError(f"--search {part}", f"{value!r}: {exc.errors()[0]['msg']}",
                         fix="see `curate train --help` for the allowed values") from None


def sampler_for(name: str, dims: list[Dimension], seed: int):
    import optuna

    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        ranges = [d.name for d in dims if d.choices is None]
        if ranges:
            raise InputError("--sampler grid", f"grid search needs choices, not ranges ({', '.join(ranges)})",
                             fix="write them as a|b|c, or use --sampler tpe")
        return optuna.samplers.GridSampler({d.name: list(d.choices or ()) for d in dims}, seed=seed)
    raise InputError(f"--sampler {name}", "unknown sampler", fix=f"pick one of: {', '.join(SAMPLERS)}")


def grid_size(dims: list[Dimension]) -> int:
    """Trials of a grid search (``sampler_for`` refuses ranges in a grid before it is asked)."""
    return len(list(itertools.product(*[d.choices or () for d in dims])))


def search(workspace: Workspace, ref: str, params: TrainParams, space: str, *, trials: int | None = None,
           sampler: str | None = None, on_trial: Callable[[int, int, dict], ModelRun] | None = None) -> dict[str, Any]:
    """Run a search of ``trials`` model runs; returns the search record (``best_run``, ``trials``).
    ``on_trial(number, run_id, values)`` follows a started trial and returns the finished run (default:
    ``runner.wait``)."""
    import optuna

    from curate import versions
    from curate.train.launch import start
    from curate.train.runner import wait

    dims, sampler = parse_space(space), sampler or SAMPLERS[0]
    chosen = sampler_for(sampler, dims, params.seed)
    trials = trials or (grid_size(dims) if sampler == "grid" else DEFAULT_TRIALS)
    if not versions.load_rows(workspace, ref, split="validation"):
        raise InputError(ref, "a search chooses on the validation split and this version has none",
                         fix="create a version with a validation split (e.g. --split 0.8,0.1,0.1)")
    search_id = _record(workspace, ref, params, space, sampler, trials)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=chosen)
    done: list[dict[str, Any]] = []
    try:
        for _ in range(trials):
            trial = study.ask()
            values = {d.name: d.suggest(trial) for d in dims}
            run_id = start(workspace, ref, params=params.model_copy(update=values),
                           search={"id": search_id, "trial": trial.number})
            run = on_trial(trial.number, run_id, values) if on_trial else wait(workspace, run_id)
            score = objective(run)
            study.tell(trial, score, state=None if score is not None else optuna.trial.TrialState.FAIL)
            done.append({"trial": trial.number, "run": run_id, "params": values, "score": score,
                         "status": run.status})
            if run.status == "cancelled":
                break
    finally:  # also when interrupted (Ctrl-C): the record says how far it got
        result = _finish(workspace, search_id, done, complete=len(done) == trials)
    return result


def objective(run: ModelRun) -> float | None:
    """A finished trial's score: its best validation accuracy, or minus its best validation loss."""
    if run.status != "done":
        return None
    c = run.counters
    if c.best_val_accuracy is not None:
        return float(c.best_val_accuracy)
    return -float(c.best_val_loss) if c.best_val_loss is not None else None


def _record(workspace: Workspace, ref: str, params: TrainParams, space: str, sampler: str, trials: int) -> int:
    from curate import versions
    from curate.train.runner import libraries

    dataset, version = versions.parse_ref(ref)
    with workspace.connect() as con:
        dataset_id = catalog.get_dataset(con, dataset)["id"]
    record = {"version": version, "space": space, "sampler": sampler, "trials": trials, "base": params.model_dump()}
    return retry_conflicts(lambda: write(workspace, lambda con: store.create_search(con, dataset_id, record,
                                                                                    libraries())))


def _finish(workspace: Workspace, search_id: int, done: list[dict[str, Any]], *, complete: bool) -> dict[str, Any]:
    scored = [t for t in done if t["score"] is not None]
    best = max(scored, key=lambda t: t["score"]) if scored else None
    counters = {"trials": done, "best_run": best["run"] if best else None,
                "best_score": best["score"] if best else None}
    status = "cancelled" if not complete else "done" if best else "failed"
    message = None if complete else f"stopped after {len(done)} trial(s)"
    retry_conflicts(lambda: write(workspace, lambda con: catalog.finish_run(
        con, search_id, counters, status=status, message=message or (None if best else "no trial finished"))))
    return {"id": search_id, "status": status, **counters}


def searches(workspace: Workspace, dataset: str) -> list[dict[str, Any]]:
    """The searches of a dataset, oldest first, each with its trials so far (run, trial, params,
    score, status) and its best run (the highest validation score; also while it runs)."""
    with workspace.connect() as con:
        dataset_id = catalog.get_dataset(con, dataset)["id"]
        found = store.list_searches(con, dataset_id)
        model_runs = [ModelRun.from_row(r) for r in store.list_model_runs(con, dataset_id)]
    names = {s["id"]: [d.name for d in parse_space(s["params"]["space"])] for s in found}
    by_search: dict[int, list[dict[str, Any]]] = {}
    for run in model_runs:
        tag = run.search
        if tag and tag["id"] in names:
            by_search.setdefault(tag["id"], []).append(
                {"trial": tag["trial"], "run": run.id, "params": {n: run.params.get(n) for n in names[tag["id"]]},
                 "score": objective(run), "status": run.status})
    out = []
    for s in found:
        trials = by_search.get(s["id"], [])
        scored = [t for t in trials if t["score"] is not None]
        best = max(scored, key=lambda t: t["score"]) if scored else None
        out.append({"id": s["id"], "status": s["status"], "version": s["params"]["version"],
                    "space": s["params"]["space"], "sampler": s["params"]["sampler"],
                    "planned": s["params"]["trials"], "trials": trials, "best_run": best["run"] if best else None})
    return out


def best_trials(workspace: Workspace, dataset: str) -> tuple[set[int], set[int]]:
    """(runs that are the best trial of their search, runs that are trials of a search)."""
    found = searches(workspace, dataset)
    return ({s["best_run"] for s in found if s["best_run"]},
            {t["run"] for s in found for t in s["trials"]})
