"""Typed results of the train layer: a ``ModelRun`` with its ``RunCounters``, a run's loss curve
(``ProgressPoint``), a wrong eval item (``Prediction``), a ``LeaderboardRow``, a ``BaselineGap`` and a
``Trainable`` dataset.

The library returns these frozen dataclasses; pages and commands read their attributes. ``to_json()``
gives the JSON the CLI prints (``--json``), in the shape and key order it always had: a run's params and
counters print exactly as they were stored with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from curate.train.params import TrainParams

FINAL = ("done", "failed", "cancelled")     # a run in one of these ends no other way
ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class RunCounters:
    """What a run recorded when it ended (empty while it runs, or when it failed): rows, eval sets and
    those refused (name → why), classes, its training loop (steps, seconds, best validation score) and
    the shaped tasks' losses and tags. A key a kind does not write stays None."""
    train_rows: int | None = None
    validation_rows: int | None = None
    eval_sets: int | None = None
    eval_refused: dict[str, str] = field(default_factory=dict)
    classes: list[str] | None = None
    seconds: float | None = None                 # the whole run, wall clock
    steps: int | None = None
    stopped_early: bool | None = None
    train_seconds: float | None = None
    val_eval_seconds: float | None = None
    checkpoint_seconds: float | None = None
    train_cpu_seconds: float | None = None
    progress_write_seconds: float | None = None
    resumed_from_step: int | None = None
    best_val_accuracy: float | None = None
    best_step: int | None = None
    best_val_loss: float | None = None
    chat_template: bool | None = None
    first_loss: float | None = None
    final_loss: float | None = None
    tags: list[str] | None = None
    stored: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, c: Mapping[str, Any]) -> RunCounters:
        known = {f.name for f in fields(cls)} - {"stored"}
        return cls(**{k: v for k, v in c.items() if k in known}, stored=dict(c))

    def to_json(self) -> dict[str, Any]:
        """The counters as stored with the run."""
        return dict(self.stored)


@dataclass(frozen=True)
class ModelRun:
    """One training (quick baseline or fine-tune) of one version, with its live progress
    (``step``/``total_steps``, ``loss``, ``phase``) and, once it ended, its counters and saved model."""
    id: int
    dataset: str
    dataset_id: int
    version: str
    kind: str                   # baseline | finetune
    task: str
    model: str | None           # the model folder it started from (None for the baseline)
    device: str | None
    pid: int | None
    cancel_requested: bool
    step: int | None
    total_steps: int | None
    epoch: float | None
    loss: float | None
    eta_seconds: float | None
    phase: str | None           # queued | loading | training | evaluating | saving | done
    artifact: str | None        # the saved model's folder, relative to the workspace
    status: str                 # queued | running | done | failed | cancelled
    message: str | None
    params: dict[str, Any]      # as stored: TrainParams' fields plus version, kind (and search)
    counters: RunCounters
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ModelRun:
        """From a row of ``store.train.get_model_run``/``list_model_runs`` (params and counters decoded)."""
        names = [f.name for f in fields(cls)]
        return cls(**{**{k: row[k] for k in names}, "params": dict(row["params"] or {}),
                      "counters": RunCounters.from_json(row["counters"] or {})})

    @property
    def ref(self) -> str:
        """The version trained on, as ``dataset:version``."""
        return f"{self.dataset}:{self.version}"

    @property
    def train_params(self) -> TrainParams:
        """The stored params as ``TrainParams`` (keys it does not know, e.g. ``search``, left out)."""
        from curate.train.params import TrainParams

        return TrainParams(**{k: v for k, v in self.params.items() if k in TrainParams.model_fields})

    @property
    def search(self) -> dict[str, Any] | None:
        """``{"id": search run, "trial": n}`` when the run is a trial of a hyperparameter search."""
        return self.params.get("search")

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def shown_loss(self) -> float | None:
        """The latest training loss, None before the first step (or when it is NaN)."""
        return self.loss if self.loss and self.loss == self.loss else None

    def to_json(self) -> dict[str, Any]:
        """A run as ``curate runs --json`` prints it (before its scores)."""
        return {f.name: getattr(self, f.name) for f in fields(self)} | {
            "params": dict(self.params), "counters": self.counters.to_json()}


@dataclass(frozen=True)
class ProgressPoint:
    """One point of a run's loss curve (validation values only where it evaluated)."""
    step: int
    epoch: float | None
    loss: float | None
    lr: float | None
    val_loss: float | None
    val_score: float | None


@dataclass(frozen=True)
class Prediction:
    """A run's answer on one eval item."""
    example_id: int
    text: str | None
    reference: str | None
    prediction: str | None
    correct: bool | None
    score: float | None


@dataclass(frozen=True)
class LeaderboardRow:
    """A finished run's ``metric`` on one eval set, ranked among runs of the same kind and label space
    there (``rank`` None when the eval set's labels are not the model's classes: ``mismatch``)."""
    run: int
    version: str
    kind: str
    eval_set: str
    label_space: str            # the model's classes, as one string
    mismatch: bool
    metric: str
    value: float | None
    model: str                  # model_label of the run
    started: datetime | None
    rank: int | None = None

    def to_json(self) -> dict[str, Any]:
        """One row of ``curate compare --json``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class BaselineGap:
    """An eval set where a fine-tune scores worse than the quick baseline of its version."""
    eval_set: str
    metric: str
    value: float
    baseline: float
    baseline_run: int


@dataclass(frozen=True)
class Trainable:
    """A dataset that has versions to train on."""
    task: str
    versions: list[str]         # newest first


def model_name(kind: str | None, model: str | None) -> str:
    """A short name for a run's model: the baseline, the bundled MiniLM, or the model folder's name."""
    from pathlib import Path

    if kind == "baseline":
        return "MiniLM embeddings + LR"
    if not model:
        return "?"
    from curate.embed import default_model_dir

    return "MiniLM (bundled)" if Path(model) == default_model_dir() else Path(model).name


__all__ = ["ACTIVE", "FINAL", "BaselineGap", "LeaderboardRow", "ModelRun", "Prediction", "ProgressPoint",
           "RunCounters", "Trainable", "model_name"]
