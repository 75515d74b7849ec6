"""The fit shared by classification and SFT, on ``transformers.Trainer`` (``curate.train.trainer``).

``fit`` trains a model on tokenised features: AdamW (no decay on biases and norms), warm-up then
linear/cosine/constant/exponential decay, gradient accumulation and clipping, mixed precision,
validation ``evals_per_epoch`` times an epoch with a checkpoint at each (the best and the last are
kept; early stopping restores the best weights), TensorBoard logs, data-parallel processes under
torchrun, and resume from the last checkpoint. Two hooks reach the caller: ``on_progress`` after every
optimiser step and ``should_stop`` (cancel); the runner writes progress to the store through them.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from curate.train.device import Device
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


@contextlib.contextmanager
def fit_folder(folder: Path | None):
    """Where a fit writes checkpoints and logs: ``(folder, True)``, or ``(a temporary folder, False)``
    removed afterwards (a fit outside a model run, which nobody will resume)."""
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        yield folder, True
        return
    with tempfile.TemporaryDirectory(prefix="curate-fit-") as tmp:
        yield Path(tmp), False


def fit(model, features: Sequence[dict[str, Any]], collate: Callable[[list], dict], params: TrainParams,
        device: Device, folder: Path, *, validation: Validation | None = None, hooks: Hooks | None = None,
        resume: bool = False, keep: bool = True) -> FitResult:
    """Train ``model`` on tokenised ``features``, checkpoints and logs in ``folder``; ``validation``
    drives early stopping and the choice of the best checkpoint. With ``resume`` the fit continues
    from the last checkpoint in ``folder``; without ``keep`` (a fit nobody will resume) checkpoints
    are written only where early stopping needs the best one. Returns when done, on early stop or
    on cancel."""
    import gc

    from curate.train.checkpoints import last_checkpoint
    from curate.train.trainer import build, result_of

    trainer, tracker = build(model, features, collate, params, device, folder, validation, hooks or Hooks(),
                             checkpoints=keep)
    checkpoint = last_checkpoint(folder) if resume else None
    # The rows, features and model are long-lived: freezing them keeps Python's full collections
    # (~0.1 s each with a few thousand rows loaded) from rescanning them during training.
    gc.collect()
    gc.freeze()
    try:
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    finally:
        gc.unfreeze()
    return result_of(trainer, tracker, checkpoint)
