"""Retrying DuckDB's optimistic-concurrency conflicts between threads of one process."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

import duckdb

T = TypeVar("T")


def retry_conflicts(fn: Callable[[], T], attempts: int = 30) -> T:
    """Run a write transaction, retrying DuckDB's optimistic-concurrency conflicts briefly.

    Threads of one process (Streamlit sessions, labelling annotators, a training worker's progress
    writes) may write the same table at once; DuckDB aborts the loser with a conflict.
    """
    for attempt in range(attempts):
        try:
            return fn()
        except duckdb.TransactionException as exc:
            if "conflict" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.005 * (attempt + 1))
    raise AssertionError("unreachable")
