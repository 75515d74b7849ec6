"""The filter cascade, one rule for the runner and the report: filters apply in recipe order; a row
dropped by one filter is counted (and gets its one issue) at that filter only, and later filters see
only the rows still kept. A row whose signal is missing (NaN) passes (``curate.ops.filters.passes``).

The runner applies it while it executes a recipe (``curate.ops.steps``); the report re-applies it to the
stored signals under other thresholds, so the Curate page's sliders update counts without running
any operator again (``curate.ops.report.cascade``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.ops.filters import passes


@dataclass(frozen=True)
class Cut:
    """What one filter of the cascade did."""

    dropped: np.ndarray   # per row: dropped by this filter (only rows that reached it can be)
    rows_in: int          # rows that reached the filter
    kept: int             # rows that went on


class Cascade:
    """The rows still kept after the filters applied so far, over ``n`` rows."""

    def __init__(self, n: int) -> None:
        self.alive = np.ones(n, dtype=bool)

    def apply(self, values: np.ndarray, min_score: float) -> Cut:
        """Apply the next filter: drop the kept rows whose ``values`` are below ``min_score``."""
        flagged = self.alive & ~passes(values, min_score)
        cut = Cut(flagged, int(self.alive.sum()), int((self.alive & ~flagged).sum()))
        self.alive &= ~flagged
        return cut

    @property
    def kept(self) -> int:
        return int(self.alive.sum())
