"""The training child process: ``python -m curate.train.worker RUN_ID WORKSPACE [--resume]``
(under ``torchrun`` for several processes)."""

from __future__ import annotations

import sys

from curate.store.workspace import Workspace
from curate.train.runner import execute


def main(argv: list[str]) -> int:
    resume = "--resume" in argv
    argv = [a for a in argv if a != "--resume"]
    if len(argv) != 2:
        print("usage: python -m curate.train.worker RUN_ID WORKSPACE [--resume]", file=sys.stderr)
        return 2
    from transformers.utils import logging

    logging.disable_progress_bar()  # weight loading / shard writing bars would fill the run's log
    run = execute(Workspace(argv[1]), int(argv[0]), resume=resume)
    _leave_process_group()
    print(f"model run {run.id}: {run.status}" + (f" ({run.message})" if run.message else ""))
    return 0 if run.status in ("done", "cancelled", "running") else 1


def _leave_process_group() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
