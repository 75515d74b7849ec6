"""Span and preference questions as the Label page reads them: the item's decoded fields, what the
editor starts with and what Enter saves, the preference keys, and the page's views rendering.

Data: TREC questions with hand-made spans and GSM8K pairs (see ``tests/test_label_spans_browser``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.label import annotations, queues, questions
from curate.store import label as store
from curate.store.workspace import Workspace
from curate.ui import label_preference, label_spans
from curate.ui.label_show import answer_text, key_names, shortcuts
from tests.test_label_spans_browser import _span, spans_workspace, trec_texts


@pytest.fixture
def shaped(tmp_path: Path) -> Workspace:
    return spans_workspace(tmp_path / "ws")


def test_span_item_starts_from_the_ingested_spans_then_the_answer(shaped: Workspace) -> None:
    q = questions.get_question(shaped, "ner", "ents")
    gandhi = _span(trec_texts()[13], "Gandhi", "LOC")
    item = queues.item(shaped, q, 2, "ann")
    assert item["example"]["spans"] == [gandhi] and item["mine"] is None
    assert label_spans.initial(item) == [gandhi]
    # Enter without an edit accepts the pre-annotation; with one, saves the editor's spans.
    assert label_spans.value(item, {}) == [gandhi]
    edited = [{**gandhi, "label": "PER"}]
    assert label_spans.value(item, {"lbl_spans_2": {"spans": edited}}) == edited
    annotations.record(shaped, q, 2, label_spans.value(item, {"lbl_spans_2": {"spans": edited}}), "ann")
    item = queues.item(shaped, q, 2, "ann")
    assert json.loads(item["mine"]) == edited and label_spans.initial(item) == edited
    assert item["example"]["spans"] == [gandhi]  # the ingested spans are never changed
    assert answer_text(q, item["mine"]) == "1 span: PER"
    assert label_spans.summary(json.dumps([gandhi, {**gandhi, "start": 0, "end": 3}])) == "2 spans: LOC ×2"
    assert key_names(q) == ["enter", "j", "k", "s"]  # digits, arrows and Backspace belong to the editor
    assert "`1` PER `2` LOC `3` ORG" in label_spans.keys_help(q)


def test_preference_item_keys_and_answer(shaped: Workspace) -> None:
    q = questions.get_question(shaped, "pref", "better")
    [first, *_] = queues.fetch(shaped, q, "ann")
    item = queues.item(shaped, q, first, "ann")
    ex = item["example"]
    assert [t["role"] for t in ex["messages"]] == ["user"]
    assert [t["role"] for t in ex["chosen"]] == [t["role"] for t in ex["rejected"]] == ["assistant"]
    assert ex["chosen"][0]["content"].endswith("#### 18")
    assert q.choices == ["1", "2", "="] and shortcuts(q.choices) == ["1", "2", "="]
    assert key_names(q) == ["1", "2", "=", "enter", "j", "k", "s", "r"]
    value = label_preference.answer("=", {f"lbl_reason_{first}": "  both wrong "}, first)
    assert value == {"choice": "=", "reason": "both wrong"}
    annotations.record(shaped, q, first, value, "ann")
    item = queues.item(shaped, q, first, "ann")
    assert label_preference.choice(item["mine"]) == "="
    assert answer_text(q, item["mine"]) == "tie (both wrong)"
    assert label_preference.answer("1", {}, first) == {"choice": "1"}


def test_example_views_carry_spans_and_pairs_as_stored(shaped: Workspace) -> None:
    with shaped.connect() as con:
        views = {v["id"]: v for v in store.example_views(con, [1, 2, 12])}
        raw = dict(con.execute("SELECT id, spans FROM examples WHERE id IN (1, 2)").fetchall())
    assert views[1]["spans"] == raw[1] == "[]" and views[2]["spans"] == raw[2]
    assert json.loads(views[12]["chosen"])[0]["role"] == "assistant" and views[12]["rejected"]
    assert views[1]["chosen"] is None and views[12]["spans"] is None


@pytest.mark.parametrize("dataset,question", [("ner", "ents"), ("pref", "better")])
def test_label_view_renders_span_and_preference_questions(shaped: Workspace, monkeypatch, dataset: str,
                                                         question: str) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CURATE_WORKSPACE", str(shaped.root))
    at = AppTest.from_string("from curate.ui.pages import label\nlabel.render()", default_timeout=60)
    at.session_state["lbl_dataset"] = dataset
    at.session_state["lbl_question"] = question
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    text = " ".join(m.value for m in at.markdown)
    assert "Example" in text
    if dataset == "pref":
        assert [b.label.split(" `")[0] for b in at.button if b.key and b.key.startswith("lbl_opt_")] == [
            "Response 1 is better", "Response 2 is better", "Tie"]
    else:
        assert "select the next/previous word" in text


def test_span_and_preference_answers_make_the_version_and_its_exports(shaped: Workspace, tmp_path: Path) -> None:
    """The loop: ingest → label → version → export → load. Labelled spans replace the ingested ones
    (HF token classification tags are the BIO of the answer, word for word); a preference 2 swaps the
    pair, = leaves it out as a tie, 1 keeps it; unanswered rows stay as ingested."""
    from datasets import load_dataset, load_from_disk

    from curate import versions
    from curate.ingest.shapes import spans_to_bio

    t = trec_texts()
    ents = questions.get_question(shaped, "ner", "ents")
    answers = {1: [_span(t[10], "Ozzy Osbourne", "PER")], 2: [], 3: [_span(t[6], "St. Louis Browns", "ORG")]}
    for eid, spans in answers.items():
        annotations.record(shaped, ents, eid, spans, "ann")
    v = versions.create_version(shaped, "ner", "v1", split=(1, 0, 0))
    rows = {r["example_id"]: r for r in versions.load_rows(shaped, "ner:v1")}
    assert {eid: rows[eid]["spans"] for eid in answers} == answers
    assert rows[6]["spans"] == [_span(t[1], "Popeye Doyle", "PER")]  # unanswered: the pre-annotation
    out = load_from_disk(versions.export_version(shaped, "ner:v1", "hf", tmp_path / "hf").path)["train"]
    names = out.features["ner_tags"].feature.names
    got = {tuple(r["tokens"]): [names[i] for i in r["ner_tags"]] for r in out}
    for eid, spans in answers.items():
        tokens, tags = spans_to_bio(rows[eid]["text"], spans)
        assert got[tuple(tokens)] == tags
    assert v.n_rows == len(rows) == 11

    better = questions.get_question(shaped, "pref", "better")
    ids = queues.fetch(shaped, better, "ann")
    for eid, choice in zip(ids, ["1", "2", "="]):
        annotations.record(shaped, better, eid, {"choice": choice}, "ann")
    # Two annotators say 2 with different reasons, a third says 1: the majority is 2 (reasons do not split it).
    for who, answer in (("bob", {"choice": "2", "reason": "shorter"}), ("cy", {"choice": "1"})):
        annotations.record(shaped, better, ids[1], answer, who)
    with shaped.connect() as con:
        raw = {i: json.loads(c) for i, c in con.execute("SELECT id, chosen FROM examples WHERE id IN (SELECT unnest(?))",
                                                         [ids]).fetchall()}
    v = versions.create_version(shaped, "pref", "v1", split=(1, 0, 0))
    assert v.counters.dropped["preference_tie"] == 1 and v.n_rows == 2
    rows = {r["example_id"]: r for r in versions.load_rows(shaped, "pref:v1")}
    assert rows[ids[0]]["chosen"] == raw[ids[0]] and rows[ids[1]]["rejected"] == raw[ids[1]]
    res = versions.export_version(shaped, "pref:v1", "messages", tmp_path / "trl")
    data = load_dataset("json", data_files={Path(f).stem: f for f in res.files})["train"]
    assert sorted(r["chosen"][0]["content"] for r in data) == sorted(
        [raw[ids[0]][0]["content"], rows[ids[1]]["chosen"][0]["content"]])


def test_agreement_view_shows_span_f1(shaped: Workspace, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    t = trec_texts()
    q = questions.get_question(shaped, "ner", "ents")
    ozzy = _span(t[10], "Ozzy Osbourne", "PER")
    annotations.record(shaped, q, 1, [ozzy], "ann")
    annotations.record(shaped, q, 1, [{**ozzy, "start": ozzy["start"] + 5}], "bob")  # "Osbourne": overlap only
    monkeypatch.setenv("CURATE_WORKSPACE", str(shaped.root))
    at = AppTest.from_string("from curate.ui.pages import label\nlabel.render()", default_timeout=60)
    at.session_state["lbl_dataset"] = "ner"
    at.session_state["lbl_view"] = "Agreement"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    [table] = [d for d in at.dataframe if "exact F1" in d.value.columns]
    row = table.value.iloc[0]
    assert (row["annotator A"], row["annotator B"], row["exact F1"], row["overlap F1"]) == ("ann", "bob", 0.0, 1.0)
