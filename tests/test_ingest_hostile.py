"""Hostile corners of ingest, one by one: one strict JSON rule for every row, corrupt containers
refused in one line, lossless CSV corners, and the CLI's guard for anything unexpected."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard
from typer.testing import CliRunner

from curate.cli import app
from curate.errors import InputError
from curate.ingest import ingest
from curate.store.workspace import Workspace

runner = CliRunner()
FILLER = "".join(json.dumps({"text": f"row {i}", "label": "pos"}) + "\n" for i in range(300))


def _stored(ws: Workspace, dataset: str) -> list[tuple]:
    with ws.connect() as con:
        return con.execute("""SELECT e.raw, e.text, e.label FROM examples e JOIN datasets d ON d.id = e.dataset_id
                              WHERE d.name = ? ORDER BY e.id""", [dataset]).fetchall()


def _refused(ws: Workspace, path: Path, *fragments: str, dataset: str = "d") -> str:
    with pytest.raises(InputError) as info:
        ingest(ws, [path], dataset)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path)) and " — fix: " in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


BAD_LINES = [
    ("nan", '{"text": "a", "score": NaN}', "NaN is not a JSON value"),
    ("infinity", '{"text": "a", "score": -Infinity}', "-Infinity is not a JSON value"),
    ("trailing comma", '{"text": "a", "label": "pos",}', "malformed JSON"),
    ("trailing comma in array", '{"text": "a", "tags": [1, 2,]}', "malformed JSON"),
    ("duplicate key", '{"text": "a", "text": "b"}', "duplicate key 'text'"),
    ("nested duplicate key", '{"text": "a", "meta": {"k": 1, "k": 2}}', "duplicate key 'k'"),
    ("too deep", '{"text": "a", "deep": ' + "[" * 101 + "]" * 101 + "}", "nested deeper than 100 levels"),
    ("far too deep", '{"text": "a", "deep": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}", "nested deeper than 100"),
    ("number text", '{"text": 5, "label": "pos"}', "text field holds a number"),
    ("boolean text", '{"text": true, "label": "pos"}', "text field holds a number, boolean"),
]


@pytest.mark.parametrize("line_no", [1, 301])
@pytest.mark.parametrize("name,line,fragment", BAD_LINES, ids=[b[0] for b in BAD_LINES])
def test_one_rule_for_every_line(workspace, tmp_path, name, line, fragment, line_no) -> None:
    """The same record is refused the same way on line 1 (sampled by Python) and line 301 (DuckDB)."""
    path = tmp_path / "f.jsonl"
    path.write_text(line + "\n" + FILLER if line_no == 1 else FILLER + line + "\n")
    _refused(workspace, path, f"f.jsonl:{line_no}:", fragment)
    assert not workspace.exists(), "a refused ingest into a new folder leaves no store behind"


def test_depth_100_is_accepted_and_round_trips(workspace, tmp_path) -> None:
    line = '{"text": "a", "deep": ' + "[" * 99 + "]" * 99 + "}"
    path = tmp_path / "deep.jsonl"
    path.write_text(FILLER + line + "\n")
    ingest(workspace, [path], "deep")
    assert _stored(workspace, "deep")[-1][0] == line


@pytest.mark.parametrize("body,fragment", [
    (b'[{"text": "a"}, {"text": "b"},', "not closed"),
    (b'[{"text": "a"}, {"text": "b"},]', "trailing comma"),
    (b'[{"text": "a"}, {"text": "b"}', "not closed"),
    (b'[{"text": "a"}] extra', "not closed"),
    (b'{"text": "a"}', "not a JSON array"),
    (b'[{"text": "a"}, {"text": "b"] ', "malformed JSON"),
    (b'[{"text": NaN}]', "NaN is not a JSON value"),
], ids=["cut after comma", "trailing comma", "unclosed", "garbage after", "object", "bad element", "nan"])
def test_malformed_json_arrays(workspace, tmp_path, body, fragment) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(body)
    _refused(workspace, path, fragment)


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


BODY = FILLER.encode()


@pytest.mark.parametrize("name,packed,fragment", [
    ("cut.jsonl.gz", _gz(BODY)[:200], "not a complete gzip file"),
    ("junk.jsonl.gz", b"definitely not gzip", "not a complete gzip file"),
    ("cut.jsonl.zst", zstandard.ZstdCompressor().compress(BODY)[:100], "zstd"),
    ("junk.jsonl.zst", b"definitely not zstd", "zstd"),
    ("cut.csv.gz", _gz(b"text,label\n" + "".join(f"row {i},b\n" for i in range(3000)).encode())[:2000],
     "not a complete gzip file"),
    ("cut.json.gz", _gz(json.dumps([{"text": f"row {i}"} for i in range(3000)]).encode())[:2000],
     "not a complete gzip file"),
])
def test_bad_archives_are_one_line(workspace, tmp_path, name, packed, fragment) -> None:
    path = tmp_path / name
    path.write_bytes(packed)
    _refused(workspace, path, fragment)


def test_truncated_gzip_through_the_cli_is_one_real_line(tmp_path) -> None:
    """It used to print only "Aborted." (click's answer to an EOFError)."""
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(_gz(BODY)[:300])
    proc = subprocess.run([sys.executable, "-m", "curate", "-w", str(tmp_path / "ws"), "ingest", str(path), "-d", "x"],
                          capture_output=True, text=True)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: {path}: not a complete gzip file") and "fix:" in lines[0]
    assert not (tmp_path / "ws" / "curate.duckdb").exists()


def test_a_gzip_of_200mb_blank_lines_is_empty(workspace, tmp_path) -> None:
    path = tmp_path / "blank.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=1) as fh:
        block = b"\n" * (1 << 24)
        for _ in range(12):
            fh.write(block)
    _refused(workspace, path, "empty")


@pytest.fixture(scope="module")
def hf_folders(tmp_path_factory) -> dict[str, Path]:
    import datasets

    datasets.disable_progress_bars()
    root = tmp_path_factory.mktemp("hf")
    rows = [{"text": "a", "label": "pos"}, {"text": "b", "label": "neg"}]
    datasets.DatasetDict({"train": datasets.Dataset.from_list(rows)}).save_to_disk(root / "dict")
    datasets.Dataset.from_list(rows).save_to_disk(root / "single")
    return {"dict": root / "dict", "single": root / "single"}


@pytest.mark.parametrize("kind,damage,fragment", [
    ("dict", lambda p: (p / "dataset_dict.json").write_text("{bad"), "dataset_dict.json: is not valid JSON"),
    ("dict", lambda p: (p / "dataset_dict.json").write_text("[]"), "dataset_dict.json: has no 'splits'"),
    ("dict", lambda p: (p / "dataset_dict.json").write_text('{"splits": ["../.."]}'), "not a list of split names"),
    ("dict", lambda p: (p / "train" / "state.json").unlink(), "state.json: file is missing"),
    ("single", lambda p: (p / "state.json").write_text('{"_data_files": 3}'), "not a list of files"),
    ("single", lambda p: next(p.glob("*.arrow")).unlink(), "data file named in state.json is missing"),
    ("single", lambda p: next(p.glob("*.arrow")).write_bytes(next(p.glob("*.arrow")).read_bytes()[:50]),
     "not a readable Arrow file"),
], ids=["bad dict json", "dict not object", "split escapes", "no state", "files not list", "no arrow", "cut arrow"])
def test_corrupt_hf_folders(workspace, tmp_path, hf_folders, kind, damage, fragment) -> None:
    import shutil

    folder = tmp_path / "hf"
    shutil.copytree(hf_folders[kind], folder)
    damage(folder)
    with pytest.raises(InputError) as info:
        ingest(workspace, [folder], "d")
    assert "\n" not in str(info.value) and fragment in str(info.value) and str(folder) in str(info.value)


@pytest.mark.parametrize("data,fragment", [
    ("text,label\nhi,pos\n".encode("utf-16"), "UTF-16"),
    ("text,label\nhi,pos\n".encode("utf-16-be"), "UTF-16"),
    (b"\xef\xbb\xbf\xef\xbb\xbftext,label\nhi,pos\n", "two UTF-8 byte-order marks"),
    (b"te\xe9xt,label\nhi,pos\n", "header row is not valid UTF-8"),
])
def test_csv_encodings_refused(workspace, tmp_path, data, fragment) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(data)
    _refused(workspace, path, fragment)


def test_csv_lossless_corners(workspace, tmp_path) -> None:
    """CR-only line ends, a cell that is exactly \\x01 (once the null marker), an empty label cell
    (no label, not the class ""), and a header over 64 KiB."""
    path = tmp_path / "c.csv"
    path.write_bytes(b"text,label\r\x01,pos\rplain,\r\"quoted\rbreak\",neg\r")
    ingest(workspace, [path], "c")
    rows = _stored(workspace, "c")
    assert [(t, lab) for _, t, lab in rows] == [("\x01", "pos"), ("plain", None), ("quoted\rbreak", "neg")]
    assert json.loads(rows[1][0]) == {"text": "plain", "label": ""}
    wide = ["text", "label"] + [f"column_{i}_" + "w" * 90 for i in range(700)]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(wide) + "\n" + ",".join(["hello", "pos"] + [str(i) for i in range(700)]) + "\n")
    assert len(wide[2:]) * 100 > 64 * 1024
    ingest(workspace, [path], "wide")
    raw, text, label = _stored(workspace, "wide")[0]
    assert (text, label) == ("hello", "pos") and list(json.loads(raw)) == wide


def test_empty_json_label_is_unlabelled(workspace, tmp_path) -> None:
    path = tmp_path / "l.jsonl"
    path.write_text('{"text": "a", "label": ""}\n{"text": "b", "label": "pos"}\n')
    ingest(workspace, [path], "l")
    assert [lab for _, _, lab in _stored(workspace, "l")] == [None, "pos"]
    out = runner.invoke(app, ["-w", str(workspace.root), "datasets"]).stdout
    assert "pos" in out and '""' not in out


def test_refused_ingest_into_a_new_folder_leaves_nothing(tmp_path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("{oops}\n")
    result = runner.invoke(app, ["-w", str(tmp_path / "new"), "ingest", str(path), "-d", "x"])
    assert result.exit_code == 1 and not (tmp_path / "new").exists()


def test_unexpected_exception_is_one_line_and_a_log(tmp_path, monkeypatch) -> None:
    """Anything that is not a CurateError (here a bug planted in the listing) ends as one line naming a
    log file that holds the traceback."""
    ws = tmp_path / "ws"
    good = tmp_path / "g.jsonl"
    good.write_text('{"text": "a"}\n')
    assert runner.invoke(app, ["-w", str(ws), "ingest", str(good), "-d", "g"]).exit_code == 0

    def broken(_ws):
        raise ZeroDivisionError("planted bug")
    monkeypatch.setattr("curate.browse.datasets", broken)
    result = runner.invoke(app, ["-w", str(ws), "datasets"])
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and "Traceback" not in result.output
    assert "unexpected ZeroDivisionError: planted bug — details in " in lines[0]
    log = Path(lines[0].split("details in ")[1].split(";")[0])
    assert log.parent == ws / "artifacts" / "logs"
    assert "Traceback" in log.read_text() and "planted bug" in log.read_text()


def test_csv_row_with_an_extra_empty_cell_is_ragged(workspace, tmp_path) -> None:
    """DuckDB drops an extra empty last cell ("bye,x," under two columns); curate refuses the row."""
    path = tmp_path / "r.csv"
    path.write_text("text,label\nhello,\nbye,x,\n")
    _refused(workspace, path, "r.csv:3:", "3 cells but the header has 2")
    path.write_text("text,label\nhello,\nbye,x\n")
    ingest(workspace, [path], "r")
    assert [(t, lab) for _, t, lab in _stored(workspace, "r")] == [("hello", None), ("bye", "x")]
