"""The filtering report of a recipe run: rows kept and dropped per step and reason, the signals (for
histograms), samples of dropped rows per reason and before/after pairs of the mappers' edits.

``cascade`` recomputes the per-step counts for other thresholds from the stored signals alone, so the
Curate page's sliders update counts live without running any operator again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from curate.errors import NotFound
from curate.ops.cascade import Cascade
from curate.ops.outcome import RecipeCounters, StepCounts
from curate.ops.text import field_values
from curate.store import catalog
from curate.store import ops as store
from curate.store.workspace import Workspace


@dataclass
class Report:
    dataset: str
    task: str
    run: dict[str, Any]
    recipe: str
    counters: RecipeCounters
    filters: list[dict[str, Any]]          # step, op, signal, reason, min_score
    signals: pd.DataFrame                  # example_id + one column per signal
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)   # reason → dropped rows
    diffs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)     # op:<name> → before/after
    edits: dict[str, int] = field(default_factory=dict)

    @property
    def steps(self) -> list[StepCounts]:
        return self.counters.steps

    @property
    def dropped(self) -> dict[str, int]:
        return self.counters.dropped


def filter_steps(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The filter steps of a run's resolved params, with the signal each reads and reason it writes."""
    from curate.ops.registry import get

    out = []
    for i, step in enumerate(params.get("steps", []), start=1):
        op = get(step["op"])
        if op.kind != "filter":
            continue
        signal, reason = (step["signal"], step["reason"]) if op.name == "filter.threshold" else (op.signals[0], op.reason)
        out.append({"step": i, "op": op.name, "signal": signal, "reason": reason, "min_score": step["min_score"]})
    return out


def cascade(signals: pd.DataFrame, filters: list[dict[str, Any]],
            thresholds: dict[int, float] | None = None) -> tuple[list[dict[str, Any]], int]:
    """Per filter step: rows in, kept, dropped, under ``thresholds`` (step → min_score; default the run's),
    by the runner's own rule (``curate.ops.cascade``)."""
    thresholds = thresholds or {}
    cuts = Cascade(len(signals))
    rows = []
    for f in filters:
        min_score = thresholds[f["step"]] if f["step"] in thresholds else f["min_score"]
        values = signals[f["signal"]].to_numpy(dtype=np.float64) if f["signal"] in signals else np.full(len(signals), np.nan)
        cut = cuts.apply(values, min_score)
        rows.append({"step": f["step"], "op": f["op"], "reason": f["reason"], "min_score": min_score,
                     "rows_in": cut.rows_in, "dropped": int(cut.dropped.sum()), "kept": cut.kept})
    return rows, cuts.kept


def _preview(row: dict[str, Any], task: str, width: int = 300) -> str:
    frame = pd.DataFrame([row])
    text = field_values(frame, {"classification": "text", "sft": "all", "chat": "all"}[task]).to_pylist()[0]
    return text if len(text) <= width else text[: width - 1] + "…"


def report(workspace: Workspace, dataset: str, *, run_id: int | None = None, samples: int = 5) -> Report:
    """The report of a recipe run on ``dataset`` (default: its latest finished one)."""
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
        runs = [r for r in store.recipe_runs(con, ds["id"]) if r["status"] == "done"]
        if run_id is not None:
            runs = [r for r in runs if r["id"] == run_id]
        if not runs:
            what = f"run {run_id}" if run_id is not None else "no recipe run yet"
            raise NotFound(f"{dataset}: {what}; fix: run one with `curate run pipelines/<recipe>.yaml --dataset {dataset}`")
        run = runs[0]
        params = json.loads(run["params"])
        counters = RecipeCounters.from_json(json.loads(run["counters"] or "{}"))
        long = store.run_signals(con, run["id"]).to_pandas()
        issues = store.run_issues(con, run["id"]).to_pandas()
        by_reason: dict[str, list[int]] = {}
        for kind, group in issues.groupby("kind", sort=True):
            by_reason[kind] = group["example_id"].head(samples).astype(int).tolist()
        values = {r["id"]: r for r in store.values_after_run(con, run["id"], sorted({i for v in by_reason.values() for i in v}))}
        diffs_rows = store.run_edits(con, run["id"], limit_per_author=samples)
        edits = store.edit_counts(con, run["id"])
    signals = (long.pivot(index="example_id", columns="name", values="value").reset_index()
               if len(long) else pd.DataFrame({"example_id": []}))
    signals.columns.name = None
    details = issues.set_index("example_id")
    sample_rows = {}
    for reason, ids in by_reason.items():
        sample_rows[reason] = [{"id": i, "text": _preview(values[i], ds["task"]),
                                "detail": str(details.loc[i, "reason"] if not isinstance(details.loc[i, "reason"], pd.Series)
                                              else details.loc[i, "reason"].iloc[0])} for i in ids]
    diffs: dict[str, list[dict[str, Any]]] = {}
    for row in diffs_rows:
        diffs.setdefault(row["author"], []).append(row)
    return Report(dataset, ds["task"], run, params.get("recipe", "?"), counters, filter_steps(params), signals,
                  sample_rows, diffs, edits)


def mark(workspace: Workspace, dataset: str, example_ids: list[int], mark: str | None,
         author: str = "human:local") -> int:
    """Mark examples good or bad (None clears) for the quality classifier; returns how many were marked."""
    if mark not in ("good", "bad", None):
        raise ValueError("mark must be 'good', 'bad' or None")
    with workspace.transaction() as con:
        ds = catalog.get_dataset(con, dataset)
        found = store.add_marks(con, ds["id"], [int(i) for i in example_ids], mark, author)
        if found < len(set(example_ids)):   # raised inside the transaction: nothing is marked
            raise NotFound(f"{dataset}: {len(set(example_ids)) - found} of the ids are not examples of this "
                           f"dataset; fix: pick ids shown by `curate show {dataset}`")
    return found


def marks(workspace: Workspace, dataset: str) -> dict[int, str]:
    with workspace.connect() as con:
        return store.marks(con, catalog.get_dataset(con, dataset)["id"])
