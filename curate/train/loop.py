"""One plain PyTorch training loop shared by classification and SFT.

AdamW (no decay on biases and norms), warm-up then linear/cosine/constant decay, gradient clipping,
bf16 autocast on CUDA, validation ``evals_per_epoch`` times an epoch with early stopping (the best
weights are restored), and two hooks: ``on_progress`` after every step and ``should_stop`` (cancel).
The hooks are where the runner writes progress to the store; the loop itself does no I/O.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from curate.train.device import Device, autocast
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
    history: list[Progress] = field(default_factory=list)


@dataclass
class Hooks:
    on_progress: Callable[[Progress], None] | None = None
    should_stop: Callable[[], bool] | None = None


def steps_per_epoch(n_rows: int, batch_size: int) -> int:
    return max(1, math.ceil(n_rows / batch_size))


def total_steps(n_rows: int, params: TrainParams) -> int:
    if params.max_steps:
        return params.max_steps
    return max(1, math.ceil(steps_per_epoch(n_rows, params.batch_size) * params.epochs))


GROUP_BATCHES = 50  # group_by_length: batches per length-sorted group (as transformers' LengthGroupedSampler)


def batch_order(lengths: Sequence[int], params: TrainParams, epoch: int) -> list[list[int]]:
    """The batches of one epoch as lists of feature indices: a seeded shuffle; with ``group_by_length``
    each run of ``GROUP_BATCHES`` batches of that shuffle is sorted by length before it is cut into
    batches, and the batches are shuffled again, so a batch holds examples of similar length."""
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
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def optimizer_and_schedule(model, params: TrainParams, n_steps: int):
    import torch
    from transformers import get_scheduler

    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "norm" in name.lower() or name.endswith(".bias") else decay).append(p)
    groups = [{"params": decay, "weight_decay": params.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=params.lr)
    name = {"linear": "linear", "cosine": "cosine", "constant": "constant_with_warmup"}[params.schedule]
    scheduler = get_scheduler(name, optimizer, num_warmup_steps=int(params.warmup * n_steps),
                              num_training_steps=n_steps)
    return optimizer, scheduler


def fit(model, features: Sequence[dict[str, Any]], collate: Callable[[list], dict], params: TrainParams,
        device: Device, *, evaluate: Callable[[Any], tuple[float, float]] | None = None,
        hooks: Hooks | None = None) -> FitResult:
    """Train ``model`` on tokenised ``features``; ``evaluate(model) -> (val_loss, score)`` (higher score
    is better) drives early stopping. Returns when the steps are done, on early stop or on cancel."""
    import gc

    hooks = hooks or Hooks()
    # The rows, features and model are long-lived: freezing them keeps Python's full collections
    # (~0.1 s each with a few thousand rows loaded) from rescanning them during training.
    gc.collect()
    gc.freeze()
    try:
        return _fit(model, features, collate, params, device, evaluate, hooks)
    finally:
        gc.unfreeze()


def _fit(model, features, collate, params, device, evaluate, hooks) -> FitResult:
    import torch

    torch.manual_seed(params.seed)
    n_steps = total_steps(len(features), params)
    per_epoch = steps_per_epoch(len(features), params.batch_size)
    eval_every = max(1, per_epoch // params.evals_per_epoch)
    optimizer, scheduler = optimizer_and_schedule(model, params, n_steps)
    result = FitResult(0, n_steps, 0.0)
    best_state, bad_evals = None, 0
    started = time.perf_counter()
    running, running_n = 0.0, 0
    model.to(device.name)
    model.train()
    step, epoch = 0, 0
    lengths = [len(f["input_ids"]) for f in features]
    while step < n_steps:
        for batch_ids in batch_order(lengths, params, epoch):
            if step >= n_steps:
                break
            if hooks.should_stop and hooks.should_stop():
                result.cancelled = True
                break
            batch = {k: v.to(device.name) for k, v in collate([features[i] for i in batch_ids]).items()}
            with autocast(device):
                loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), params.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            running += float(loss.detach())
            running_n += 1
            elapsed = time.perf_counter() - started
            report = Progress(step, n_steps, step / per_epoch, running / running_n, scheduler.get_last_lr()[0],
                              elapsed, elapsed / step * (n_steps - step))
            if evaluate and (step % eval_every == 0 or step == n_steps):
                model.eval()
                eval_started = time.perf_counter()
                report.val_loss, report.val_score = evaluate(model)
                result.eval_seconds += time.perf_counter() - eval_started
                model.train()
                if result.best_val_score is None or report.val_score > result.best_val_score:
                    result.best_val_score, result.best_step, bad_evals = report.val_score, step, 0
                    best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                else:
                    bad_evals += 1
            running, running_n = 0.0, 0
            result.history.append(report)
            if hooks.on_progress:
                hooks.on_progress(report)
            if params.patience and bad_evals >= params.patience:
                result.stopped_early = True
                break
        if result.cancelled or result.stopped_early:
            break
        epoch += 1
    result.steps = step
    result.seconds = time.perf_counter() - started
    if best_state is not None and result.best_step != step:
        model.load_state_dict(best_state)
    model.eval()
    return result
