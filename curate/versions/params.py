"""Version settings shared by ``curate version create`` and the Versions page: the only place their
defaults, bounds and descriptions are written (see ``curate.settings``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SplitParams(BaseModel):
    """How a new version's rows are split (ratios are normalised to sum to 1)."""

    model_config = ConfigDict(extra="forbid")

    train: float = Field(0.8, ge=0, le=1, description="Share of rows in the train split.")
    validation: float = Field(0.1, ge=0, le=1, description="Share of rows in the validation split.")
    test: float = Field(0.1, ge=0, le=1, description="Share of rows in the test split.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of the split assignment.")


RATIOS = ("train", "validation", "test")
DEFAULT_RATIOS: tuple[float, float, float] = tuple(SplitParams.model_fields[n].default for n in RATIOS)  # type: ignore[assignment]
DEFAULT_SPLIT = ",".join(f"{r:g}" for r in DEFAULT_RATIOS)   # "0.8,0.1,0.1", as --split takes it
