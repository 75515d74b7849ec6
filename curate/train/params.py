"""Training settings: one pydantic model, every field described and bounded, typos refused."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

SCHEDULES = ("linear", "cosine", "constant")


class TrainParams(BaseModel):
    """What a model run is trained with; stored whole with the run so it can be repeated."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: Optional[str] = Field(None, description="Local model folder (default: the bundled MiniLM for "
                                                   "classification; required for sft/chat).")
    epochs: float = Field(3.0, gt=0, le=100, description="Passes over the training split.")
    lr: Optional[float] = Field(None, gt=0, le=1.0, description="Peak learning rate (AdamW); default 1e-4 for "
                                                                "classification, 5e-5 for sft/chat.")
    batch_size: int = Field(16, ge=1, le=4096, description="Examples per optimiser step.")
    warmup: float = Field(0.1, ge=0, le=1, description="Fraction of steps with a linear warm-up.")
    weight_decay: float = Field(0.01, ge=0, le=1, description="AdamW weight decay (not on biases/norms).")
    schedule: Literal["linear", "cosine", "constant"] = Field("linear", description="Learning-rate decay after warm-up.")
    max_length: int = Field(128, ge=8, le=8192, description="Tokens per example; longer ones are truncated.")
    seed: int = Field(0, ge=0, description="Seed for initialisation, shuffling and dropout.")
    patience: int = Field(2, ge=0, le=100, description="Early stopping: evaluations on validation without "
                                                       "improvement before stopping (0: never stop early).")
    evals_per_epoch: int = Field(1, ge=1, le=100, description="Validation evaluations per epoch.")
    max_grad_norm: float = Field(1.0, gt=0, le=1000, description="Gradient clipping norm.")
    group_by_length: bool = Field(False, description="Batch examples of similar length together (shuffled "
                                                     "in groups of 50 batches): far less padding, faster on CPU.")
    max_steps: Optional[int] = Field(None, ge=1, description="Stop after this many steps (overrides epochs).")
    lora: bool = Field(False, description="Train LoRA adapters (peft) instead of all weights.")
    lora_r: int = Field(8, ge=1, le=256, description="LoRA rank.")
    lora_alpha: int = Field(16, ge=1, le=1024, description="LoRA scaling alpha.")
    gen_max_new_tokens: int = Field(256, ge=1, le=4096, description="SFT exact match: tokens generated per item.")
    gen_limit: int = Field(100, ge=0, le=100000, description="SFT exact match: eval items generated per eval set.")
    baseline_c: float = Field(2.0, gt=0, le=1e6, description="Quick baseline: inverse regularisation of the "
                                                             "logistic regression.")


DEFAULT_LR = {"classification": 1e-4, "sft": 5e-5, "chat": 5e-5, "spans": 1e-4, "preference": 5e-6}


def resolved(params: TrainParams, task: str) -> TrainParams:
    """``params`` with task defaults filled in (the learning rate)."""
    if params.lr is None:
        return params.model_copy(update={"lr": DEFAULT_LR[task]})
    return params
