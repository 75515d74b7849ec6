"""A run folder's checkpoints (``checkpoint-<step>/``, written by Trainer): the last whole one, and
removing them once a run is done. No heavy imports: the Train page asks whether a run can resume."""

from __future__ import annotations

from pathlib import Path


def last_checkpoint(folder: Path) -> Path | None:
    """The checkpoint of the highest step that was written whole (its ``trainer_state.json``, written
    last, is there): a worker killed while saving leaves the previous one to resume from."""
    whole = [p for p in folder.glob("checkpoint-*") if (p / "trainer_state.json").exists()
             and p.name.rsplit("-", 1)[-1].isdigit()]
    return max(whole, key=lambda p: int(p.name.rsplit("-", 1)[-1]), default=None)


def remove_checkpoints(folder: Path) -> None:
    """Delete a finished run's checkpoints (its TensorBoard logs stay)."""
    import shutil

    for path in folder.glob("checkpoint-*"):
        shutil.rmtree(path, ignore_errors=True)
