"""Bad input: one line naming the file, line/row and the fix; exit 1; the store exactly as before."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.store.workspace import Workspace

runner = CliRunner()


def snapshot(ws: Workspace) -> dict:
    """Every table's rows, so 'unchanged' means unchanged."""
    with ws.connect() as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
        return {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}


@pytest.fixture
def populated(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    good = tmp_path / "good.jsonl"
    good.write_text('{"text": "fine", "label": "pos"}\n{"text": "also fine", "label": "neg"}\n')
    assert runner.invoke(app, ["-w", str(ws.root), "ingest", str(good), "-d", "reviews"]).exit_code == 0
    return ws


def _case(tmp_path: Path, name: str, content: bytes | None) -> Path:
    path = tmp_path / name
    if content is None:
        path.mkdir()
        (path / "notes.txt").write_text("not a dataset")
    else:
        path.write_bytes(content)
    return path


CASES = [
    # name, file name, bytes, extra args, expected fragments of the one-line error
    ("malformed json", "bad.jsonl", b'{"text": "ok", "label": "pos"}\n{"text": "broken", "label": }\n', [],
     ["bad.jsonl:2:", "malformed JSON", "fix:"]),
    ("missing column", "cols.jsonl", b'{"review": "great", "stars": 5}\n', ["--task", "classification"],
     ["cols.jsonl:", "missing required column 'text'", "(columns: review, stars)", "--map text=review,label=stars"]),
    ("undetectable task", "cols2.jsonl", b'{"review": "great", "stars": 5}\n', ["-d", "fresh"],
     ["cols2.jsonl:", "cannot tell the task", "--map text=review,label=stars"]),
    ("float label", "float.jsonl", b'{"text": "a", "label": "pos"}\n{"text": "b", "label": 0.5}\n', [],
     ["float.jsonl:2:", "label", "strings or integers"]),
    ("list label", "list.jsonl", b'{"text": "a", "label": ["x"]}\n', [], ["list.jsonl:1:", "label"]),
    ("mixed label types", "mixed.jsonl", b'{"text": "a", "label": 1}\n', [],
     ["mixed.jsonl:1:", "label is an integer but earlier labels are strings"]),
    ("mixed labels in one file", "mixed2.jsonl", b'{"text": "a", "label": 1}\n{"text": "b", "label": 0}\n{"text": "c", "label": "x"}\n',
     ["-d", "fresh2"], ["mixed2.jsonl:3:", "label is a string but earlier labels are integers"]),
    ("chat record not an object", "chat2.jsonl", b'{"messages": [{"role": "user", "content": "hi"}]}\n[1, 2]\n', ["-d", "chats2"],
     ["chat2.jsonl:2:", "not"]),
    ("chat malformed line", "chat3.jsonl", b'{"messages": [{"role": "user", "content": "hi"}]}\n{"messages": [\n', ["-d", "chats3"],
     ["chat3.jsonl:2:", "malformed JSON"]),
    ("empty file", "empty.jsonl", b"", [], ["empty.jsonl:", "empty", "fix:"]),
    ("blank lines only", "blank.jsonl", b"\n\n\n", [], ["blank.jsonl:", "empty"]),
    ("latin-1 bytes", "latin.jsonl", '{"text": "ok"}\n{"text": "café"}\n'.encode("latin-1"), [],
     ["latin.jsonl:2:", "not valid UTF-8", "iconv"]),
    ("utf-16", "u16.jsonl", '{"text": "ok"}\n'.encode("utf-16"), [], ["u16.jsonl:1:", "UTF-16", "iconv"]),
    ("ragged csv", "rag.csv", b"text,label\nok,pos\ntoo,many,cells\nfine,neg\n", [],
     ["rag.csv:3:", "3 cells but the header has 2"]),
    ("short csv row", "short.csv", b"text,label\nok,pos\nlonely\n", [], ["short.csv:3:", "1 cells but the header has 2"]),
    ("not a dataset folder", "folder", None, [], ["folder:", "not a dataset", "save_to_disk"]),
    ("unknown extension", "data.xlsx", b"PK", [], ["data.xlsx:", "unknown file type", "JSONL"]),
    ("not an object", "arr.jsonl", b'["text", "label"]\n', [], ["arr.jsonl:1:", "not an object"]),
    ("missing text in a row", "gap.jsonl", b'{"text": "a"}\n{"title": "b"}\n', [],
     ["gap.jsonl:2:", "no value for a required field"]),
    ("bad --map column", "m.jsonl", b'{"text": "a"}\n', ["--map", "text=body"], ["m.jsonl:", "no column 'body'"]),
    ("wrong task for dataset", "sft.jsonl", b'{"instruction": "a", "response": "b"}\n', [],
     ["sft.jsonl:", "holds sft records but dataset 'reviews' is classification"]),
    ("bad chat turn", "chat.jsonl", b'{"messages": [{"role": "wizard", "content": "hi"}]}\n', ["-d", "chats"],
     ["chat.jsonl:1:", "unknown role 'wizard'"]),
]


@pytest.mark.parametrize("name,fname,content,args,fragments", CASES, ids=[c[0] for c in CASES])
def test_bad_input_one_line_exit_1_store_unchanged(populated, tmp_path, name, fname, content, args, fragments) -> None:
    path = _case(tmp_path, fname, content)
    before = snapshot(populated)
    dataset = [] if "-d" in args else ["-d", "reviews"]
    result = runner.invoke(app, ["-w", str(populated.root), "ingest", str(path), *dataset, *args])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert snapshot(populated) == before


def test_one_bad_file_rolls_back_the_whole_call(populated, tmp_path) -> None:
    ok = _case(tmp_path, "ok.jsonl", b'{"text": "new", "label": "pos"}\n')
    bad = _case(tmp_path, "bad.jsonl", b'{"text": "x", "label": "pos"}\n{oops}\n')
    before = snapshot(populated)
    result = runner.invoke(app, ["-w", str(populated.root), "ingest", str(ok), str(bad), "-d", "reviews"])
    assert result.exit_code == 1 and "bad.jsonl:2:" in result.stderr
    assert snapshot(populated) == before


def test_error_deep_in_a_large_file_names_its_line(populated, tmp_path) -> None:
    path = tmp_path / "big.jsonl"
    with open(path, "w") as fh:
        for i in range(200_000):
            fh.write(json.dumps({"text": f"row {i}", "label": "pos"}) + "\n")
        fh.write('{"text": "x", "label": {"nested": 1}}\n')
    before = snapshot(populated)
    result = runner.invoke(app, ["-w", str(populated.root), "ingest", str(path), "-d", "reviews"])
    assert result.exit_code == 1 and "big.jsonl:200001:" in result.stderr
    assert snapshot(populated) == before


def _read_offset(pid: int, path: Path) -> int:
    """How far process ``pid`` has read into ``path`` (from /proc), 0 if it has not opened it."""
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        for fd in fd_dir.iterdir():
            if os.path.realpath(fd) == str(path.resolve()):
                info = (Path(f"/proc/{pid}/fdinfo") / fd.name).read_text()
                return int(info.split("pos:")[1].split()[0])
    except (FileNotFoundError, ProcessLookupError, IndexError):
        pass
    return 0


@pytest.mark.slow
def test_killed_ingest_leaves_store_openable_and_unchanged(populated, tmp_path) -> None:
    path = tmp_path / "huge.jsonl"
    line = json.dumps({"text": "a sentence that is long enough to take a while to ingest " * 3, "label": "pos"})
    with open(path, "w") as fh:
        for i in range(1_500_000):
            fh.write(line[:-1] + f', "i": {i}}}\n')
    before = snapshot(populated)
    proc = subprocess.Popen([sys.executable, "-m", "curate.cli", "-w", str(populated.root), "ingest", str(path),
                             "-d", "reviews"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    size = path.stat().st_size
    deadline = time.monotonic() + 120
    hashed = False  # the file is read whole once for its sha256, then again to insert its rows
    read = 0
    while time.monotonic() < deadline and not (hashed and size // 4 < read < size):
        assert proc.poll() is None, proc.stderr.read()
        now = _read_offset(proc.pid, path)
        hashed = hashed or read >= size * 0.9 > now
        read = now
        time.sleep(0.01)
    # Killed while rows are being inserted: inside the ingest's transaction, before its commit.
    assert proc.poll() is None and hashed and size // 4 < read < size, (hashed, read, size)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    after = snapshot(populated)
    assert {t: len(v) for t, v in after.items()} == {t: len(v) for t, v in before.items()}
    assert after == before
    result = runner.invoke(app, ["-w", str(populated.root), "datasets"])
    assert result.exit_code == 0 and "reviews" in result.stdout
