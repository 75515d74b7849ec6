"""What the fit shared by classification and SFT works with: its progress, hooks, validation and result
(``curate.train.fitting`` runs it), and the order of its batches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from curate.train.params import TrainParams


@dataclass
class Progress:
    step: int
    total_steps: int
    epoch: float
    loss: float                 # mean training loss since the previous report
    lr: float
    elapsed: float
    eta: float                  # seconds, from the mean step time so far
    val_loss: float | None = None
    val_score: float | None = None


@dataclass
class FitResult:
    steps: int
    total_steps: int
    seconds: float
    cancelled: bool = False
    stopped_early: bool = False
    best_val_score: float | None = None
    best_step: int | None = None
    eval_seconds: float = 0.0          # part of ``seconds`` spent evaluating on validation
    checkpoint_seconds: float = 0.0    # part of ``seconds`` spent writing checkpoints
    resumed_from: int | None = None    # the checkpoint's step when the run was resumed
    cpu_seconds: float = 0.0           # this process's CPU time during the fit (all its threads)
    history: list[Progress] = field(default_factory=list)


@dataclass
class Hooks:
    on_progress: Callable[[Progress], None] | None = None
    should_stop: Callable[[], bool] | None = None
    on_checkpoint: Callable[[], None] | None = None   # a checkpoint was written: make progress durable


@dataclass
class Validation:
    """What the fit evaluates on: encoded rows, a metric name (Trainer's ``eval_<metric>``) and whether
    higher is better; ``compute_metrics`` turns predictions into that metric (None: the loss)."""
    features: Sequence[dict[str, Any]]
    metric: str = "loss"
    higher_is_better: bool = False
    compute_metrics: Callable[[Any], dict[str, float]] | None = None


def steps_per_epoch(n_rows: int, batch_size: int) -> int:
    return max(1, math.ceil(n_rows / batch_size))


GROUP_BATCHES = 50  # group_by_length: batches per length-sorted group (as transformers' LengthGroupedSampler)


def batch_order(lengths: Sequence[int], params: TrainParams, epoch: int) -> list[list[int]]:
    """The batches of one epoch as lists of feature indices: a seeded shuffle; with ``group_by_length``
    each run of ``GROUP_BATCHES`` batches of that shuffle is sorted by length before it is cut into
    batches, and the full batches are shuffled again (the one short batch last), so a batch holds
    examples of similar length and the order flattened and cut again gives the same batches."""
    import torch

    generator = torch.Generator().manual_seed(params.seed + epoch)
    order = torch.randperm(len(lengths), generator=generator).tolist()
    size = params.batch_size
    if not params.group_by_length:
        return [order[i:i + size] for i in range(0, len(order), size)]
    group = size * GROUP_BATCHES
    batches = []
    for start in range(0, len(order), group):
        chunk = sorted(order[start:start + group], key=lambda i: lengths[i], reverse=True)
        batches += [chunk[i:i + size] for i in range(0, len(chunk), size)]
    short = [b for b in batches if len(b) < size]
    full = [b for b in batches if len(b) == size]
    return [full[i] for i in torch.randperm(len(full), generator=generator).tolist()] + short
