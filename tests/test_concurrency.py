"""Many writers and readers on one workspace at once: fair turns, nothing lost, nothing refused.

Eight labelling processes write answers one transaction each while another process ingests a
dataset and readers list and page the store. Every answer must be stored exactly once under its
annotator, no write may be refused as busy, and readers never wait behind a queue of writers
for long enough to fail.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from curate.ingest import ingest
from curate.label import questions
from curate.store.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
SST2 = ROOT / "sample_data" / "sst2_train.jsonl.gz"  # all 67,349 SST-2 train rows (PROVENANCE.md)

WRITER = """
import json, sys
from curate.errors import StoreBusy
from curate.label import annotations, questions
from curate.store.workspace import Workspace
root, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ws = Workspace(root)
q = questions.get_question(ws, "d", "sentiment")
done = refused = 0
for i in range(n):
    try:
        annotations.record(ws, q, 1 + (i * 7 + len(name)) % 500, ["pos", "neg"][i % 2], name, origin="import")
        done += 1
    except StoreBusy as exc:
        refused += 1
        print(str(exc), file=sys.stderr)
print(json.dumps({"done": done, "refused": refused}))
"""

READER = """
import json, sys, time
from curate import browse
from curate.store.workspace import Workspace
root, stop = sys.argv[1], sys.argv[2]
reads = failed = 0
from pathlib import Path
while not Path(stop).exists():
    try:
        browse.datasets(Workspace(root)); browse.page(Workspace(root), "d", limit=20)
        reads += 1
    except Exception as exc:
        failed += 1
        print(type(exc).__name__, exc, file=sys.stderr)
print(json.dumps({"reads": reads, "failed": failed}))
"""

INGEST = """
import sys
from curate.ingest import ingest
from curate.store.workspace import Workspace
print(ingest(Workspace(sys.argv[1]), [sys.argv[2]], "big").rows)
"""


def _storm(tmp_path: Path, writers: int, labels: int, ingest_rows: int) -> None:
    ws = Workspace(tmp_path / "ws")
    small = tmp_path / "d.jsonl"
    small.write_text("".join(json.dumps({"text": f"row {i}"}) + "\n" for i in range(500)))
    ingest(ws, [small], "d")
    questions.add_question(ws, "d", "sentiment", "label", options=["pos", "neg"])
    big = tmp_path / "big.jsonl"
    with gzip.open(SST2, "rb") as src, open(big, "wb") as dst:
        for i, line in enumerate(src):
            if i >= ingest_rows:
                break
            dst.write(line)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    stop = tmp_path / "stop"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(ws.root), f"ann{k}", str(labels)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for k in range(writers)]
    loader = subprocess.Popen([sys.executable, "-c", INGEST, str(ws.root), str(big)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(ws.root), str(stop)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    results = [(p, *p.communicate()) for p in procs]
    loaded = loader.communicate()
    stop.write_text("")
    reads = [json.loads(r.communicate()[0]) for r in readers]
    for proc, out, err in results:
        assert proc.returncode == 0, err
        assert json.loads(out) == {"done": labels, "refused": 0}, err
    assert loader.returncode == 0 and loaded[0].strip() == str(ingest_rows), loaded[1]
    assert all(r["failed"] == 0 and r["reads"] > 0 for r in reads), reads
    with ws.connect() as con:
        per = dict(con.execute("SELECT annotator, count(*) FROM annotations GROUP BY 1").fetchall())
        big_rows = con.execute("SELECT count(*) FROM examples e JOIN datasets d ON d.id = e.dataset_id "
                               "WHERE d.name = 'big'").fetchall()[0][0]
    assert per == {f"ann{k}": labels for k in range(writers)}
    assert big_rows == ingest_rows


def test_eight_writers_an_ingest_and_readers(tmp_path) -> None:
    _storm(tmp_path, writers=8, labels=25, ingest_rows=5_000)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # ~2 min on 2 idle cores; 8.5 min measured on a machine at load 18
def test_eight_writers_times_a_thousand(tmp_path) -> None:
    _storm(tmp_path, writers=8, labels=1_000, ingest_rows=67_349)


def test_busy_message_names_the_process_that_holds_the_turn(tmp_path) -> None:
    from curate.errors import StoreBusy

    ws = Workspace(tmp_path / "ws")
    with ws.connect():
        pass
    code = ("import sys, time; from curate.store.workspace import Workspace\n"
            "with Workspace(sys.argv[1]).transaction():\n    print('held', flush=True); time.sleep(30)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(ws.root)], stdout=subprocess.PIPE, text=True,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreBusy) as info:
            with Workspace(ws.root, busy_timeout=0.5).read():
                pass
        assert f"process {holder.pid} (python -c" in str(info.value) and "\n" not in str(info.value)
    finally:
        holder.kill()
        holder.wait()
