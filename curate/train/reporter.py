"""The worker's link to the store: progress points written every few seconds, the cancel flag read."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable

from curate.errors import StoreBusy
from curate.store import train as store
from curate.store.workspace import Workspace, retry_conflicts
from curate.train.loop import Hooks, Progress

# How often a worker writes progress (and reads the cancel flag). A write attaches the store (~10 ms)
# and costs the next training step another ~40 ms on 2 cores: every 5 s keeps that near 1 % of
# training time (bench/train.py prints the write share and the overhead against a plain loop).
FLUSH_SECONDS = 5.0


class Cancelled(Exception):
    pass


def write(workspace: Workspace, fn: Callable[[Any], Any]) -> Any:
    with workspace.transaction() as con:
        return fn(con)


class StoreReporter:
    """Training hooks that buffer progress and write it (and read the cancel flag) every
    ``FLUSH_SECONDS`` in short transactions; a busy store only delays the write, never training."""

    def __init__(self, workspace: Workspace, run_id: int, *, folder: Path | None = None, resume: bool = False,
                 device: Any = None) -> None:
        self.workspace, self.run_id = workspace, run_id
        self.folder, self.resume, self.device = folder, resume, device
        self.buffer: list[dict[str, Any]] = []
        self.cancelled = False
        self.last = 0.0
        self.seconds = 0.0  # time spent writing progress (the loop's only overhead over a bare loop)

    def hooks(self) -> Hooks:
        return Hooks(on_progress=self.on_progress, should_stop=self.should_stop, on_checkpoint=self.flush)

    def fit_options(self) -> dict[str, Any]:
        """The keyword arguments of ``classify.train`` / ``sft.train`` for this run."""
        return {"device": self.device, "hooks": self.hooks(), "folder": self.folder, "resume": self.resume}

    def on_progress(self, p: Progress) -> None:
        self.buffer.append({"step": p.step, "total_steps": p.total_steps, "epoch": p.epoch, "loss": p.loss,
                            "lr": p.lr, "eta": p.eta, "val_loss": p.val_loss, "val_score": p.val_score})
        if time.monotonic() - self.last >= FLUSH_SECONDS or p.step == p.total_steps:
            self.flush()

    def should_stop(self) -> bool:
        if time.monotonic() - self.last >= FLUSH_SECONDS:
            self.flush()
        return self.cancelled

    def flush(self) -> None:
        self.last = started = time.monotonic()
        points = self.buffer
        try:
            self.cancelled = retry_conflicts(lambda: write(self.workspace,
                                                       lambda con: store.write_progress(con, self.run_id, points)))
        except StoreBusy:
            return  # keep the points; the next flush writes them
        finally:
            self.seconds += time.monotonic() - started
        self.buffer = []

    def phase(self, phase: str) -> None:
        try:
            self.cancelled = retry_conflicts(lambda: write(self.workspace, lambda con: (
                store.set_phase(con, self.run_id, phase), store.cancel_requested(con, self.run_id))[1]))
        except StoreBusy:
            pass
        # Under torchrun the other processes are already waiting for this one in training: a cancel
        # is then honoured by the training callback, on every process at the same step.
        if self.cancelled and not (phase == "training" and int(os.environ.get("WORLD_SIZE", "1")) > 1):
            raise Cancelled()
