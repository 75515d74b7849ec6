"""What the UI and ``curate show`` display is the current data, literally (issue 15), without a browser:
current values after a recipe's edits, the CLI's literal printing, sign-in sessions, label shortcuts."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from curate import browse
from curate.cli import app
from curate.ingest import ingest
from curate.label import annotators, sessions
from curate.ops import run_recipe
from curate.store.workspace import Workspace
from tests.hostile_text import LABELS, TEXTS, write_corpus

runner = CliRunner()
CLEAN = "any rock\nsolid film"
RAW = '<div class="review-body">any&nbsp; rock <br/>solid   film</div>'
CLEAN_RECIPE = """name: html-only
task: classification
steps:
  - op: clean.html
  - op: clean.whitespace
"""


def _cleaned(workspace: Workspace, tmp_path: Path) -> int:
    data = tmp_path / "r.jsonl"
    data.write_text(json.dumps({"text": RAW, "label": "1"}) + "\n" + json.dumps({"text": "a plain row", "label": "0"}) + "\n")
    ingest(workspace, [data], "reviews")
    recipe = tmp_path / "html.yaml"
    recipe.write_text(CLEAN_RECIPE)
    run_recipe(workspace, recipe, "reviews")
    return browse.page(workspace, "reviews").rows[0]["id"]


def test_every_view_shows_the_current_value_and_filters_on_it(workspace: Workspace, tmp_path: Path, monkeypatch) -> None:
    first = _cleaned(workspace, tmp_path)
    row = browse.page(workspace, "reviews").rows[0]
    assert row["text"] == CLEAN and row["edited"] == ["text"]
    assert browse.page(workspace, "reviews", query="review-body").total == 0      # the old text is not searched
    assert [r["id"] for r in browse.page(workspace, "reviews", query="solid film").rows] == [first]
    one = browse.example(workspace, first)
    assert one["fields"]["text"] == CLEAN and one["original"] == {"text": RAW}
    assert one["edited_by"]["text"].startswith("op:clean.")

    ws = ["-w", str(workspace.root)]
    shown = json.loads(runner.invoke(app, [*ws, "show", "reviews", "--id", str(first)]).stdout)
    assert shown["fields"]["text"] == CLEAN and shown["original"]["text"] == RAW
    table = runner.invoke(app, [*ws, "show", "reviews"], env={"COLUMNS": "200"}).stdout
    assert "any rock ⏎ solid film" in table and "review-body" not in table
    assert "rows 1–0" in runner.invoke(app, [*ws, "show", "reviews", "--filter", "review-body"]).stdout

    monkeypatch.setenv("CURATE_WORKSPACE", str(workspace.root))
    at = AppTest.from_string("from curate.ui.pages import data\ndata.render()", default_timeout=60).run()
    assert at.dataframe[1].value["text"].tolist() == [CLEAN, "a plain row"]
    assert at.dataframe[1].value["edited"].tolist() == ["text", ""]
    at.text_input(key="browse_query").input("review-body").run()
    assert "No examples match." in [i.value for i in at.info]
    at.text_input(key="browse_query").input("").run()
    html = " ".join(e.proto.body for e in at.get("html"))
    assert "solid film" in html and RAW.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;") in html
    assert "Original text (as ingested)" in [e.label for e in at.expander]


def test_show_prints_markup_and_brackets_literally(workspace: Workspace, tmp_path: Path) -> None:
    ingest(workspace, [write_corpus(tmp_path / "h.jsonl")], "hostile")
    ws = ["-w", str(workspace.root)]
    table = runner.invoke(app, [*ws, "show", "hostile"], env={"COLUMNS": "400"}, color=True).stdout
    assert "[laughs] [bold red]not red[/] [citation needed]" in table
    assert "\x1b[1;31m" not in table                       # nothing was styled bold red
    for label in LABELS:
        assert label in table
    one = json.loads(runner.invoke(app, [*ws, "show", "hostile", "--id", "3"]).stdout)
    assert one["fields"]["text"] == TEXTS[2]
    listing = runner.invoke(app, [*ws, "datasets"], env={"COLUMNS": "400"}).stdout
    assert LABELS[1] in listing


def test_sessions_last_until_expiry_or_sign_out(workspace: Workspace) -> None:
    token = annotators.add_annotator(workspace, "alice")
    name, sid = sessions.open_session(workspace, token)
    assert name == "alice" and sessions.resume(workspace, sid) == "alice"
    assert sessions.resume(workspace, sid + "x") is None and sessions.resume(workspace, None) is None
    with workspace.connect() as con:   # only a hash is stored
        assert con.execute("SELECT count(*) FROM ui_sessions WHERE id_hash = ?", [sid]).fetchone()[0] == 0
    sessions.close_session(workspace, sid)
    assert sessions.resume(workspace, sid) is None
    assert sessions.resume(workspace, sessions.session_for(workspace, "alice", hours=-1)) is None  # expired


def test_label_shortcuts_are_unambiguous() -> None:
    from curate.ui.labelling import shortcuts

    assert shortcuts(["0", "1"]) == ["0", "1"]
    assert shortcuts(["1", "2", "3", "4", "5"]) == ["1", "2", "3", "4", "5"]
    assert shortcuts(["neg", "pos"]) == ["1", "2"]
    assert shortcuts(["1", "neutral", "0"]) == ["1", "2", "0"]
    many = shortcuts([f"c{i}" for i in range(12)])
    assert many[:10] == list("1234567890") and many[10:] == [None, None]


def test_every_page_asks_for_sign_in_once_a_workspace_has_annotators(workspace: Workspace, tmp_path: Path,
                                                                      monkeypatch) -> None:
    ingest(workspace, [write_corpus(tmp_path / "h.jsonl")], "hostile")
    token = annotators.add_annotator(workspace, "alice")
    monkeypatch.setenv("CURATE_WORKSPACE", str(workspace.root))
    at = AppTest.from_file("../app.py", default_timeout=60).run()
    assert [h.value for h in at.header] == ["Sign in"] and not at.dataframe
    assert not [t for t in at.text_input if t.label == "Workspace folder"]   # no store opened at a typed path
    at.text_input(key="signin_token").input(token)
    at.button[0].click().run()
    assert at.session_state["annotator"] == "alice"
    assert "Data" in [h.value for h in at.header] and at.dataframe


def test_data_table_shows_a_conversation_as_turns() -> None:
    from curate.ui.pages.data import _turns

    row = {"messages": json.dumps([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "[laughs]"}])}
    assert _turns(row) == {"messages": "user: hi ⏎ assistant: [laughs]"}
    assert _turns({"text": "x"}) == {}


def test_the_demo_names_sst2_classes_and_its_curated_version_wins(demo_workspace: Workspace) -> None:
    """The demo ingests SST-2 with its class names (the UI shows negative/positive, not 0/1), and its
    story holds: the curated sst2:v2 beats sst2:v1 as ingested on the pinned sst2-dev."""
    from curate import train, versions
    from curate.label import annotations

    sets = {d.name: d for d in browse.datasets(demo_workspace)}
    assert sets["sst2"].labels == sets["sst2-dev"].labels == ["negative", "positive"]
    assert {r["label"] for r in versions.load_rows(demo_workspace, "sst2:v2")} == {"negative", "positive"}
    assert {a["value"] for a in annotations.export_labels(demo_workspace, "sst2", question="label")} \
        == {"negative", "positive"}
    board = {r.version: r.value for r in train.leaderboard(demo_workspace, "sst2")
             if r.kind == "baseline" and r.eval_set == "sst2-dev"}
    assert board["v2"] > board["v1"]
