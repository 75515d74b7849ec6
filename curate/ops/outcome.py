"""What running a recipe's steps over a batch gives: a report per step and the batch's ``Outcome``
(edits, signals, the filter that dropped each row, issues), and the run's ``RecipeCounters``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np
import pyarrow as pa

DROPPED = "dropped_"    # counters key prefix: rows dropped per reason (dropped_too_short, ...)


@dataclass
class StepReport:
    index: int
    op: str
    kind: str
    rows_in: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    edited: int = 0
    skipped: str | None = None
    seconds: float = 0.0

    def counts(self) -> StepCounts:
        """What the run's counters keep of the step."""
        filtered = self.kind == "filter"
        return StepCounts(self.index, self.op, self.kind, round(self.seconds, 3),
                          edited=self.edited if self.kind == "mapper" else None,
                          rows_in=self.rows_in if filtered else None, kept=self.kept if filtered else None,
                          dropped=dict(self.dropped) if filtered else {}, skipped=self.skipped or None)


@dataclass(frozen=True)
class StepCounts:
    """One step of a run as its counters keep it: a mapper's rows edited, a filter's rows in, kept and
    dropped per reason (``None`` where the kind has none), and why the step was skipped."""

    step: int
    op: str
    kind: str
    seconds: float
    edited: int | None = None
    rows_in: int | None = None
    kept: int | None = None
    dropped: dict[str, int] = field(default_factory=dict)    # reason -> rows
    skipped: str | None = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> StepCounts:
        return cls(d["step"], d["op"], d["kind"], d.get("seconds", 0.0), edited=d.get("edited"),
                   rows_in=d.get("rows_in"), kept=d.get("kept"), dropped=dict(d.get("dropped", {})),
                   skipped=d.get("skipped"))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"step": self.step, "op": self.op, "kind": self.kind, "seconds": self.seconds}
        if self.edited is not None:
            out["edited"] = self.edited
        if self.rows_in is not None:
            out.update(rows_in=self.rows_in, kept=self.kept, dropped=self.dropped)
        if self.skipped:
            out["skipped"] = self.skipped
        return out


@dataclass
class Outcome:
    """What ``execute`` computed for one batch of rows."""

    ids: np.ndarray
    edits: list[pa.Table]               # one table per mapper step: example_id, field, value, author
    signals: dict[str, np.ndarray]
    dropped_by: np.ndarray              # per row: the reason of the filter that dropped it, else None
    issues: pa.Table
    steps: list[StepReport]
    dropped_at: np.ndarray              # per row: the index of the filter step that dropped it, else 0

    def counters(self) -> RecipeCounters:
        return summarize(self.steps, total=len(self.ids), kept=int(sum(r is None for r in self.dropped_by)),
                         edits=int(sum(t.num_rows for t in self.edits)))


@dataclass(frozen=True)
class RecipeCounters:
    """A recipe run's counters: rows read and kept, rows dropped per reason, edits, the report of each
    step, and the run's seconds (a run in a store has them, a corpus report not). ``to_json()`` is what
    the ``runs`` table stores and ``curate report --json`` prints."""

    total: int
    kept: int
    dropped: dict[str, int]             # reason -> rows dropped, in step order
    edits: int
    steps: list[StepCounts]
    seconds: float | None = None

    @classmethod
    def from_json(cls, c: Mapping[str, Any]) -> RecipeCounters:
        return cls(total=c.get("total", 0), kept=c.get("kept", 0),
                   dropped={k[len(DROPPED):]: n for k, n in c.items() if k.startswith(DROPPED)},
                   edits=c.get("edits", 0), steps=[StepCounts.from_json(s) for s in c.get("steps", [])],
                   seconds=c.get("seconds"))

    @property
    def removed(self) -> int:
        """Rows dropped by any filter."""
        return self.total - self.kept

    def timed(self, seconds: float) -> RecipeCounters:
        return replace(self, seconds=seconds)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"total": self.total, "kept": self.kept,
                               **{f"{DROPPED}{reason}": n for reason, n in self.dropped.items()},
                               "edits": self.edits, "steps": [s.to_json() for s in self.steps]}
        if self.seconds is not None:
            out["seconds"] = self.seconds
        return out


def summarize(steps: list[StepReport], *, total: int, kept: int, edits: int) -> RecipeCounters:
    """A run's counters from its step reports: ``total``, ``kept``, rows dropped per reason, ``edits``."""
    dropped: dict[str, int] = {}
    for step in steps:
        for reason, n in step.dropped.items():
            dropped[reason] = dropped.get(reason, 0) + n
    return RecipeCounters(int(total), int(kept), dropped, int(edits), [s.counts() for s in steps])
