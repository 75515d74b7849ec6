"""curate's fits on ``transformers.Trainer``: ``TrainParams`` mapped onto ``TrainingArguments``, the
seeded batch order (optionally grouped by length), the exponential schedule, and the callbacks that
report progress, cancel, stop early and write TensorBoard logs.

A run's folder holds ``checkpoint-<step>/`` (one per evaluation; the best and the last are kept) and
``tensorboard/`` (``tensorboard --logdir <folder>/tensorboard``).
"""

from __future__ import annotations

import time
from pathlib import Path

from torch.utils.data import Sampler
from transformers import EarlyStoppingCallback, PrinterCallback, Trainer, TrainerCallback, TrainingArguments

from curate.train.device import Device
from curate.train.loop import FitResult, Hooks, Progress, Validation, batch_order, steps_per_epoch
from curate.train.params import TrainParams

SCHEDULERS = {"linear": "linear", "cosine": "cosine", "constant": "constant_with_warmup",
              "exponential": "constant_with_warmup"}  # exponential: built by CurateTrainer.create_scheduler


def world_size() -> int:
    """Processes training together (torchrun sets WORLD_SIZE and RANK)."""
    import os

    return int(os.environ.get("WORLD_SIZE", "1"))


def world_rank() -> int:
    import os

    return int(os.environ.get("RANK", "0"))


def arguments(params: TrainParams, device: Device, folder: Path, validation: Validation | None,
              n_train: int, *, checkpoints: bool = True) -> TrainingArguments:
    """The TrainingArguments of a run: every field from ``params`` (and ``params.args`` passed through);
    a checkpoint at each evaluation (``checkpoints``: also without validation, to resume from)."""
    per_epoch = max(1, steps_per_epoch(n_train, params.batch_size * world_size()) // params.grad_accum)
    every = max(1, per_epoch // params.evals_per_epoch)
    val = validation if validation and validation.features else None
    evaluates = val is not None
    warmup = params.warmup_steps if params.warmup_steps is not None else params.warmup
    if params.lr is None:
        raise ValueError("params.lr is not set: pass params through curate.train.params.resolved first")
    return TrainingArguments(
        output_dir=str(folder), per_device_train_batch_size=params.batch_size,
        per_device_eval_batch_size=max(params.batch_size, 32), gradient_accumulation_steps=params.grad_accum,
        num_train_epochs=params.epochs, max_steps=params.max_steps or -1, learning_rate=params.lr,
        weight_decay=params.weight_decay, max_grad_norm=params.max_grad_norm, warmup_steps=warmup,
        lr_scheduler_type=SCHEDULERS[params.schedule], seed=params.seed, data_seed=params.seed,
        bf16=device.precision == "bf16", fp16=device.precision == "fp16", use_cpu=device.name == "cpu",
        activation_checkpointing=params.gradient_checkpointing,
        eval_strategy="steps" if evaluates else "no", eval_steps=every, save_steps=every,
        save_strategy="steps" if checkpoints or evaluates else "no",
        # best and last: with 2 Trainer keeps the best plus the newest (with 1 it would delete the last
        # at the end of a cancelled run, leaving nothing to resume from)
        save_total_limit=2 if evaluates else 1, load_best_model_at_end=evaluates,
        metric_for_best_model=val.metric if val else None,
        greater_is_better=val.higher_is_better if val else None,
        prediction_loss_only=bool(val and val.compute_metrics is None),
        restore_callback_states_from_checkpoint=True, logging_strategy="steps", logging_steps=1,
        report_to="none", disable_tqdm=True, log_level="warning", remove_unused_columns=False,
        label_names=["labels"], dataloader_pin_memory=device.name == "cuda",
        ddp_backend=("nccl" if device.name == "cuda" else "gloo") if world_size() > 1 else None,
        **params.args)


class BatchOrderSampler(Sampler[int]):
    """The indices of ``batch_order`` flattened: the DataLoader cuts them into the same batches."""

    def __init__(self, lengths: list[int], params: TrainParams) -> None:
        self.lengths, self.params, self.epoch = lengths, params, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        return iter([i for batch in batch_order(self.lengths, self.params, self.epoch) for i in batch])

    def __len__(self) -> int:
        return len(self.lengths)


class CurateTrainer(Trainer):
    """Trainer with curate's batch order, the exponential schedule, and checkpoint timing."""

    def __init__(self, *args, params: TrainParams, lengths: list[int], before_save=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.curate_params, self.lengths, self.before_save = params, lengths, before_save
        self.checkpoint_seconds = 0.0
        # Trainer hands ``num_items_in_batch`` to models that take ``**kwargs`` and then leaves the loss
        # unscaled under gradient accumulation; a causal LM sums its token losses by it, but a sequence
        # classifier ignores it and averages per batch: 4 accumulated batches gave 4x the loss and
        # gradient (tests/test_train_controls.py). Only causal LMs get it.
        self.model_accepts_loss_kwargs = self.model_accepts_loss_kwargs and \
            type(self.model).__name__.endswith("ForCausalLM")

    def _get_train_sampler(self, train_dataset=None):
        return BatchOrderSampler(self.lengths, self.curate_params)

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        if self.curate_params.schedule == "exponential" and self.lr_scheduler is None:
            self.lr_scheduler = exponential_schedule(optimizer or self.optimizer,
                                                     self.args.get_warmup_steps(num_training_steps),
                                                     self.curate_params.gamma)
            self._created_lr_scheduler = True
        return super().create_scheduler(num_training_steps, optimizer)

    def _save_checkpoint(self, model, trial) -> None:
        if self.before_save:
            self.before_save()
        started = time.perf_counter()
        super()._save_checkpoint(model, trial)
        self.checkpoint_seconds += time.perf_counter() - started


def exponential_schedule(optimizer, warmup: int, gamma: float):
    """Linear warm-up over ``warmup`` steps, then the learning rate times ``gamma`` every step."""
    from torch.optim.lr_scheduler import LambdaLR

    def factor(step: int) -> float:
        return step / max(1, warmup) if step < warmup else gamma ** (step - warmup)
    return LambdaLR(optimizer, factor)


class Tracker(TrainerCallback):
    """Reports a ``Progress`` after every optimiser step (with the validation scores on evaluation
    steps), polls the cancel hook (agreed across processes) and keeps the best validation score."""

    def __init__(self, hooks: Hooks, validation: Validation | None) -> None:
        self.hooks, self.validation = hooks, validation
        self.history: list[Progress] = []
        self.pending: Progress | None = None
        self.cancelled = False
        self.best_score: float | None = None
        self.best_step: int | None = None
        self.eval_seconds = 0.0
        self.started, self.first_step, self.seconds = time.perf_counter(), 0, 0.0
        self.cpu_started, self.cpu_seconds = time.process_time(), 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self.started, self.first_step = time.perf_counter(), state.global_step
        self.cpu_started = time.process_time()
        if state.best_metric is not None and self.validation:  # resumed: the best so far is in the state
            v = self.validation
            self.best_score = state.best_metric if v.higher_is_better else -state.best_metric
            self.best_step = int(str(state.best_model_checkpoint).rsplit("-", 1)[-1])

    def on_train_end(self, args, state, control, **kwargs):
        self.seconds = time.perf_counter() - self.started
        self.cpu_seconds = time.process_time() - self.cpu_started

    def on_step_end(self, args, state, control, **kwargs):
        stop = bool(self.hooks.should_stop and self.hooks.should_stop())
        if world_size() > 1:
            stop = _on_any_process(stop)
        if stop:
            self.cancelled = True
            control.should_training_stop = True
            control.should_save = True  # a cancelled run resumes from where it stopped

    def before_save(self) -> None:
        """Called just before a checkpoint is written: the curve up to it is made durable first, so a
        worker killed at any moment leaves no checkpoint whose steps are missing from the store."""
        self._emit()  # the step's point, if its evaluation came first
        if self.hooks.on_checkpoint:
            self.hooks.on_checkpoint()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or "loss" not in logs:
            return
        elapsed = time.perf_counter() - self.started
        eta = elapsed / max(1, state.global_step - self.first_step) * (state.max_steps - state.global_step)
        self.pending = Progress(state.global_step, state.max_steps, state.epoch or 0.0, logs["loss"],
                                logs.get("learning_rate", 0.0), elapsed, eta)
        if not (control.should_evaluate and self.validation):
            self._emit()

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if not metrics or self.validation is None:
            return
        value = metrics.get(f"eval_{self.validation.metric}")
        score = None if value is None else value if self.validation.higher_is_better else -value
        self.eval_seconds += metrics.get("eval_runtime", 0.0)
        if self.pending is None or self.pending.step != state.global_step:
            self.pending = Progress(state.global_step, state.max_steps, state.epoch or 0.0, float("nan"), 0.0,
                                    time.perf_counter() - self.started, 0.0)
        self.pending.val_loss, self.pending.val_score = metrics.get("eval_loss"), score
        if score is not None and (self.best_score is None or score > self.best_score):
            self.best_score, self.best_step = score, state.global_step
        self._emit()

    def _emit(self) -> None:
        point, self.pending = self.pending, None
        if point is None:
            return
        self.history.append(point)
        if self.hooks.on_progress:
            self.hooks.on_progress(point)


def _on_any_process(flag: bool) -> bool:
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        return flag
    t = torch.tensor([1 if flag else 0], device="cuda" if dist.get_backend() == "nccl" else "cpu")
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def tensorboard(folder: Path) -> list[TrainerCallback]:
    """A TensorBoard writer into ``folder/tensorboard`` (tensorboardX or tensorboard), when installed."""
    from transformers.integrations.integration_utils import TensorBoardCallback

    try:
        callback = TensorBoardCallback()
    except RuntimeError:  # neither tensorboard nor tensorboardX
        return []
    callback.logging_dir = str(folder / "tensorboard")
    return [callback]


def build(model, features, collate, params: TrainParams, device: Device, folder: Path,
          validation: Validation | None, hooks: Hooks, *, checkpoints: bool = True
          ) -> tuple[CurateTrainer, Tracker]:
    val = validation if validation and validation.features else None
    tracker = Tracker(hooks, val)
    callbacks: list[TrainerCallback] = [tracker, *tensorboard(folder)]
    if tracker.validation and params.patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=params.patience))
    args = arguments(params, device, folder, validation, len(features), checkpoints=checkpoints)
    trainer = CurateTrainer(model=model, args=args, data_collator=collate, train_dataset=list(features),
                            eval_dataset=list(val.features) if val else None,
                            compute_metrics=val.compute_metrics if val else None,
                            callbacks=callbacks, params=params, before_save=tracker.before_save,
                            lengths=[len(f["input_ids"]) for f in features])
    trainer.remove_callback(PrinterCallback)  # progress reaches the store (and TensorBoard), not stdout
    return trainer, tracker


def result_of(trainer: CurateTrainer, tracker: Tracker, checkpoint: Path | None) -> FitResult:
    state = trainer.state
    steps = state.global_step
    result = FitResult(steps, state.max_steps, tracker.seconds, cancelled=tracker.cancelled,
                       stopped_early=not tracker.cancelled and steps < state.max_steps,
                       best_val_score=tracker.best_score, best_step=tracker.best_step,
                       eval_seconds=tracker.eval_seconds, checkpoint_seconds=trainer.checkpoint_seconds,
                       resumed_from=int(checkpoint.name.split("-")[-1]) if checkpoint else None,
                       cpu_seconds=tracker.cpu_seconds,
                       history=tracker.history)
    if trainer.model is not None:
        trainer.model.eval()
    return result
