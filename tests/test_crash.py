"""kill -9 at random points of every kind of write: the store opens, each write is all there or not
at all, and no run is left "running" (the next opening marks it interrupted).

Slow tier: each case starts a real ``curate`` process and kills it with SIGKILL at a random moment
(for recipe and dedup runs: a random moment after the run appears in the store).
"""

from __future__ import annotations

import gzip
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curate.ingest import ingest
from curate.label import questions
from curate.store.workspace import Workspace
from curate.versions import create_version

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
SST2 = ROOT / "sample_data" / "sst2_train.jsonl.gz"  # all 67,349 SST-2 train rows (PROVENANCE.md)
ENV = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}

LABELS = """
import sys
from curate.label import annotations, questions
from curate.store.workspace import Workspace
ws = Workspace(sys.argv[1])
q = questions.get_question(ws, "d", "sentiment")
for i in range(100000):
    annotations.record(ws, q, 1 + i % 500, ["pos", "neg"][i % 2], "local", origin=f"crash:{i}")
"""


def _state(root: Path) -> dict:
    """What the store holds, in the terms each write is all-or-nothing about."""
    with Workspace(root).connect() as con:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        return {
            "datasets": q("SELECT d.name, count(e.id) FROM datasets d LEFT JOIN examples e ON e.dataset_id = d.id "
                          "GROUP BY 1 ORDER BY 1"),
            "running": q("SELECT id, kind FROM runs WHERE status = 'running'"),
            "runs": q("SELECT id, kind, status FROM runs ORDER BY id"),
            "versions": q("SELECT v.name, v.n_rows, (SELECT count(*) FROM version_rows r WHERE r.version_id = v.id) "
                          "FROM versions v ORDER BY 1"),
            "annotations": q("SELECT count(*), count(DISTINCT origin) FROM annotations")[0],
            "clusters": q("SELECT run_id, count(*) FROM dup_clusters GROUP BY 1 ORDER BY 1"),
        }


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("crash") / "ws"
    small = root.parent / "d.jsonl"
    with gzip.open(SST2, "rt", encoding="utf-8") as src:
        small.write_text("".join(next(src) for _ in range(3000)))
    ws = Workspace(root)
    ingest(ws, [small], "d")
    questions.add_question(ws, "d", "sentiment", "label", options=["pos", "neg"])
    create_version(ws, "d", "v1", exclude=())
    return root


def _copy(base: Path, tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(base, tmp_path / "ws")
    return tmp_path / "ws"


def _kill_at(proc: subprocess.Popen, root: Path, rng: random.Random, run_kind: str | None, most: float) -> None:
    if run_kind:  # wait for the run to be recorded, then a random moment into it
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if any(k == run_kind for _, k in _state(root)["running"]):
                break
            time.sleep(0.02)
    time.sleep(rng.uniform(0, most))
    proc.send_signal(signal.SIGKILL)
    proc.wait()


CASES = [
    # name, command (after -w ROOT), run kind to wait for, seconds to kill within
    ("ingest", ["ingest", str(SST2), "-d", "big"], None, 6.0),
    ("recipe", ["run", str(ROOT / "pipelines" / "classification.yaml"), "-d", "d"], "recipe", 3.0),
    ("dedup", ["dedup", "d", "--method", "minhash"], "dedup", 2.0),
    ("version", ["version", "create", "d", "--name", "v2", "--exclude", "none"], None, 4.0),
    ("export", ["export", "d:v1", "--format", "hf", "--out", "OUT"], None, 5.0),
    ("labels", None, None, 5.0),
]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name,args,run_kind,most", CASES, ids=[c[0] for c in CASES])
def test_kill_9_leaves_before_or_after(base, tmp_path, name, args, run_kind, most, seed) -> None:
    rng = random.Random(f"{name}:{seed}")
    root = _copy(base, tmp_path)
    before = _state(root)
    out = tmp_path / "export"
    if args is None:
        cmd = [sys.executable, "-c", LABELS, str(root)]
    else:
        cmd = [sys.executable, "-m", "curate", "-w", str(root), *[str(out) if a == "OUT" else a for a in args]]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    _kill_at(proc, root, rng, run_kind, most)
    after = _state(root)  # opens the store: replays its log, marks the killed run interrupted
    assert after["running"] == [], after["runs"]
    if name == "ingest":
        assert dict(after["datasets"]).get("big", 67349) == 67349
    elif name == "version":
        assert all(n == rows for _, n, rows in after["versions"]) and len(after["versions"]) in (1, 2)
    elif name == "labels":
        count, origins = after["annotations"]
        assert count == origins  # each answer one whole transaction, each origin once
    elif name == "export":
        if out.exists():
            assert json.loads((out / "dataset_dict.json").read_text())["splits"]
    else:
        kinds = [(k, s) for _, k, s in after["runs"] if k == run_kind]
        assert kinds and kinds[-1][1] in ("done", "interrupted")
        if name == "dedup" and kinds[-1][1] == "interrupted":
            assert after["clusters"] == before["clusters"]
    unchanged = {k: v for k, v in before.items() if k not in ("runs", "datasets", "versions", "annotations",
                                                                "clusters")}
    assert {k: after[k] for k in unchanged} == unchanged
