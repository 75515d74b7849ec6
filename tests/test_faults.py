"""Faults around the store: killed runs, read-only stores, a full disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.ingest import ingest
from curate.store import catalog
from curate.store.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
SST2 = ROOT.parent.parent / "shared" / "data" / "sst2" / "train.jsonl"
runner = CliRunner()


def _cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "curate", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def _runs(root: Path) -> list[dict]:
    with Workspace(root).connect() as con:
        return catalog.list_runs(con)


def _wait_for_running(root: Path, kind: str, proc: subprocess.Popen, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        running = [r for r in _runs(root) if r["kind"] == kind and r["status"] == "running"]
        if running:
            return running[0]
        time.sleep(0.05)
    raise AssertionError(f"no {kind} run started")


@pytest.fixture
def big_workspace(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    ingest(ws, [SST2], "sst2")
    return ws


def test_a_killed_dedup_is_marked_interrupted_by_the_next_opening(big_workspace) -> None:
    root = big_workspace.root
    proc = _cli("-w", str(root), "dedup", "sst2", "--method", "minhash")
    run = _wait_for_running(root, "dedup", proc)
    assert run["owner"].split(":")[1] == str(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = {r["id"]: r for r in _runs(root)}[run["id"]]
    assert after["status"] == "interrupted" and "killed or crashed" in after["message"]
    assert after["finished_at"] is not None


def test_a_live_run_of_another_process_is_left_running(tmp_path) -> None:
    """Only dead owners are marked: a run whose process lives stays 'running'."""
    ws = Workspace(tmp_path / "ws")
    code = ("import sys, time; from curate.store.workspace import Workspace; from curate.store import catalog\n"
            f"ws = Workspace({str(ws.root)!r})\n"
            "with ws.transaction() as con: catalog.start_run(con, 'recipe', None, {}, {})\n"
            "print('started', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "started"
        with Workspace(ws.root).transaction() as con:
            catalog.start_run(con, "ingest", None, {}, {})
        statuses = [r["status"] for r in _runs(ws.root)]
        assert statuses == ["running", "running"]
    finally:
        proc.kill()
        proc.wait()
    with Workspace(ws.root).transaction() as con:  # a later run marks the killed one
        catalog.start_run(con, "ingest", None, {}, {})
    assert [r["status"] for r in _runs(ws.root)] == ["interrupted", "running", "running"]
