"""A recipe's outcome as one wide row per example, and back: how batches leave a worker of a
scale-out engine (and a corpus's output Parquet) and how the local write-back reads them.

Columns (fixed by the recipe, so every batch has the same schema):

- ``id``;
- ``edit.<step>.<field>``: a mapper step's new value of a field, null where it left the value alone;
- ``signal.<name>``: every signal the recipe's scorers write (NaN: no evidence, or a skipped step);
- ``dropped_step`` (the filter step that dropped the row, null if kept), ``issue`` (its reason),
  ``issue_detail`` and ``issue_score``: the one issue a cascade gives a dropped row.

``from_columns`` rebuilds an ``Outcome`` whose counters equal the local engine's: edited rows per mapper
step, and per filter step the rows that reached it, were dropped there and went on (counted from
``dropped_step``: no threshold is applied twice).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.ops.outcome import Outcome, StepReport
from curate.ops.recipe import Recipe

EDIT, SIGNAL = "edit.", "signal."


def edit_columns(recipe: Recipe) -> list[tuple[str, int, str]]:
    """``(column, step index, field)`` of every mapper step and field, in the order edits are written."""
    return [(f"{EDIT}{s.index}.{f}", s.index, f) for s in recipe.steps if s.op.kind == "mapper"
            for f in s.params.fields or []]


def signal_names(recipe: Recipe) -> list[str]:
    return [name for s in recipe.steps if s.op.kind == "scorer" for name in s.op.signals]


def schema(recipe: Recipe) -> pa.Schema:
    fields = [pa.field("id", pa.int64())]
    fields += [pa.field(c, pa.string()) for c, _, _ in edit_columns(recipe)]
    fields += [pa.field(SIGNAL + n, pa.float64()) for n in signal_names(recipe)]
    fields += [pa.field("dropped_step", pa.int32()), pa.field("issue", pa.string()),
               pa.field("issue_detail", pa.string()), pa.field("issue_score", pa.float64())]
    return pa.schema(fields)


def to_columns(outcome, recipe: Recipe) -> pa.Table:
    """One row per example of ``outcome`` (an ``Outcome`` of ``steps.execute``)."""
    n = len(outcome.ids)
    position = {int(i): k for k, i in enumerate(outcome.ids)}
    cols: dict[str, pa.Array] = {"id": pa.array(outcome.ids, pa.int64())}
    by_author_field = {}
    for part in outcome.edits:
        if part.num_rows:
            author, fld = part.column("author")[0].as_py(), part.column("field")[0].as_py()
            by_author_field.setdefault((author, fld), []).append(part)
    for column, index, fld in edit_columns(recipe):
        values: list = [None] * n
        author = f"op:{recipe.steps[index - 1].op.name}"
        for part in by_author_field.get((author, fld), [])[:1]:   # one table per mapper step and field
            by_author_field[(author, fld)] = by_author_field[(author, fld)][1:]
            for i, v in zip(part.column("example_id").to_pylist(), part.column("value").to_pylist()):
                values[position[i]] = v
        cols[column] = pa.array(values, pa.string())
    for name in signal_names(recipe):
        cols[SIGNAL + name] = pa.array(outcome.signals.get(name, np.full(n, np.nan)), pa.float64())
    issues = outcome.issues.to_pydict()
    detail, score = [None] * n, [None] * n
    for i, d, s in zip(issues["example_id"], issues["reason"], issues["score"]):
        detail[position[int(i)]], score[position[int(i)]] = d, s
    reasons = list(outcome.dropped_by)
    cols["dropped_step"] = pa.array(np.where(outcome.dropped_at > 0, outcome.dropped_at, None), pa.int32())
    cols["issue"] = pa.array(reasons, pa.string())
    cols["issue_detail"] = pa.array(detail, pa.string())
    cols["issue_score"] = pa.array(score, pa.float64())
    return pa.Table.from_pydict(cols, schema=schema(recipe))


def from_columns(table: pa.Table, recipe: Recipe):
    """The ``Outcome`` of all rows of ``table`` (any order; rebuilt in id order)."""

    table = table.sort_by("id")
    ids = table.column("id").to_numpy()
    n = len(ids)
    edits, edited = [], {}
    for column, index, fld in edit_columns(recipe):
        col = table.column(column)
        changed = pc.is_valid(col)
        if pc.any(changed).as_py():
            part = table.filter(changed)
            edits.append(pa.table({"example_id": part.column("id"),
                                   "field": pa.array([fld] * part.num_rows, pa.string()),
                                   "value": part.column(column),
                                   "author": pa.array([f"op:{recipe.steps[index - 1].op.name}"] * part.num_rows,
                                                      pa.string())}))
            edited[index] = edited.get(index, 0) + part.num_rows
    signals = {name: table.column(SIGNAL + name).to_numpy() for name in signal_names(recipe)}
    dropped_step = table.column("dropped_step").fill_null(0).to_numpy()
    steps, values = np.unique(dropped_step[dropped_step > 0], return_counts=True)
    reports = step_reports(recipe, n, dict(zip(steps.tolist(), values.tolist())), edited)
    dropped = table.filter(pc.is_valid(table.column("issue")))
    issues = pa.table({"example_id": dropped.column("id"), "kind": dropped.column("issue"),
                       "reason": dropped.column("issue_detail"), "score": dropped.column("issue_score")})
    dropped_by = np.array(table.column("issue").to_pylist(), dtype=object)
    return Outcome(ids, edits, signals, dropped_by, issues, reports, dropped_step.astype(np.int32))


def step_reports(recipe: Recipe, total: int, dropped: dict[int, int], edited: dict[int, int]) -> list:
    """Per step: rows edited (mappers); rows in, kept and dropped (filters), from the number of rows each
    filter step dropped (``dropped``: step index → rows) and of edits each mapper step made."""

    reports, alive = [], total
    for s in recipe.steps:
        r = StepReport(s.index, s.op.name, s.op.kind, edited=edited.get(s.index, 0))
        if s.op.kind == "filter":
            here = dropped.get(s.index, 0)
            r.rows_in, r.kept = alive, alive - here
            r.dropped = {s.reads[1]: here} if here else {}
            alive -= here
        reports.append(r)
    return reports


def signals_long(outcome) -> pa.Table:
    """Signals as ``example_id, name, value`` rows; a missing value (no evidence) is no row."""
    values = np.concatenate(list(outcome.signals.values())) if outcome.signals else np.zeros(0)
    present = ~np.isnan(values)
    return pa.table({
        "example_id": pa.array(np.tile(outcome.ids, len(outcome.signals))[present], pa.int64()),
        "name": pa.array(np.repeat(np.array(list(outcome.signals), dtype=object), len(outcome.ids))[present].tolist(),
                         pa.string()),
        "value": pa.array(values[present], pa.float64())})
