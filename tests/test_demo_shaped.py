"""The demo's spans and preference datasets: real GSM8K text with constructed annotations
(``sample_data/PROVENANCE.md``), scripted answers by alice and bob, their agreement figures and versions;
a second ``build_demo`` adds nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

from curate import versions
from curate.browse import datasets
from curate.demo import SAMPLE_DATA, build_demo
from curate.label import agreement, annotations, questions
from curate.label.demo import NUMBER_WORDS, SCRIPTED
from curate.label.preference_order import left_response
from curate.store.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]


def test_sample_files_are_gsm8k_text_with_the_stated_rules() -> None:
    """Every span is a number written with digits, typed by its form; every pair is a question's own
    solution against the next question's (the same texts as the regenerating script makes)."""
    rows = [json.loads(line) for line in (SAMPLE_DATA / "gsm8k_quantities.jsonl").read_text().splitlines()]
    assert len(rows) == 60 and sum(len(r["spans"]) for r in rows) == 196
    for r in rows:
        for s in r["spans"]:
            got = r["text"][s["start"]:s["end"]]
            form = "MONEY" if got.startswith("$") else "PERCENT" if got.endswith(("%", "percent")) else "NUMBER"
            assert re.fullmatch(r"\$?[\d.,/]+(%| percent)?", got) and s["label"] == form, (r["id"], got)
    pairs = [json.loads(line) for line in (SAMPLE_DATA / "gsm8k_pairs.jsonl").read_text().splitlines()]
    assert len(pairs) == 40 and all(a["rejected"] == b["chosen"] for a, b in zip(pairs, pairs[1:]))
    assert all(p["chosen"].rsplit("####", 1)[1].strip() for p in pairs)  # GSM8K solutions end in #### answer


def test_demo_has_the_spans_and_preference_story(demo_workspace: Workspace) -> None:
    ws = demo_workspace
    tasks = {d.name: d.task for d in datasets(ws)}
    assert tasks["gsm8k-quantities"] == "spans" and tasks["gsm8k-pairs"] == "preference"
    [spans] = agreement.agreement(ws, "gsm8k-quantities", "quantities")
    [pair] = spans["span_f1"]
    assert (spans["answers"], pair["n"]) == (2 * SCRIPTED, SCRIPTED) and 0 < pair["exact_f1"] < 1
    answers = {(a["annotator"], a["example_id"]): json.loads(a["value"])
               for a in annotations.export_labels(ws, "gsm8k-quantities", question="quantities")}
    for (who, eid), value in answers.items():  # bob = alice + the numbers written as words
        if who == "bob":
            extra = [s for s in value if s not in answers[("alice", eid)]]
            assert all(s["label"] == "NUMBER" for s in extra)
    assert any(len(v) > len(answers[("alice", e)]) for (w, e), v in answers.items() if w == "bob")
    assert NUMBER_WORDS.search("twice the price") and not NUMBER_WORDS.search("someone")

    [pref] = agreement.agreement(ws, "gsm8k-pairs", "better")
    bias = {p["annotator"]: p for p in pref["position"]}
    assert bias["bob"]["left_share"] == 1.0 and bias["bob"]["picks"] == SCRIPTED
    assert 0 < bias["alice"]["left_share"] < 1
    assert pref["cohen"][0]["kappa"] == 0.0  # alice always 1, bob by side: agreement by chance alone
    q = questions.get_question(ws, "gsm8k-pairs", "better")
    for a in annotations.export_labels(ws, "gsm8k-pairs", question="better"):
        value = json.loads(a["value"])
        assert value["left"] == left_response(q.id, a["example_id"], a["annotator"])
        assert value["choice"] == ("1" if a["annotator"] == "alice" else value["left"])
    assert [v.name for v in versions.list_versions(ws, "gsm8k-quantities")] == ["v1"]
    assert [v.name for v in versions.list_versions(ws, "gsm8k-pairs")] == ["v1"]


def test_a_second_demo_run_adds_nothing(demo_workspace: Workspace) -> None:
    ws = demo_workspace

    def state() -> tuple:
        return tuple((d.name, d.examples) for d in datasets(ws)) + tuple(
            len(annotations.export_labels(ws, name, question=q)) for name, q in
            (("gsm8k-quantities", "quantities"), ("gsm8k-pairs", "better"), ("sst2", None))) + tuple(
            len(versions.list_versions(ws, name)) for name in ("gsm8k-quantities", "gsm8k-pairs", "sst2"))

    before = state()
    build_demo(ws.root)
    assert state() == before


def test_agreement_view_shows_position_bias(demo_workspace: Workspace, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CURATE_WORKSPACE", str(demo_workspace.root))
    at = AppTest.from_string("from curate.ui.pages import label\nlabel.render()", default_timeout=60)
    at.session_state["annotator"] = "alice"  # signed in (see curate.ui.state)
    at.session_state["lbl_dataset"] = "gsm8k-pairs"
    at.session_state["lbl_view"] = "Agreement"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    [table] = [d for d in at.dataframe if "share left" in d.value.columns]
    shares = dict(zip(table.value["annotator"], table.value["share left"]))
    assert shares["bob"] == 1.0 and 0 < shares["alice"] < 1
    assert any("Position bias" in m.value for m in at.markdown)
