"""The CLI as a user runs it: workspace resolution, ingest, datasets, show, demo."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from curate.cli import app

runner = CliRunner()


def test_workspace_from_option_env_and_cwd(tmp_path, monkeypatch) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "hi", "label": 1}\n')
    r = runner.invoke(app, ["-w", str(tmp_path / "a"), "ingest", str(data), "-d", "one"])
    assert r.exit_code == 0 and "ingested 1 rows into one (classification)" in r.stdout
    assert (tmp_path / "a" / "curate.duckdb").exists()
    monkeypatch.setenv("CURATE_WORKSPACE", str(tmp_path / "b"))
    assert runner.invoke(app, ["ingest", str(data), "-d", "two"]).exit_code == 0
    assert "two" in runner.invoke(app, ["datasets"]).stdout
    monkeypatch.delenv("CURATE_WORKSPACE")
    monkeypatch.chdir(tmp_path / "a")
    out = runner.invoke(app, ["datasets"]).stdout
    assert "one" in out and "two" not in out


def test_reingest_says_nothing_added(tmp_path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "hi"}\n')
    args = ["-w", str(tmp_path / "ws"), "ingest", str(data), "-d", "x"]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "already ingested into x; nothing added" in again.stdout


def test_show_table_json_filter_and_one_example(tmp_path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"text": f"sentence {i}", "label": i % 2, "src": "t"}) + "\n" for i in range(30)))
    ws = ["-w", str(tmp_path / "ws")]
    runner.invoke(app, [*ws, "ingest", str(data), "-d", "s"])
    table = runner.invoke(app, [*ws, "show", "s", "--limit", "3"])
    assert table.exit_code == 0 and "rows 1–3 of 30" in table.stdout and "sentence 2" in table.stdout
    lines = runner.invoke(app, [*ws, "show", "s", "--json", "--filter", "sentence 2", "-n", "50"]).stdout.splitlines()
    assert [json.loads(line)["text"] for line in lines] == ["sentence 2"] + [f"sentence {i}" for i in range(20, 30)]
    one = json.loads(runner.invoke(app, [*ws, "show", "s", "--id", "5"]).stdout)
    assert one["raw"] == {"text": "sentence 4", "label": 0, "src": "t"}
    assert one["provenance"]["row"] == 5 and one["provenance"]["source"] == str(data)


def test_unknown_dataset_is_one_line(tmp_path) -> None:
    r = runner.invoke(app, ["-w", str(tmp_path), "show", "nope"])
    assert r.exit_code == 1 and r.stderr.strip().count("\n") == 0
    assert "no dataset named 'nope'" in r.stderr


def test_demo_builds_every_sample_dataset(tmp_path) -> None:
    r = runner.invoke(app, ["demo", str(tmp_path / "demo")])
    assert r.exit_code == 0, r.output
    listing = runner.invoke(app, ["-w", str(tmp_path / "demo"), "datasets", "--json"]).stdout
    tasks = {d["name"]: d["task"] for d in map(json.loads, listing.splitlines())}
    for name in ("sst2", "trec", "gsm8k", "gpteacher", "chat", "messy"):
        assert name in tasks
    assert (tasks["gsm8k-quantities"], tasks["gsm8k-pairs"]) == ("spans", "preference")
    assert runner.invoke(app, ["demo", str(tmp_path / "demo")]).exit_code == 0  # idempotent
