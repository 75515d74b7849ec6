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
SST2 = ROOT / "sample_data" / "sst2_train.jsonl.gz"  # all 67,349 SST-2 train rows (PROVENANCE.md)
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


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 12 MB tmpfs (needs root and mount rights; skipped elsewhere)."""
    mnt = tmp_path / "disk"
    if not _mount_tmpfs(mnt, "12m"):
        pytest.skip("cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _small_store(root: Path, tmp_path: Path) -> Workspace:
    data = tmp_path / "small.jsonl"
    data.write_text("".join(f'{{"text": "row {i}", "label": "{"pos" if i % 2 else "neg"}"}}\n' for i in range(100)))
    ws = Workspace(root)
    ingest(ws, [data], "d")
    return ws


def _run(*args: str, user: int | None = None, sub: bool = False) -> subprocess.CompletedProcess:
    """The CLI: in this process (CliRunner), or as a subprocess (``sub``, or as another ``user``)."""
    if user is None and not sub:
        result = runner.invoke(app, list(args))
        return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)
    cmd = [sys.executable, "-m", "curate", *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          cwd="/")


def _one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def _reads_and_writes(root: Path, tmp_path: Path, user: int | None = None) -> None:
    """Reads work on a read-only store; writes fail in one line."""
    assert "row 0" in _run("-w", str(root), "show", "d", "-n", "3", user=user).stdout
    data = tmp_path / "more.jsonl"
    data.write_text('{"text": "new"}\n')
    data.chmod(0o644)
    writes = [["annotators", "add", "bob"]] if user else [
        ["annotators", "add", "bob"], ["ingest", str(data), "-d", "e"], ["questions", "add", "d", "sentiment"]]
    for args in writes:
        _one_line_error(_run("-w", str(root), *args, user=user), "read-only", "reading works")


def test_read_only_mount(small_disk, tmp_path) -> None:
    from curate import browse

    ws = _small_store(small_disk / "ws", tmp_path)
    before = (ws.db_path.read_bytes(), sorted(p.name for p in ws.root.iterdir()))
    assert subprocess.run(["mount", "-o", "remount,ro", str(small_disk)]).returncode == 0
    _reads_and_writes(ws.root, tmp_path)
    assert "100" in _run("-w", str(ws.root), "datasets").stdout
    _one_line_error(_run("-w", str(ws.root), "annotators", "add", "eve", sub=True), "read-only")
    fresh = Workspace(ws.root)  # what the UI's pages call
    assert browse.datasets(fresh)[0].examples == 100 and len(browse.page(fresh, "d", limit=5).rows) == 5
    assert (ws.db_path.read_bytes(), sorted(p.name for p in ws.root.iterdir())) == before


def test_store_the_user_cannot_write(tmp_path) -> None:
    """A store file and folder owned by someone else (here root, read by user nobody)."""
    if os.geteuid() != 0 or not Path("/usr/bin/setpriv").exists():
        pytest.skip("needs root and setpriv to read as another user")
    import shutil
    import tempfile

    top = Path(tempfile.mkdtemp(prefix="curate-ro-", dir="/tmp"))  # pytest's tmp_path is private to root
    try:
        ws = _small_store(top / "ws", top)
        for p in (top, ws.root, ws.artifacts):
            p.chmod(0o755)
        ws.db_path.chmod(0o644)
        _reads_and_writes(ws.root, top, user=65534)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _fill(disk: Path, leave: int) -> Path:
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError:
            pass
    if leave:
        os.truncate(filler, filler.stat().st_size - leave)
    return filler


def test_full_disk_writes_fail_in_one_line_and_reads_work(small_disk, tmp_path) -> None:
    ws = _small_store(small_disk / "ws", tmp_path)
    filler = _fill(small_disk, 0)
    _one_line_error(_run("-w", str(ws.root), "annotators", "add", "bob", sub=True), "the disk is full",
                    "nothing was written")
    data = tmp_path / "more.jsonl"
    data.write_text('{"text": "new"}\n')
    _one_line_error(_run("-w", str(ws.root), "ingest", str(data), "-d", "e"), "the disk is full")
    assert "100" in _run("-w", str(ws.root), "datasets").stdout
    filler.unlink()
    listed = _run("-w", str(ws.root), "annotators", "list").stdout
    assert "bob" not in listed and [r.name for r in __import__("curate").browse.datasets(Workspace(ws.root))] == ["d"]


def test_nearly_full_disk_shows_every_committed_token(small_disk, tmp_path) -> None:
    """Room for the commit but not for the checkpoint: the annotator is committed (in the write-ahead log)
    and its token is shown; it is there after space is freed."""
    ws = _small_store(small_disk / "ws", tmp_path)
    filler = _fill(small_disk, 100_000)
    added = _run("-w", str(ws.root), "annotators", "add", "bob")
    assert added.returncode == 0 and "token" in added.stdout.lower(), added.stderr
    filler.unlink()
    assert "bob" in _run("-w", str(ws.root), "annotators", "list").stdout
