"""The order of a preference pair on the Label page: random per item, the same on every visit; answers
stored as the response that won (not the side), the side shown recorded, and what reads answers
(versions, κ, the disagreements queue, position bias) kept right under the shuffled display.

Data: GSM8K test questions (``sample_data/gsm8k_test.jsonl``, MIT) paired as in
``tests/test_label_spans_browser``: chosen = the question's own reference solution, rejected = the
next question's solution (constructed pairs, not human preferences)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from curate import versions
from curate.ingest import ingest
from curate.label import agreement, annotations, queues, questions
from curate.label.preference_order import left_response, position_bias, swap
from curate.store.workspace import Workspace
from curate.ui import label_preference
from curate.ui.label_show import answer_text
from curate.ui.labelling import annotations_from

ROOT = Path(__file__).resolve().parents[1]


def gsm_pairs(n: int) -> list[dict]:
    gsm = [json.loads(line) for line in (ROOT / "sample_data" / "gsm8k_test.jsonl").read_text().splitlines()[:n + 1]]
    return [{"id": f"gsm-{a['idx']}", "prompt": a["instruction"], "chosen": a["response"], "rejected": b["response"]}
            for a, b in zip(gsm, gsm[1:])]


@pytest.fixture
def pairs(workspace: Workspace, tmp_path: Path) -> Workspace:
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in gsm_pairs(20)), encoding="utf-8")
    ingest(workspace, [path], "pref")
    questions.add_question(workspace, "pref", "better", "preference", overlap=3)
    return workspace


def test_order_is_random_per_item_and_stable(pairs: Workspace) -> None:
    q = questions.get_question(pairs, "pref", "better")
    ids = queues.fetch(pairs, q, "ann")
    assert len(ids) == 20
    lefts = [queues.item(pairs, q, i, "ann")["left"] for i in ids]
    assert set(lefts) == {"1", "2"}  # not always the ingested chosen first (nor always last)
    assert [queues.item(pairs, q, i, "ann")["left"] for i in ids] == lefts  # a rerun shows the same order
    assert lefts == [left_response(q.id, i, "ann") for i in ids]
    assert [left_response(q.id, i, "bob") for i in ids] != lefts  # drawn per annotator too


def test_a_side_is_stored_as_the_response_it_shows(pairs: Workspace) -> None:
    """Key 1 on an item whose left response is the ingested rejected stores choice 2 (rejected won) and
    left 2; the page then highlights side 1 again, and the version swaps the pair."""
    q = questions.get_question(pairs, "pref", "better")
    ids = queues.fetch(pairs, q, "ann")
    flipped = next(i for i in ids if left_response(q.id, i, "ann") == "2")
    straight = next(i for i in ids if left_response(q.id, i, "ann") == "1")
    for eid, side in ((flipped, "1"), (straight, "1")):
        item = queues.item(pairs, q, eid, "ann")
        assert item is not None
        annotations.record(pairs, q, eid, label_preference.answer(side, {}, item), "ann")
    stored = {a["example_id"]: json.loads(a["value"]) for a in annotations.export_labels(pairs, "pref", question="better")}
    assert stored[flipped] == {"choice": "2", "left": "2"} and stored[straight] == {"choice": "1", "left": "1"}
    item = queues.item(pairs, q, flipped, "ann")
    assert item is not None
    assert annotations_from(item["mine"], "preference", item) == "1"  # the side picked, highlighted
    assert answer_text(q, item["mine"], item) == "response 1 is better"
    with pairs.connect() as con:
        raw = dict(con.execute("SELECT id, chosen FROM examples WHERE id IN (?, ?)", [flipped, straight]).fetchall())
    versions.create_version(pairs, "pref", "v1", split=(1, 0, 0))
    rows = {r["example_id"]: r for r in versions.load_rows(pairs, "pref:v1")}
    assert rows[flipped]["rejected"] == json.loads(raw[flipped])  # rejected won: the pair is swapped
    assert rows[straight]["chosen"] == json.loads(raw[straight])


def test_kappa_and_disagreements_compare_responses_not_sides(pairs: Workspace) -> None:
    """ann and bob pick the same responses on 6 items, each seeing its own order (so often different
    sides) and writing different reasons: κ = 1 and no disagreement. cy differs on one: a disagreement."""
    q = questions.get_question(pairs, "pref", "better")
    ids = queues.fetch(pairs, q, "ann")[:6]
    wanted = dict(zip(ids, "1212=1"))
    for who in ("ann", "bob"):
        for eid, response in wanted.items():
            left = left_response(q.id, eid, who)
            annotations.record(pairs, q, eid, {"choice": response, "left": left, "reason": who}, who)
    annotations.record(pairs, q, ids[0], {"choice": "2", "left": "1"}, "cy")
    [result] = agreement.agreement(pairs, "pref", "better")
    [ann_bob] = [p for p in result["cohen"] if (p["a"], p["b"]) == ("ann", "bob")]
    assert (ann_bob["n"], ann_bob["kappa"], ann_bob["observed"]) == (6, 1.0, 1.0)
    assert result["disagreements"] == 1
    assert queues.fetch(pairs, q, "ann", "disagreements") == [ids[0]]


def test_position_bias_counts_the_left_picks_per_annotator(pairs: Workspace) -> None:
    """lefty always presses the left key (4 picks, 4 left); fair picks responses 1,2,1,2 whatever the side;
    a tie and an imported answer (never shown) are left out; an old Label page answer without ``left``
    had response 1 on the left."""
    q = questions.get_question(pairs, "pref", "better")
    ids = queues.fetch(pairs, q, "ann")[:5]
    for eid in ids[:4]:
        item = queues.item(pairs, q, eid, "lefty")
        assert item is not None
        annotations.record(pairs, q, eid, label_preference.answer("1", {}, item), "lefty")
    fair = dict(zip(ids[:4], "1212"))
    for eid, response in fair.items():
        annotations.record(pairs, q, eid, {"choice": response, "left": left_response(q.id, eid, "fair")}, "fair")
    annotations.record(pairs, q, ids[4], {"choice": "=", "left": "1"}, "fair")
    annotations.record(pairs, q, ids[4], "2", "old")  # origin ui, no left: shown as 1 left, 2 right
    annotations.record(pairs, q, ids[4], "1", "imported", origin="import")
    [result] = agreement.agreement(pairs, "pref", "better")
    bias = {p["annotator"]: (p["picks"], p["left"]) for p in result["position"]}
    fair_left = sum(left_response(q.id, eid, "fair") == r for eid, r in fair.items())
    assert bias == {"lefty": (4, 4), "fair": (4, fair_left), "old": (1, 0)}
    assert [p["left_share"] for p in result["position"] if p["annotator"] == "lefty"] == [1.0]


def test_swap_and_stored_shape() -> None:
    assert [swap(v, "1") for v in "12="] == ["1", "2", "="]
    assert [swap(v, "2") for v in "12="] == ["2", "1", "="]
    assert position_bias([{"annotator": "a", "value": '{"choice": "1"}', "origin": "import"}]) == []
    q = questions.Question(id=1, dataset_id=1, name="better", kind="preference", options=[], overlap=1,
                           created_at=datetime(2026, 1, 1))
    assert annotations.normalize(q, {"choice": "2", "left": "2", "reason": " r "}) == \
        '{"choice": "2", "left": "2", "reason": "r"}'
    with pytest.raises(annotations.InputError, match="left '3' is not a response"):
        annotations.normalize(q, {"choice": "2", "left": "3"})
