"""Smaller hostile inputs to the CLI: each is one line naming the problem and the fix, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.ingest import ingest
from curate.ingest.uploads import save_upload
from curate.store.workspace import Workspace

runner = CliRunner()


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    data = tmp_path / "d.jsonl"
    rows = [{"text": "100% sure", "label": "pos"}, {"text": "a_b", "label": "neg"}, {"text": "abc", "label": "pos"},
            {"text": "1000 sure", "label": "neg"}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ingest(ws, [data], "d")
    return ws


def _one_line(result, *fragments: str) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output and "details in" not in lines[0], lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def test_labels_import_bad_utf8_and_bad_json_list(ws, tmp_path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"id": 1, "value": "pos"}\n{"id": 2, "value": "caf\xe9"}\n')
    base = ["-w", str(ws.root), "labels", "import", str(bad), "-d", "d", "-a", "local"]
    _one_line(runner.invoke(app, base), "bad.jsonl:2:", "not valid UTF-8")
    assert runner.invoke(app, ["-w", str(ws.root), "questions", "add", "d", "tags", "--kind", "labels",
                               "--options", "pos,neg"]).exit_code == 0
    bad.write_text('{"id": 1, "value": "[pos, neg"}\n')
    _one_line(runner.invoke(app, [*base, "-q", "tags"]), "bad.jsonl:1:", "starts with [ but is not a JSON list")


def test_labels_export_into_a_missing_folder(ws, tmp_path) -> None:
    target = tmp_path / "missing_dir" / "x.jsonl"
    _one_line(runner.invoke(app, ["-w", str(ws.root), "labels", "export", "-d", "d", "--out", str(target)]),
              "missing_dir", "does not exist")


def test_show_filter_treats_percent_and_underscore_literally(ws) -> None:
    shown = runner.invoke(app, ["-w", str(ws.root), "show", "d", "--filter", "0%", "--json"]).stdout
    assert [json.loads(x)["text"] for x in shown.splitlines()] == ["100% sure"]
    shown = runner.invoke(app, ["-w", str(ws.root), "show", "d", "--filter", "_", "--json"]).stdout
    assert [json.loads(x)["text"] for x in shown.splitlines()] == ["a_b"]


def test_dataset_names_may_not_start_with_a_dash(ws, tmp_path) -> None:
    data = tmp_path / "e.jsonl"
    data.write_text('{"text": "x"}\n')
    _one_line(runner.invoke(app, ["-w", str(ws.root), "ingest", str(data), "--dataset=-rf"]), "invalid dataset name")


def test_version_options_name_the_valid_choices(ws) -> None:
    base = ["-w", str(ws.root), "version", "create", "d", "--name", "v1"]
    _one_line(runner.invoke(app, [*base, "--labels", "annotator:nobody"]), "no annotator named 'nobody'")
    _one_line(runner.invoke(app, [*base, "--exclude", "typo_kind"]), "no current issue of kind 'typo_kind'",
              "--exclude none")
    assert runner.invoke(app, [*base, "--exclude", "none"]).exit_code == 0


@pytest.mark.parametrize("name", ["..", ".", "../../etc/passwd", ".hidden", ""])
def test_upload_names_stay_inside_the_uploads_folder(ws, name) -> None:
    path = save_upload(ws, name, b'{"text": "x"}\n')
    assert path.parent == ws.artifacts / "uploads" and path.is_file() and not path.name.startswith(".")
