"""Record a model run, execute it (in the worker process), follow it (get, wait, cancel).

``create`` records a queued run; ``curate.train.launch.start`` launches ``python -m curate.train.worker RUN_ID WORKSPACE`` in a
new session (its log lands in ``artifacts/runs/run-<id>.log``), so the UI and the CLI stay free.
``execute`` is what the worker runs: it marks the run started, has ``curate.train.kinds`` train (quick
baseline, classification fine-tune, causal-LM SFT, token classification or DPO) and evaluate on the
version's own validation/test splits and every pinned eval set of the task whose label space matches
(``curate.train.evaluate``), and records how the run ended.
"""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path
from dataclasses import replace
from typing import Any, Callable

from curate.errors import CurateError, InputError, StoreBusy
from curate.store import catalog, train as store
from curate.store.workspace import Workspace, retry_conflicts
from curate.train.classify import dataset_classes
from curate.train.kinds import train_and_evaluate
from curate.train.model import FINAL, ModelRun
from curate.train.params import TrainParams, resolved
from curate.train.reporter import Cancelled, StoreReporter, write


def log_path(workspace: Workspace, run_id: int) -> Path:
    return workspace.artifacts / "runs" / f"run-{run_id}.log"


def run_folder(workspace: Workspace, run_id: int) -> Path:
    """A run's checkpoints (``checkpoint-<step>``) and TensorBoard logs (``tensorboard``)."""
    return workspace.artifacts / "runs" / f"run-{run_id}"


def libraries() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("torch", "transformers", "scikit-learn", "peft"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def create(workspace: Workspace, ref: str, *, baseline: bool = False, params: TrainParams | None = None,
           search: dict[str, Any] | None = None) -> int:
    """Record a queued model run of version ``ref`` (``dataset:version``) and return its id; ``search``
    (``{"id": search run, "trial": n}``) makes it a trial of a hyperparameter search."""
    from curate import versions

    params = params or TrainParams()
    dataset, version = versions.parse_ref(ref)
    known = [v.name for v in versions.list_versions(workspace, dataset)]
    if version not in known:
        raise InputError(ref, f"no version {version!r} of {dataset}",
                         fix=f"pick one of: {', '.join(known) or 'none yet (create one on the Versions page)'}")
    with workspace.connect() as con:
        ds = catalog.get_dataset(con, dataset)
    if baseline and ds["task"] != "classification":
        raise InputError(ref, f"the quick baseline scores classification datasets; {dataset} is {ds['task']}",
                         fix="train a fine-tune with --model DIR instead")
    if ds["task"] in ("sft", "chat", "preference") and not baseline and not params.model:
        raise InputError(ref, f"{dataset} is a {ds['task']} dataset and needs a causal language model",
                         fix="pass --model with a local model folder (e.g. a saved GPT-2 or Llama)")
    if params.lora:
        from curate.train.lora import available
        if not available():
            raise CurateError("LoRA needs peft, which is not installed; fix: pip install peft, or train without --lora")
    params = resolved(params, ds["task"])
    model = None if baseline else (params.model or str(_default_model()))
    with workspace.transaction() as con:
        return store.create_model_run(con, dataset_id=ds["id"], version=version,
                                      kind="baseline" if baseline else "finetune", task=ds["task"], model=model,
                                      params={**params.model_dump(), **({"search": search} if search else {})},
                                      libraries=libraries())


def _default_model() -> Path:
    from curate.embed import default_model_dir

    return default_model_dir()


def get(workspace: Workspace, run_id: int) -> ModelRun:
    """A model run with its live progress; a run whose worker vanished is reported as failed."""
    with workspace.connect() as con:
        run = ModelRun.from_row(store.get_model_run(con, run_id))
    if run.active and run.pid and not _alive(run.pid):
        return replace(run, status="failed", message="the worker process ended without finishing (see its log)")
    return run


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return True


def cancel(workspace: Workspace, run_id: int) -> None:
    """Ask a queued or running model run to stop (the worker checks every few seconds)."""
    retry_conflicts(lambda: write(workspace, lambda con: store.request_cancel(con, run_id)))


def wait(workspace: Workspace, run_id: int, *, poll: float = 0.5, timeout: float | None = None,
         on_update: Callable[[ModelRun], None] | None = None) -> ModelRun:
    """Poll a run until it is done, failed or cancelled."""
    deadline = time.monotonic() + timeout if timeout else None
    while True:
        try:
            run = get(workspace, run_id)
        except StoreBusy:
            time.sleep(poll)
            continue
        if on_update:
            on_update(run)
        if run.status in FINAL:
            return run
        if deadline and time.monotonic() > deadline:
            raise CurateError(f"model run {run_id} still {run.status} after {timeout:.0f}s; fix: wait longer "
                              f"or cancel it")
        time.sleep(poll)


def execute(workspace: Workspace, run_id: int, *, resume: bool = False) -> ModelRun:
    """Train and evaluate one queued model run in this process (with ``resume``, from the last
    checkpoint of its folder); returns the finished run. Under torchrun, processes other than 0 only
    train (``_replica``); process 0 writes to the store, evaluates and saves."""
    from curate.train.checkpoints import remove_checkpoints
    from curate.train.trainer import world_rank

    with workspace.connect() as con:
        run = ModelRun.from_row(store.get_model_run(con, run_id))
    params = run.train_params
    if world_rank() > 0:
        return _replica(workspace, run, params, run_folder(workspace, run_id), resume)
    if run.status in FINAL:
        return run
    try:
        device = _device(run, params)
    except CurateError as exc:
        retry_conflicts(lambda: write(workspace, lambda con: store.finish(con, run_id, "failed", message=str(exc))))
        return get(workspace, run_id)
    if not retry_conflicts(lambda: write(workspace, lambda con: store.mark_started(
            con, run_id, os.getpid(), str(device) if device else "cpu (embeddings)"))):
        retry_conflicts(lambda: write(workspace, lambda con: store.finish(con, run_id, "cancelled",
                                                                       message="cancelled before it started")))
        return get(workspace, run_id)
    reporter = StoreReporter(workspace, run_id, folder=run_folder(workspace, run_id), resume=resume, device=device)
    started = time.perf_counter()
    try:
        counters, artifact = train_and_evaluate(workspace, run, params, device, reporter)
        counters["seconds"] = round(time.perf_counter() - started, 2)
        status, message = "done", None
        if not params.keep_checkpoints and reporter.folder is not None:
            remove_checkpoints(reporter.folder)
    except Cancelled:
        counters, artifact, status, message = {}, None, "cancelled", "cancelled by request"
    except CurateError as exc:
        counters, artifact, status, message = {}, None, "failed", str(exc)
    except Exception as exc:  # noqa: BLE001 - the run records any failure, the log keeps the traceback
        traceback.print_exc()
        counters, artifact, status, message = {}, None, "failed", f"{type(exc).__name__}: {exc}"
    reporter.flush()
    retry_conflicts(lambda: write(workspace, lambda con: store.finish(
        con, run_id, status, counters=counters, message=message, artifact=artifact)))
    return get(workspace, run_id)


def _device(run: ModelRun, params: TrainParams):
    from curate.train.device import choose_device

    return choose_device(params.precision) if run.kind == "finetune" else None


def _replica(workspace: Workspace, run: ModelRun, params: TrainParams, folder: Path, resume: bool) -> ModelRun:
    """A torchrun process other than 0: the same fit on its share of each batch, no store writes."""
    from curate import versions
    from curate.train import classify, sft

    rows = versions.load_rows(workspace, run.ref, split="train")
    val = versions.load_rows(workspace, run.ref, split="validation")
    extra: dict[str, Any] = {"classes": dataset_classes(workspace, run.dataset, rows)} if run.task == "classification" else {}
    trainer = classify.train if run.task == "classification" else sft.train
    trainer(rows, val, params, device=_device(run, params), folder=folder, resume=resume, **extra)
    return run
