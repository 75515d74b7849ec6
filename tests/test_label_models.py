"""Pre-labels, active learning and label-error suspects on real SST-2 sentences and the bundled MiniLM."""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.ingest import ingest
from curate.label import annotations, annotators, prelabel, queues, questions, suspects
from curate.store.workspace import Workspace
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def noisy(tmp_path_factory) -> tuple[Workspace, set[int]]:
    """SST-2 sentences with 10 % of the labels flipped; returns the workspace and the flipped row numbers."""
    rows = [json.loads(line) for line in (SAMPLE / "sst2_sentences.jsonl").read_text().splitlines()]
    flipped = set(random.Random(7).sample(range(len(rows)), len(rows) // 10))
    ws = ingest_flipped(tmp_path_factory.mktemp("label-models"), "noisy", rows, flipped)
    return ws, {i + 1 for i in flipped}


def ingest_flipped(root, name: str, rows: list[dict], flipped: set[int]) -> Workspace:
    """A workspace with ``rows`` ingested as dataset ``name``, the 0/1 labels at ``flipped`` (indices)
    flipped, and its default ``label`` question created."""
    rows = [{**r, "label": 1 - r["label"]} if i in flipped else r for i, r in enumerate(rows)]
    path = root / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ws = Workspace(root / "ws")
    ingest(ws, [path], name)
    questions.get_question(ws, name)  # the default "label" question comes first
    return ws


def test_prelabels_suggest_and_accept(noisy) -> None:
    ws, _ = noisy
    q = questions.add_question(ws, "noisy", "pre", "label")
    for example in range(1, 41):  # humans fix some labels: these examples leave the unanswered queues
        annotations.record(ws, q, example, "1", "h")
    report = prelabel.train(ws, q)
    assert (report.trained_on, report.predicted, report.classes) == (400, 400, ["0", "1"])
    with ws.connect() as con:
        truth = dict(con.execute("SELECT id, label FROM examples").fetchall())
    sugg = prelabel.suggestions(ws, q)
    assert len(sugg) == 360 and all(0.5 <= s["confidence"] <= 1 for s in sugg)
    accuracy = sum(s["label"] == truth[s["example_id"]] for s in sugg) / len(sugg)
    assert accuracy > 0.7  # agrees with the (10 % noisy) given labels most of the time
    uncertain = queues.fetch(ws, q, "h", "uncertain", limit=500)
    margins = {s["example_id"]: s["margin"] for s in sugg}
    assert len(uncertain) == 360 and [margins[i] for i in uncertain] == sorted(margins[i] for i in uncertain)
    assert queues.fetch(ws, q, "h", "prelabel_low", limit=1)[0] in margins
    sure = [s for s in sugg if s["confidence"] >= 0.9]
    annotators.add_annotator(ws, "bot")
    assert prelabel.accept_above(ws, q, 0.9, "bot") == len(sure) > 0
    assert len(prelabel.suggestions(ws, q)) == 360 - len(sure)
    assert prelabel.maybe_retrain(ws, q, every=len(sure) + 1) is None
    annotations.record(ws, q, sugg[-1]["example_id"], "0", "h")
    again = prelabel.maybe_retrain(ws, q, every=len(sure) + 1)
    assert again is not None and again.run_id > report.run_id


def test_suspects_find_injected_noise(noisy) -> None:
    ws, flipped = noisy
    q = questions.get_question(ws, "noisy", "label")
    report = suspects.find_suspects(ws, q)
    found = suspects.list_suspects(ws, q)
    assert report.flagged == len(found) > 0
    assert [r["score"] for r in found] == sorted((r["score"] for r in found), reverse=True)
    with ws.connect() as con:
        row_of = dict(con.execute("SELECT id, row_num FROM examples").fetchall())
        issues = con.execute("SELECT count(*), min(score) >= 0, max(score) <= 1 FROM issues "
                             "WHERE kind = 'label_suspect' AND run_id = ?", [report.run_id]).fetchall()[0]
    assert issues == (len(found), True, True)
    hits = sum(row_of[r["example_id"]] in flipped for r in found)
    assert hits / len(flipped) >= 0.5          # recall of the injected noise
    assert hits / len(found) >= 0.2            # far above the 10 % base rate
    assert all(r["given"] != r["suggested"] for r in found[:10])
    assert queues.fetch(ws, q, "rev", "suspects", limit=3) == [r["example_id"] for r in found[:3]]
    # review: once "rev" answers a suspect it leaves their queue
    annotations.record(ws, q, found[0]["example_id"], found[0]["suggested"], "rev")
    assert found[0]["example_id"] not in queues.fetch(ws, q, "rev", "suspects", limit=500)


def test_suspects_cli(noisy, tmp_path) -> None:
    ws, _ = noisy
    runner = CliRunner()
    out = tmp_path / "s.jsonl"
    res = runner.invoke(app, ["-w", str(ws.root), "suspects", "noisy", "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and set(rows[0]) == {"id", "example_id", "score", "given", "suggested"}
    token = annotators.add_annotator(ws, "fixer")
    res = runner.invoke(app, ["-w", str(ws.root), "suspects", "noisy", "--accept-above", "0.7", "--annotator", "fixer"])
    assert res.exit_code == 1 and "needs fixer's sign-in token" in res.output  # attribution needs the token
    res = runner.invoke(app, ["-w", str(ws.root), "suspects", "noisy", "--accept-above", "0.7", "--annotator", "fixer",
                              "--token", token])
    taken = sum(r["score"] >= 0.7 for r in rows)
    assert res.exit_code == 0 and f"suggested label of {taken:,} suspects" in res.output, res.output
    exported = [r for r in annotations.export_labels(ws, "noisy") if r["annotator"] == "fixer"]
    assert len(exported) == taken and all(r["origin"] == "suspects" for r in exported)
    res = runner.invoke(app, ["-w", str(ws.root), "suspects", "noisy", "--accept-above", "0.7"])
    assert res.exit_code == 1 and "needs --annotator" in res.output


@pytest.mark.slow
def test_finetune_suspects_find_flipped_labels(tmp_path) -> None:
    """The fine-tuned detector (MiniLM per fold) on an easy task puts the flipped labels first."""
    good = ["a wonderful, moving film", "great acting and a lovely story", "i loved every minute",
            "brilliant and funny", "a delightful surprise", "beautifully shot and warm"]
    bad = ["a dull, lifeless mess", "terrible acting and a boring plot", "i hated every minute",
           "awful and tedious", "a painful waste of time", "ugly, cold and stupid"]
    rows = [{"text": f"{t} ({k})", "label": y} for k in range(4) for y, pool in ((1, good), (0, bad)) for t in pool]
    flipped = {3, 10, 29, 40}
    ws = ingest_flipped(tmp_path, "easy", rows, flipped)
    q = questions.get_question(ws, "easy")
    with pytest.raises(Exception, match="unknown suspects method"):
        suspects.find_suspects(ws, q, method="magic")
    report = suspects.find_suspects(ws, q, method="finetune", folds=2, epochs=12)  # 24 rows a fold: one step an epoch
    found = suspects.list_suspects(ws, q)
    with ws.connect() as con:
        row_of = dict(con.execute("SELECT id, row_num FROM examples").fetchall())
        params = json.loads(con.execute("SELECT params FROM runs WHERE id = ?", [report.run_id]).fetchall()[0][0])
    assert (params["source"], params["folds"], params["epochs"]) == ("finetune", 2, 12)
    top = {row_of[r["example_id"]] - 1 for r in found[:len(flipped)]}
    assert len(top & flipped) >= 3, (top, flipped)
    assert all(r["suggested"] == str(1 - int(r["given"])) for r in found[:3])


def test_accepting_suspects_finds_them_first_on_the_label_page_as_in_the_cli(tmp_path, monkeypatch) -> None:
    """One rule (``suspects.accept_suspects``): with no stored suspects, the Label page's accept button
    finds them, then takes the suggested label of those scoring ≥ the slider as the annotator; the CLI
    then uses the stored ones (no second search)."""
    from streamlit.testing.v1 import AppTest

    rows = [json.loads(line) for line in (SAMPLE / "sst2_sentences.jsonl").read_text().splitlines()][:160]
    ws = ingest_flipped(tmp_path, "few", rows, set(range(0, 160, 8)))
    q = questions.get_question(ws, "few")
    assert suspects.list_suspects(ws, q) == []
    monkeypatch.setenv("CURATE_WORKSPACE", str(ws.root))
    at = AppTest.from_string("from curate.ui.pages import label\nlabel.render()", default_timeout=120)
    at.session_state["lbl_view"] = "Pre-labels & suspects"
    at.run()
    button = at.button(key="lbl_accept_suspects")
    assert button.label.startswith("Find suspects, then take those ≥ 0.60 as")
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    found = suspects.list_suspects(ws, q)
    taken = sum(r["score"] >= suspects.ACCEPT_ABOVE for r in found)
    assert found and taken and f"took the suggested label of {taken:,} suspects" in at.success[0].value
    answers = [r for r in annotations.export_labels(ws, "few") if r["origin"] == "suspects"]
    assert len(answers) == taken and {r["annotator"] for r in answers} == {annotators.LOCAL}
    res = CliRunner().invoke(app, ["-w", str(ws.root), "suspects", "few", "--accept-above", "0.9",
                                   "--annotator", annotators.LOCAL])
    sure = sum(r["score"] >= 0.9 for r in found)
    assert res.exit_code == 0 and f"took the suggested label of {sure:,} suspects scoring ≥ 0.9" in res.output
    assert suspects.list_suspects(ws, q) == found  # the stored suspects (same run) were used, not found again
