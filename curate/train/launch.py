"""Launch model runs in child processes: ``start`` a new run, ``resume`` a killed or cancelled one.

The worker is ``python -m curate.train.worker RUN_ID WORKSPACE [--resume]`` in a new process session
(its log lands in ``artifacts/runs/run-<id>.log``), so the UI and the CLI stay free. With
``processes > 1`` it runs under ``torchrun --standalone --nproc-per-node N``: data-parallel with the
gloo backend on CPU, NCCL on GPUs; process 0 writes to the store.
"""

from __future__ import annotations

import os
import subprocess
import sys

from curate.errors import InputError
from curate.store import train as store
from curate.store.workspace import Workspace, retry_conflicts
from curate.train.model import ModelRun
from curate.train.params import TrainParams
from curate.train.reporter import write
from curate.train.runner import create, get, log_path, run_folder


def command(workspace: Workspace, run_id: int, *, processes: int = 1, resume: bool = False) -> list[str]:
    worker = ["-m", "curate.train.worker", str(run_id), str(workspace.root), *(["--resume"] if resume else [])]
    if processes > 1:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
                *worker]
    return [sys.executable, *worker]


def spawn(workspace: Workspace, run_id: int, *, processes: int = 1, resume: bool = False) -> subprocess.Popen:
    """Launch the worker(s) for a queued run in its own process session."""
    log = log_path(workspace, run_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(
               max(1, (os.cpu_count() or 1) // processes)))}
    with open(log, "ab") as out:
        return subprocess.Popen(command(workspace, run_id, processes=processes, resume=resume),
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)


def start(workspace: Workspace, ref: str, *, baseline: bool = False, params: TrainParams | None = None,
          search: dict | None = None) -> int:
    """Record a model run and train it in a child process; returns the run id at once."""
    run_id = create(workspace, ref, baseline=baseline, params=params, search=search)
    processes = 1 if baseline else (params or TrainParams()).processes
    proc = spawn(workspace, run_id, processes=processes)
    retry_conflicts(lambda: write(workspace, lambda con: store.set_pid(con, run_id, proc.pid)))
    return run_id


def resumable(workspace: Workspace, run: ModelRun) -> bool:
    """Whether ``resume`` can continue this run: a failed or cancelled fine-tune with a checkpoint."""
    from curate.train.checkpoints import last_checkpoint

    return run.status in ("failed", "cancelled") and run.kind == "finetune" and \
        last_checkpoint(run_folder(workspace, run.id)) is not None


def resume(workspace: Workspace, run_id: int) -> int:
    """Continue a failed (killed) or cancelled fine-tune from its last checkpoint, in a child process,
    under the same run id; the loss curve past the checkpoint is dropped and written again."""
    from curate.train.checkpoints import last_checkpoint

    run = get(workspace, run_id)
    if run.status not in ("failed", "cancelled"):
        raise InputError(f"model run {run_id}", f"is {run.status}; only a failed or cancelled run resumes",
                         fix="start a new run with `curate train`")
    if not resumable(workspace, run):
        raise InputError(f"model run {run_id}", "has no checkpoint to resume from",
                         fix="start a new run with `curate train`")
    checkpoint = last_checkpoint(run_folder(workspace, run_id))
    step = int(checkpoint.name.rsplit("-", 1)[-1]) if checkpoint else 0   # resumable(): there is one
    retry_conflicts(lambda: write(workspace, lambda con: store.reopen(con, run_id, step)))
    proc = spawn(workspace, run_id, processes=int(run.params.get("processes", 1)), resume=True)
    retry_conflicts(lambda: write(workspace, lambda con: store.set_pid(con, run_id, proc.pid)))
    return step
