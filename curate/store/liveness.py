"""Which process owns a run: ``host:pid:start`` tokens, and whether that process still lives.

The start time (clock ticks since boot, from ``/proc/<pid>/stat``) tells a reused pid from the
process that started the run. A token from another host cannot be judged here (``None``).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _start_ticks(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(") ", 1)[-1].split()
    return None if fields[0] == "Z" else fields[19]  # field 22 of stat: starttime; Z: a zombie is dead


def owner_token(pid: int | None = None) -> str:
    """This process's (or ``pid``'s) token."""
    pid = pid or os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid) or ''}"


def alive(token: str) -> bool | None:
    """True/False for a token of this host, None for another host's."""
    parts = token.split(":")
    host, pid, start = ":".join(parts[:-2]), parts[-2], parts[-1]
    if host != socket.gethostname():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except ValueError:
        return None
    now = _start_ticks(int(pid))
    if not Path("/proc/self/stat").exists():
        return True
    return now is not None and (not start or now == start)
