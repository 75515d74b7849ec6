"""Fair turns on a workspace between processes: readers share, a writer waits its turn, none starves.

DuckDB lets one process write a store file, or many read it; a process that finds the file locked
gets an error at once. Retrying that with back-off let some writers lose every race for seconds
while others, arriving later, got in (8 labelling processes: 8 of 12,000 writes refused). So every
unit of work first takes a turn on two lock files in the workspace folder (``fcntl.flock``):

- ``.curate.turn``, held exclusively only while waiting for the gate: a writer waiting there keeps
  later readers and writers behind it, so a stream of readers cannot starve it;
- ``.curate.lock``, the gate: shared by readers, exclusive for a writer, held until the store is
  detached again.

Waiting polls every few milliseconds (a blocking ``flock`` cannot time out). Who holds the gate
is read from ``/proc/locks``, so a busy message names the process that really holds it.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

TURN = ".curate.turn"
GATE = ".curate.lock"
FILES = (TURN, GATE)


class Timeout(Exception):
    """The gate was not free before the deadline; ``holders`` names who holds it."""

    def __init__(self, holders: str) -> None:
        super().__init__(holders)
        self.holders = holders


def _wait(fd: int, op: int, deadline: float, gate_fd: int) -> None:
    delay = 0.0005
    while True:
        try:
            fcntl.flock(fd, op | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if time.monotonic() >= deadline:
            raise Timeout(holders(gate_fd))
        time.sleep(delay)
        delay = min(delay * 1.5, 0.005)


def acquire(root: Path, exclusive: bool, deadline: float) -> int | None:
    """Take a turn on the workspace: the gate's file descriptor (release it with ``release``), or None
    when the folder cannot hold lock files (a read-only workspace: nobody can write it anyway)."""
    try:
        gate = os.open(root / GATE, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        return None
    try:
        turn = os.open(root / TURN, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        os.close(gate)
        return None
    try:
        _wait(turn, fcntl.LOCK_EX, deadline, gate)
        try:
            _wait(gate, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, deadline, gate)
        finally:
            fcntl.flock(turn, fcntl.LOCK_UN)
    except BaseException:
        os.close(gate)
        raise
    finally:
        os.close(turn)
    return gate


def release(fd: int | None) -> None:
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _command(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return ""
    words = [a.decode(errors="replace") for a in argv if a]
    if len(words) > 2 and words[1] == "-m":
        words = words[2:]
    return " ".join(" ".join([Path(words[0]).name, *words[1:4]]).split())[:80] if words else ""


def holders(fd: int) -> str:
    """Who holds the gate open as ``fd`` names: 'process 123 (curate ingest ...)', else 'another process'."""
    try:
        st = os.fstat(fd)
        inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
        rows = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return "another process"
    pids = []
    for row in rows:
        parts = row.split()
        if len(parts) > 5 and parts[1] == "FLOCK" and parts[5] == inode:  # waiters read "-> FLOCK"
            pid = int(parts[4])
            if pid != os.getpid() and pid not in pids:
                pids.append(pid)
    if not pids:
        return "another process"
    named = [f"process {p}" + (f" ({_command(p)})" if _command(p) else "") for p in pids[:3]]
    return ", ".join(named) + (f" and {len(pids) - 3} more" if len(pids) > 3 else "")
