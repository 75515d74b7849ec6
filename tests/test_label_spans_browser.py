"""Span and preference questions on the Label page in a real browser: spans made, retyped and removed
by keyboard and by mouse, preference pairs picked by keys, hostile text shown literally in the span
editor, nothing fetched from outside; every answer checked in the store.

No NER or preference sample is available offline: the span texts are TREC questions
(``sample_data/trec_questions.csv``) with spans made by hand for these tests, and the preference pairs
are GSM8K questions (``sample_data/gsm8k_test.jsonl``) whose chosen answer is their own reference
solution and whose rejected answer is the next question's solution (a mismatched answer)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from curate.ingest import ingest
from curate.label import annotations, queues, questions
from curate.label.preference_order import left_response
from curate.store.workspace import Workspace
from tests.conftest import choose, outside_requests, wait_for_app
from tests.hostile_text import TEXTS as HOSTILE

ROOT = Path(__file__).resolve().parents[1]
TYPES = ["PER", "LOC", "ORG"]
# TREC question index → hand-made (entity, type) spans given at ingest (pre-annotations).
PRE = {10: [], 13: [("Gandhi", "LOC")], 6: [("St. Louis", "LOC")], 27: [], 28: [], 1: [("Popeye Doyle", "PER")]}


def _span(text: str, entity: str, label: str) -> dict:
    start = text.index(entity)
    return {"start": start, "end": start + len(entity), "label": label}


def trec_texts() -> dict[int, str]:
    with open(ROOT / "sample_data" / "trec_questions.csv", encoding="utf-8", newline="") as f:
        return {int(r["idx"]): r["text"] for r in csv.DictReader(f)}


def spans_workspace(root: Path) -> Workspace:
    """A workspace with a ``ner`` spans dataset (TREC questions with hand-made pre-annotations, then the
    hostile texts) and its ``ents`` question, and a ``pref`` preference dataset with question ``better``."""
    ws = Workspace(root)
    data = root.parent / f"{root.name}-data"
    data.mkdir(parents=True, exist_ok=True)
    texts = trec_texts()
    rows = [{"id": f"trec-{i}", "text": texts[i], "spans": [_span(texts[i], e, t) for e, t in pre]}
            for i, pre in PRE.items()]
    rows += [{"id": f"hostile-{i}", "text": t, "spans": []} for i, t in enumerate(HOSTILE)]
    (data / "ner.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ingest(ws, [data / "ner.jsonl"], "ner")
    questions.add_question(ws, "ner", "ents", "spans", options=TYPES)
    gsm = [json.loads(line) for line in (ROOT / "sample_data" / "gsm8k_test.jsonl").read_text().splitlines()[:4]]
    pairs = [{"id": f"gsm-{a['idx']}", "prompt": a["instruction"], "chosen": a["response"], "rejected": b["response"]}
             for a, b in zip(gsm, gsm[1:])]
    (data / "pref.jsonl").write_text("".join(json.dumps(r) + "\n" for r in pairs), encoding="utf-8")
    ingest(ws, [data / "pref.jsonl"], "pref")
    questions.add_question(ws, "pref", "better", "preference")
    return ws


def _stored(ws: Workspace, dataset: str, question: str) -> dict[str, object]:
    """The current answers of ``local`` by the source record's id, decoded."""
    return {a["id"]: json.loads(a["value"]) for a in annotations.export_labels(ws, dataset, question=question)
            if a["annotator"] == "local"}


def _text(page) -> str:
    return page.locator(".cse-text").evaluate("e => e.textContent")


def _on(page, text: str) -> None:
    """Wait until the span editor shows ``text`` and the script is done."""
    page.wait_for_function("t => { const e = document.querySelector('.cse-text'); return e && e.textContent === t; }",
                           arg=text)
    wait_for_app(page)


def _char(page, offset: int) -> tuple[float, float, float]:
    """Left x, middle y and width of the character at ``offset`` in the span editor."""
    return page.evaluate("""o => {
        const seg = [...document.querySelectorAll('.cse-text .cse-seg')].filter(s => Number(s.dataset.s) <= o).pop();
        const r = document.createRange(), i = o - Number(seg.dataset.s);
        r.setStart(seg.firstChild, i); r.setEnd(seg.firstChild, i + 1);
        const b = r.getBoundingClientRect(); return [b.left, b.top + b.height / 2, b.width]; }""", offset)


def _drag(page, start: int, end: int) -> None:
    """Select characters [start, end) with the mouse."""
    x0, y0, _ = _char(page, start)
    x1, y1, w1 = _char(page, end - 1)
    page.mouse.move(x0 + 1, y0)
    page.mouse.down()
    page.mouse.move(x1 + w1 - 1, y1, steps=5)
    page.mouse.up()


def _click_type_and_submit(page, text: str, span: dict, text_next: str) -> None:
    """With ``span`` selected, click its type's button (or "remove"), then Submit; wait for the next text."""
    a, b = span["start"], span["end"]
    page.wait_for_selector(f"text=selected [{a}, {b}) “{text[a:b]}”")
    page.locator(".cse-chip", has_text=span["label"]).click()
    if span["label"] == "remove":
        page.wait_for_function("() => !document.querySelector('.cse-text mark')")
    else:
        page.wait_for_selector(f"mark.cse-last[data-label='{span['label']}']")
    wait_for_app(page)
    page.get_by_role("button", name="Submit").click()
    _on(page, text_next)


def _submit_and_wait(page, text_next: str) -> None:
    page.keyboard.press("Enter")
    _on(page, text_next)


@pytest.mark.browser
def test_spans_by_keyboard_and_mouse_stored_as_offsets(tmp_path: Path, ui_server, page) -> None:
    ws = spans_workspace(tmp_path / "ws")
    t = trec_texts()
    seen = outside_requests(page)
    server = ui_server(ws, sign_in=None)
    page.goto(f"{server.url}/label")
    _on(page, t[10])

    # 1. Keyboard, a new span: → selects a word, Shift+→ grows it, a digit types it, Enter saves it
    # (the keys go out without waiting: the span reaches the server before the submit).
    for key in ["ArrowRight"] * 3 + ["Shift+ArrowRight", "1", "Enter"]:
        page.keyboard.press(key)
    _on(page, t[13])
    # 2. Keyboard, a pre-annotation retyped: Gandhi was ingested as LOC, the digit of PER replaces it.
    page.wait_for_selector("mark.cse-last[data-label='LOC']")
    for key in ["ArrowRight"] * 3:
        page.keyboard.press(key)
    page.wait_for_selector("text=selected [11, 17) “Gandhi”")
    page.keyboard.press("1")
    page.wait_for_selector("mark.cse-last[data-label='PER']")
    _submit_and_wait(page, t[6])
    # 3. Keyboard, a pre-annotation removed then a longer span made: St. Louis (LOC) → St. Louis Browns (ORG).
    for key in ["ArrowRight"] * 7 + ["Backspace"]:
        page.keyboard.press(key)
    page.wait_for_function("() => !document.querySelector('.cse-text mark')")
    for key in ["Shift+ArrowRight"] * 3 + ["3"]:
        page.keyboard.press(key)
    page.wait_for_selector("mark.cse-last[data-label='ORG']")
    _submit_and_wait(page, t[27])

    # 4. Mouse: drag over "United States", click the LOC button, click Submit.
    us = _span(t[27], "United States", "LOC")
    _drag(page, us["start"], us["end"])
    _click_type_and_submit(page, t[27], us, t[28])
    # 5. Mouse: a double click selects a word.
    myrtle = _span(t[28], "Myrtle", "LOC")
    x, y, _ = _char(page, myrtle["start"] + 2)
    page.mouse.dblclick(x, y)
    _click_type_and_submit(page, t[28], myrtle, t[1])
    # 6. Mouse: a click on a pre-annotated span selects it, "remove" deletes it; submitted with no spans.
    page.locator(".cse-text mark").first.click()
    popeye = _span(t[1], "Popeye Doyle", "PER")
    _click_type_and_submit(page, t[1], {**popeye, "label": "remove"}, HOSTILE[0])

    stored = _stored(ws, "ner", "ents")
    assert stored == {
        "trec-10": [_span(t[10], "Ozzy Osbourne", "PER")],
        "trec-13": [_span(t[13], "Gandhi", "PER")],
        "trec-6": [_span(t[6], "St. Louis Browns", "ORG")],
        "trec-27": [us],
        "trec-28": [myrtle],
        "trec-1": [],
    }

    # Hostile text: shown character for character (tags, entities, leading spaces, line breaks), no
    # element made from it, and offsets counted on the text as stored.
    for i, text in enumerate(HOSTILE):
        _on(page, text)
        assert page.locator(".cse-text img, .cse-text b, .cse-text a, .cse-text h1").count() == 0
        if i < len(HOSTILE) - 1:
            page.keyboard.press("j")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("2")
    page.wait_for_selector("mark.cse-last[data-label='LOC']")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Saved example")
    wait_for_app(page)
    assert _stored(ws, "ner", "ents")[f"hostile-{len(HOSTILE) - 1}"] == [{"start": 3, "end": 8, "label": "LOC"}]
    assert seen == []


@pytest.mark.browser
def test_preference_pairs_by_keys(tmp_path: Path, ui_server, page) -> None:
    """Keys pick sides; the order is random per item (``curate.label.preference_order``): on the item
    whose left response is the ingested rejected, the key of the side showing the ingested chosen
    stores a pick of chosen (``choice`` 1), with the response that was on the left."""
    ws = spans_workspace(tmp_path / "ws")
    seen = outside_requests(page)
    server = ui_server(ws, sign_in=None)
    q = questions.get_question(ws, "pref", "better")
    lefts = [left_response(q.id, eid, "local") for eid in queues.fetch(ws, q, "local")]
    assert lefts == ["1", "2", "1"]  # the fixture has the ingested rejected on the left of its second item
    page.goto(f"{server.url}/label")
    wait_for_app(page)
    choose(page, "Dataset", "pref")
    page.wait_for_selector(".st-key-lbl_pref_2")
    page.evaluate("document.activeElement.blur()")
    pairs = [json.loads(line) for line in (tmp_path / "ws-data" / "pref.jsonl").read_text().splitlines()]
    shown = lambda pair, left: (pair["chosen"], pair["rejected"])[:: 1 if left == "1" else -1]  # noqa: E731
    # first: the right side (the ingested rejected); second: the right side, which shows the ingested chosen.
    # (a pair's rejected is the next pair's chosen: the item is on screen when both sides show it)
    both = """([a, b]) => document.querySelector('.st-key-lbl_pref_1 pre')?.textContent === a
                         && document.querySelector('.st-key-lbl_pref_2 pre')?.textContent === b"""
    for pair, left, key in zip(pairs, lefts, ["2", "2", "="]):
        page.wait_for_function(both, arg=list(shown(pair, left)))
        wait_for_app(page)
        page.keyboard.press(key)
        page.wait_for_selector(f".st-key-lbl_opt_{'12='.index(key)} [data-testid='stBaseButton-primary']")
        if key == "=":  # a tie with a reason: R opens its box, Esc leaves it, Enter submits
            page.keyboard.press("r")
            page.wait_for_function("() => document.activeElement?.getAttribute('aria-label')?.startsWith('Reason')")
            page.keyboard.type("neither answers the question")
            page.keyboard.press("Escape")
        wait_for_app(page)
        page.keyboard.press("Enter")
    page.wait_for_selector("text=This queue is empty")
    assert _stored(ws, "pref", "better") == {
        pairs[0]["id"]: {"choice": "2", "left": "1"}, pairs[1]["id"]: {"choice": "1", "left": "2"},
        pairs[2]["id"]: {"choice": "=", "left": "1", "reason": "neither answers the question"}}
    assert seen == []
