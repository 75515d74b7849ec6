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
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

from curate.train.device import Device
from curate.train.loop import FitResult, Hooks, Validation
from curate.train.params import TrainParams


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
