"""Labelling settings shared by the CLI and the Label page: one pydantic model each, the only place
their defaults, bounds and descriptions are written (see ``curate.settings``)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

METHODS = ("embeddings", "finetune")
DEFAULT_FOLDS = {"embeddings": 5, "finetune": 3}
DEFAULT_EPOCHS = 2.0  # finetune: epochs per fold (1 epoch on a few hundred rows learns next to nothing)


class QuestionParams(BaseModel):
    """How many answers a question wants per example."""

    model_config = ConfigDict(extra="forbid")

    overlap: int = Field(1, ge=1, le=50, description="Answers wanted per example, from different annotators.")


class SuspectParams(BaseModel):
    """How label-error suspects are found (``curate.label.suspects``) and the score to accept them at."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    method: Literal["embeddings", "finetune"] = Field(
        "embeddings", description="Where the cross-validated probabilities come from: embeddings (LR on MiniLM "
                                  "embeddings, seconds) or finetune (MiniLM fine-tuned per fold, minutes).")
    folds: Optional[int] = Field(None, ge=2, le=20, description=f"Cross-validation folds; unset: "
                                 f"{DEFAULT_FOLDS['embeddings']} for embeddings, {DEFAULT_FOLDS['finetune']} for finetune.")
    epochs: float = Field(DEFAULT_EPOCHS, ge=0.1, le=20, description="finetune: epochs per fold.")
    model: Optional[str] = Field(None, description="finetune: a local model folder (default: the bundled MiniLM).")
    # 0.6: on 2,000 SST-2 sentences with 30 % flipped labels, accepting suspects scoring >= 0.6 leaves
    # 363 wrong labels of 600 (bench/loop.py; suspects module docstring).
    accept_above: float = Field(0.6, ge=0.0, le=1.0, description="Take the suggested label of suspects scoring "
                                                                  "at least this (1 = surely wrong).")


class PrelabelParams(BaseModel):
    """When pre-labels are retrained while annotating, and the confidence to accept them at."""

    model_config = ConfigDict(extra="forbid")

    retrain_every: int = Field(20, ge=1, le=10_000, description="Retrain the pre-label model after this many "
                                                                 "new answers.")
    accept_above: float = Field(0.95, ge=0.5, le=1.0, description="Accept every suggestion with at least this "
                                                                  "confidence.")
