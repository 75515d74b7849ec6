"""The training child process: ``python -m curate.train.worker RUN_ID WORKSPACE``."""

from __future__ import annotations

import sys

from curate.store.workspace import Workspace
from curate.train.runner import execute


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m curate.train.worker RUN_ID WORKSPACE", file=sys.stderr)
        return 2
    run = execute(Workspace(argv[1]), int(argv[0]))
    print(f"model run {run['id']}: {run['status']}" + (f" ({run['message']})" if run.get("message") else ""))
    return 0 if run["status"] in ("done", "cancelled") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
