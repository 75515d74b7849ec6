"""What running a recipe's steps over a batch gives: a report per step and the batch's ``Outcome``
(edits, signals, the filter that dropped each row, issues), and the run's counters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa


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

    def as_dict(self) -> dict[str, Any]:
        out = {"step": self.index, "op": self.op, "kind": self.kind, "seconds": round(self.seconds, 3)}
        if self.kind == "mapper":
            out["edited"] = self.edited
        if self.kind == "filter":
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

    def counters(self) -> dict[str, Any]:
        return summarize(self.steps, total=len(self.ids), kept=int(sum(r is None for r in self.dropped_by)),
                         edits=int(sum(t.num_rows for t in self.edits)))


def summarize(steps: list[StepReport], *, total: int, kept: int, edits: int) -> dict[str, Any]:
    """A run's counters: ``total``, ``kept``, ``dropped_<reason>``, ``edits`` and the per-step reports."""
    out: dict[str, Any] = {"total": int(total), "kept": int(kept)}
    for step in steps:
        for reason, n in step.dropped.items():
            out[f"dropped_{reason}"] = out.get(f"dropped_{reason}", 0) + n
    out["edits"] = int(edits)
    out["steps"] = [s.as_dict() for s in steps]
    return out
