"""Training settings: one pydantic model, every field described and bounded, typos refused.

``TrainParams`` is the only place a training default or bound is written: the CLI builds its options
from it (``curate/cli/_options.py``), the Train page its widgets (``curate/ui/params.py``), and
``curate.train.trainer`` maps it onto ``transformers.TrainingArguments``. Any other
``TrainingArguments`` field can be passed through ``args`` (``--arg name=value``); unknown names are
refused with the closest matches.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# TrainingArguments fields curate sets itself (from the fields below, or from the run's folder and
# evaluation plan): passing them through ``args`` would contradict the run's record.
OWNED_ARGS = {
    "learning_rate": "lr", "per_device_train_batch_size": "batch_size", "num_train_epochs": "epochs",
    "max_steps": "max_steps", "gradient_accumulation_steps": "grad_accum", "warmup_steps": "warmup",
    "weight_decay": "weight_decay", "lr_scheduler_type": "schedule", "lr_scheduler_kwargs": "schedule",
    "max_grad_norm": "max_grad_norm", "seed": "seed", "data_seed": "seed", "bf16": "precision",
    "fp16": "precision", "gradient_checkpointing": "gradient_checkpointing",
    "activation_checkpointing": "gradient_checkpointing", "output_dir": None,
    "eval_strategy": "evals_per_epoch", "eval_steps": "evals_per_epoch", "save_strategy": "evals_per_epoch",
    "save_steps": "evals_per_epoch", "load_best_model_at_end": "patience", "metric_for_best_model": None,
    "greater_is_better": None, "train_sampling_strategy": "group_by_length", "report_to": None,
    "logging_dir": None, "logging_steps": None, "logging_strategy": None, "save_total_limit": None,
    "use_cpu": None, "local_rank": "processes", "resume_from_checkpoint": "resume",
}


class TrainParams(BaseModel):
    """What a model run is trained with; stored whole with the run so it can be repeated."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: Optional[str] = Field(default=None, description="Local model folder (default: the bundled MiniLM for "
                                                   "classification; required for sft/chat).")
    epochs: float = Field(default=3.0, gt=0, le=100, description="Passes over the training split.")
    max_steps: Optional[int] = Field(default=None, ge=1, description="Stop after this many optimiser steps (overrides epochs).")
    lr: Optional[float] = Field(default=None, gt=0, le=1.0, description="Peak learning rate (AdamW); default 1e-4 for "
                                                                "classification, 5e-5 for sft/chat.")
    batch_size: int = Field(default=16, ge=1, le=4096, description="Examples per forward pass on each process; an "
                                                           "optimiser step sees batch_size x grad_accum x processes.")
    grad_accum: int = Field(default=1, ge=1, le=1024, description="Gradient accumulation: forward passes per optimiser step.")
    warmup: float = Field(default=0.1, ge=0, lt=1, description="Fraction of the steps with a linear warm-up.")
    warmup_steps: Optional[int] = Field(default=None, ge=0, description="Warm-up as a number of steps (overrides warmup).")
    weight_decay: float = Field(default=0.01, ge=0, le=1, description="AdamW weight decay (not on biases/norms).")
    schedule: Literal["linear", "cosine", "constant", "exponential"] = Field(
        default="linear", description="Learning-rate decay after warm-up (exponential: multiplied by gamma every step).")
    gamma: float = Field(default=0.999, gt=0, le=1, description="Exponential schedule: learning-rate factor per step.")
    dropout: Optional[float] = Field(default=None, ge=0, lt=1, description="Override every dropout probability of the "
                                                                   "model (default: the model's own).")
    freeze_embeddings: bool = Field(default=False, description="Keep the embedding weights fixed.")
    train_top_layers: Optional[int] = Field(default=None, ge=0, le=1000, description="Train only the top N transformer "
                                                                            "layers and the head (embeddings frozen too).")
    max_length: int = Field(default=128, ge=8, le=8192, description="Tokens per example; longer ones are truncated.")
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="Seed for initialisation, shuffling and dropout.")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        default="auto", description="auto: bf16 on a GPU that has it, else fp32; fp16 needs a GPU.")
    gradient_checkpointing: bool = Field(default=False, description="Recompute activations in the backward pass: "
                                                            "less memory, about 30 % slower.")
    patience: int = Field(default=2, ge=0, le=100, description="Early stopping: evaluations on validation without "
                                                       "improvement before stopping (0: never stop early).")
    evals_per_epoch: int = Field(default=1, ge=1, le=100, description="Validation evaluations (and checkpoints) per epoch.")
    max_grad_norm: float = Field(default=1.0, gt=0, le=1000, description="Gradient clipping norm.")
    group_by_length: bool = Field(default=False, description="Batch examples of similar length together (shuffled "
                                                     "in groups of 50 batches): far less padding, faster on CPU.")
    processes: int = Field(default=1, ge=1, le=64, description="Data-parallel training processes (torchrun; gloo on "
                                                       "CPU, NCCL on GPUs).")
    keep_checkpoints: bool = Field(default=False, description="Keep the best and last checkpoints after a run is done "
                                                      "(always kept while it can still be resumed).")
    lora: bool = Field(default=False, description="Train LoRA adapters (peft) instead of all weights.")
    lora_r: int = Field(default=8, ge=1, le=256, description="LoRA rank.")
    lora_alpha: int = Field(default=16, ge=1, le=1024, description="LoRA scaling alpha.")
    args: dict[str, Any] = Field(default_factory=dict, description="Other transformers TrainingArguments "
                                                                   "fields, passed through by name.")
    gen_max_new_tokens: int = Field(default=256, ge=1, le=4096, description="SFT exact match: tokens generated per item.")
    gen_limit: int = Field(default=100, ge=0, le=100000, description="SFT exact match: eval items generated per eval set.")
    dpo_beta: float = Field(default=0.1, gt=0, le=10, description="DPO (preference datasets): TRL's beta, the strength "
                                                          "of the pull toward the reference model (higher: "
                                                          "closer to it); also scales the reported reward margin.")
    baseline_c: float = Field(default=2.0, gt=0, le=1e6, description="Quick baseline: inverse regularisation of the "
                                                             "logistic regression.")

    @field_validator("args")
    @classmethod
    def _known_arguments(cls, args: dict[str, Any]) -> dict[str, Any]:
        for name in args:
            check_argument(name)
        return args

    @model_validator(mode="after")
    def _one_way_to_freeze(self) -> "TrainParams":
        if self.lora and (self.freeze_embeddings or self.train_top_layers is not None):
            raise ValueError("LoRA already freezes the base model; drop freeze_embeddings/train_top_layers")
        return self


def training_argument_names() -> list[str]:
    import dataclasses

    from transformers import TrainingArguments

    return [f.name for f in dataclasses.fields(TrainingArguments) if f.init]


def check_argument(name: str) -> None:
    """Refuse a pass-through name that TrainingArguments does not have, or that curate sets itself."""
    if name in OWNED_ARGS:
        own = OWNED_ARGS[name]
        raise ValueError(f"TrainingArguments.{name} is set by curate" +
                         (f"; use --{own.replace('_', '-')}" if own else " for every run"))
    names = training_argument_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3)
        raise ValueError(f"TrainingArguments has no field {name!r}" +
                         (f"; did you mean {', '.join(close)}?" if close else ""))


DEFAULT_LR = {"classification": 1e-4, "sft": 5e-5, "chat": 5e-5, "spans": 1e-4, "preference": 5e-6}


def resolved(params: TrainParams, task: str) -> TrainParams:
    """``params`` with task defaults filled in (the learning rate)."""
    if params.lr is None:
        return params.model_copy(update={"lr": DEFAULT_LR[task]})
    return params


def default(name: str, task: str | None = None) -> Any:
    """The default of a field, with the task's default where it has one (the learning rate)."""
    if name == "lr" and task:
        return DEFAULT_LR[task]
    return TrainParams.model_fields[name].get_default(call_default_factory=True)


def bounds(name: str, model: type[BaseModel] = TrainParams) -> tuple[float | None, float | None]:
    """The (lowest, highest) value a numeric field of ``model`` accepts (see ``curate.settings.bounds``)."""
    from curate.settings import bounds as field_bounds

    return field_bounds(model, name)
