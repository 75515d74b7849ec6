"""Selection settings shared by ``curate select`` and the Select view: the only place their defaults,
bounds and descriptions are written (see ``curate.settings``)."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class SelectParams(BaseModel):
    """A budgeted selection's numeric settings (the strategy names live in ``strategies.STRATEGIES``)."""

    model_config = ConfigDict(extra="forbid")

    budget: Optional[int] = Field(None, ge=1, description="How many training rows to keep (no default: required "
                                                          "by every selection).")
    weight: float = Field(1.0, ge=0, le=100, description="Weight of a strategy in a mix: scores are averaged "
                                                          "by weight.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of random picks and tie-breaks.")
    compare_random: int = Field(0, ge=0, le=100, description="Also train K random subsets of the same size and "
                                                             "compare eval scores.")
