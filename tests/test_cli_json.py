"""Every command that lists or reports takes --json and prints parseable JSON; `curate --version`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from curate import __version__
from curate.cli import app
from curate.store.workspace import Workspace
from tests.conftest import SAMPLE


def _json(ws: Workspace, *args: str) -> list:
    r = CliRunner().invoke(app, ["-w", str(ws.root), *args, "--json"])
    assert r.exit_code == 0, r.output
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def test_json_on_listing_and_reporting_commands(workspace: Workspace, tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"curate {__version__}"
    lines = (SAMPLE / "sst2_sentences.jsonl").read_text().splitlines()[:40]
    (tmp_path / "s.jsonl").write_text("\n".join(lines) + "\n")
    [ing] = _json(workspace, "ingest", str(tmp_path / "s.jsonl"), "--dataset", "s")
    assert ing["rows"] == 40 and ing["files"][0]["mapping"] == {"text": "text", "label": "label"}
    [ds] = _json(workspace, "datasets")
    assert (ds["name"], ds["examples"], ds["labels"]) == ("s", 40, ["0", "1"])
    [dd] = _json(workspace, "dedup", "s")
    assert dd["run"]["method"] == "minhash" and dd["report"][0]["rows"] == 40
    CliRunner().invoke(app, ["-w", str(workspace.root), "version", "create", "s", "--name", "v1"])
    [v] = _json(workspace, "version", "list", "s")
    [shown] = _json(workspace, "version", "show", "s:v1")
    assert v["ref"] == shown["ref"] == "s:v1" and shown["n_rows"] == 40
    [ex] = _json(workspace, "export", "s:v1", "--format", "jsonl", "--out", str(tmp_path / "out.jsonl"))
    assert ex["n_rows"] == 40 and ex["cells_changed"] == 0
    assert _json(workspace, "runs", "s") == [] and _json(workspace, "compare", "s") == [[]]
    CliRunner().invoke(app, ["-w", str(workspace.root), "questions", "add", "s", "sentiment", "--kind", "label"])
    [sus] = _json(workspace, "suspects", "s", "--folds", "2")
    assert sus["checked"] == 40 and isinstance(sus["suspects"], list)


def test_listings_print_a_hint_when_empty_else_a_table_or_json_lines(workspace: Workspace, tmp_path: Path) -> None:
    def run(*args: str) -> str:
        r = CliRunner().invoke(app, ["-w", str(workspace.root), *args])
        assert r.exit_code == 0, r.output
        return r.stdout

    lines = (SAMPLE / "sst2_sentences.jsonl").read_text().splitlines()[:30]
    (tmp_path / "s.jsonl").write_text("\n".join(lines) + "\n")
    assert run("datasets") == "no datasets yet; add one with: curate ingest FILE --dataset NAME\n"
    run("ingest", str(tmp_path / "s.jsonl"), "--dataset", "s")
    assert run("version", "list", "s") == "s has no versions yet; create one with: curate version create s --name v1\n"
    assert run("version", "list", "s", "--json") == "" and run("version", "evals", "--json") == ""
    assert run("version", "evals").startswith("no eval sets yet; pin one with:")
    assert run("questions", "list", "s").startswith("s has no questions yet; add one with:")
    assert run("annotators", "list") == "no annotators yet; add one with: curate annotators add NAME\n"
    run("version", "create", "s", "--name", "v1")
    run("version", "pin", "s:v1", "--split", "test", "--as", "held")
    table = run("version", "evals").splitlines()
    assert "eval set" in table[1] and "s:v1" in table[3] and "held" in table[3]
    [held] = _json(workspace, "version", "evals")
    assert (held["name"], held["ref"], held["split"]) == ("held", "s:v1", "test")
    run("questions", "add", "s", "sentiment", "--kind", "label")
    assert "sentiment" in run("questions", "list", "s") and "0, 1" in run("questions", "list", "s")
