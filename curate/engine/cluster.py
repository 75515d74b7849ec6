"""Start or join a Ray cluster for one curate command, with one-line errors for what users get wrong.

Without an address a local Ray instance is started with this machine's cores (or ``num_cpus``), no
dashboard and a bounded object store, and shut down afterwards. With ``--address HOST:PORT`` (the one
``ray start --head`` prints) an existing cluster is joined; an address nobody answers on fails in
seconds with one line naming it (``ray.init`` itself retries for minutes). If Ray is already running in
this process (a test module's shared instance, a notebook) it is used as is.
"""

from __future__ import annotations

import logging
import os
import socket
from contextlib import contextmanager
from typing import Any, Iterator

from curate.errors import CurateError

INSTALL = "pip install 'curate[ray]'"
OBJECT_STORE_BYTES = 500_000_000   # enough for 10k-row blocks; Ray's default takes 30 % of RAM
CONNECT_SECONDS = 3.0


class EngineError(CurateError):
    """The Ray engine cannot run: Ray is missing, the cluster is unreachable, or a step needs the local engine."""


def require_ray() -> Any:
    """The ``ray`` module with ``ray.data``; a one-line error with the install command when missing."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise EngineError(f"--engine ray needs Ray, which is not installed; fix: {INSTALL}") from None
    try:
        # Ray Data's file listing imports fsspec's HTTP filesystem from several threads at once; a first
        # import racing in threads failed once in CI ("cannot import name 'HTTPFileSystem'"). Importing
        # it here, in one thread, first (aiohttp is in the ray extra) leaves the threads a loaded module.
        import fsspec.implementations.http  # noqa: F401
    except ImportError:
        pass
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    rest = address.split("://", 1)[-1].rstrip("/")
    host, _, port = rest.rpartition(":")
    return (host, int(port)) if host and port.isdigit() else None


def check_reachable(address: str) -> None:
    """Fail fast, naming ``address``, when nothing accepts connections there."""
    if address == "auto":
        return
    where = _host_port(address)
    if where is None:
        raise EngineError(f"--address {address!r} is not HOST:PORT; fix: pass the address `ray start --head` "
                          f"printed, e.g. 127.0.0.1:6379")
    try:
        socket.create_connection(where, timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        raise EngineError(f"Ray cluster at {address} is unreachable ({exc.strerror or exc}); fix: start it with "
                          f"`ray start --head` on that machine or pass the right --address") from None


def _quiet_data(ray: Any, partitions: int) -> None:
    """No progress bars; shuffles sized to the cluster. Measured here (2 cores, shared): a keyed
    ``repartition`` of 3k rows took 3-7 s with the default SHUFFLE_V2 strategy, 0.1-0.2 s with HASH_SHUFFLE;
    a 1k-row ``groupby`` with the default 200 partitions 8 s."""
    from ray.data.context import ShuffleStrategy

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.default_hash_shuffle_parallelism = partitions
    ctx.shuffle_strategy = ShuffleStrategy.HASH_SHUFFLE


@contextmanager
def cluster(address: str | None = None, *, num_cpus: int | None = None) -> Iterator[Any]:
    """Ray, initialised for the block: joined at ``address``, else a local instance on ``num_cpus`` cores."""
    ray = require_ray()
    started = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
        if address:
            check_reachable(address)
            try:
                ray.init(address=address, **kwargs)
            except (ConnectionError, RuntimeError) as exc:
                raise EngineError(f"Ray cluster at {address} refused the connection ({str(exc).splitlines()[0]}); "
                                  f"fix: check --address against `ray status` on the head node") from None
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count() or 1, object_store_memory=OBJECT_STORE_BYTES, **kwargs)
        started = True
    _quiet_data(ray, max(2, int(ray.cluster_resources().get("CPU", 2))))
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()
