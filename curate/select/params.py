"""Selection settings shared by ``curate select`` and the Select view: the only place their defaults,
bounds and descriptions are written (see ``curate.settings``)."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


STRATEGIES: dict[str, str] = {
    "random": "a seeded random subset (the control)",
    "quality": "highest mean of the stored quality signals (recipe scores, quality_score) first",
    "diversity": "facility location over MiniLM embeddings: each pick covers the most rows not yet near a pick",
    "uncertainty": "smallest margin of the pre-label model first (for labelling budgets)",
    "clean": "leave out rows the suspects run flagged as likely label errors",
    "mix": "deita-like: quality x diversity (best quality first; a near-duplicate of a pick (cosine > 0.7) counts less)",
    "kcenter": "k-center greedy over MiniLM embeddings: each pick farthest from the picks so far (favours outliers)",
}


class SelectParams(BaseModel):
    """A budgeted selection's settings (the strategies themselves in ``STRATEGIES``)."""

    model_config = ConfigDict(extra="forbid")

    strategy: str = Field(default="mix", description="Strategies with optional weights, e.g. mix,clean or quality=2,diversity "
                                             "(" + ", ".join(STRATEGIES) + ").")
    balance: bool = Field(default=True, description="Keep the pool's class proportions.")
    budget: Optional[int] = Field(default=None, ge=1, description="How many training rows to keep (no default: required "
                                                          "by every selection).")
    weight: float = Field(default=1.0, ge=0, le=100, description="Weight of a strategy in a mix: scores are averaged "
                                                          "by weight.")
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="Seed of random picks and tie-breaks.")
    compare_random: int = Field(default=0, ge=0, description="Also train K random subsets of the same size and "
                                                             "compare eval scores.")
