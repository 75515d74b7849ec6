"""Agreement figures against values computed by hand (see the comments for the arithmetic)."""

from __future__ import annotations

import pytest

from curate.ingest import ingest
from curate.label import agreement, annotations, questions
from curate.store.workspace import Workspace
from tests.conftest import SAMPLE

# Two raters, six items. Observed agreement 4/6; each rater says "a" half the time, so chance
# agreement is .5·.5 + .5·.5 = .5 and κ = (2/3 − 1/2) / (1 − 1/2) = 1/3.
COHEN = {1: {"p": "a", "q": "a"}, 2: {"p": "a", "q": "b"}, 3: {"p": "b", "q": "b"},
         4: {"p": "b", "q": "b"}, 5: {"p": "a", "q": "a"}, 6: {"p": "b", "q": "a"}}

# Three raters, four items: xxx, xxy, yyy, xyy. Per-item agreement P_i = 1, 1/3, 1, 1/3, so
# P̄ = 2/3; p_x = p_y = 1/2 so P_e = 1/2 and Fleiss' κ = (2/3 − 1/2)/(1/2) = 1/3.
# Krippendorff (nominal): coincidences o_xx = o_yy = 4, o_xy = o_yx = 2, n_x = n_y = 6, n = 12;
# D_o = 4/12, D_e = 2·6·6/(12·11) = 6/11, α = 1 − (1/3)/(6/11) = 7/18.
FLEISS = {1: {"r1": "x", "r2": "x", "r3": "x"}, 2: {"r1": "x", "r2": "x", "r3": "y"},
          3: {"r1": "y", "r2": "y", "r3": "y"}, 4: {"r1": "x", "r2": "y", "r3": "y"}}


def test_cohen_by_hand() -> None:
    [pair] = agreement.cohen_pairs(COHEN)
    assert (pair["a"], pair["b"], pair["n"]) == ("p", "q", 6)
    assert pair["kappa"] == pytest.approx(1 / 3)
    assert pair["observed"] == pytest.approx(4 / 6)


def test_fleiss_and_alpha_by_hand() -> None:
    kappa, used, raters = agreement.fleiss(FLEISS)
    assert kappa == pytest.approx(1 / 3) and (used, raters) == (4, 3)
    assert agreement.alpha(FLEISS) == pytest.approx(7 / 18)


def test_perfect_and_undefined() -> None:
    same = {i: {"a": str(i % 2), "b": str(i % 2)} for i in range(6)}
    assert agreement.cohen_pairs(same)[0]["kappa"] == pytest.approx(1.0)
    assert agreement.alpha(same) == pytest.approx(1.0)
    one_class = {i: {"a": "x", "b": "x"} for i in range(3)}
    assert agreement.cohen_pairs(one_class)[0]["kappa"] is None
    assert agreement.fleiss({}) == (None, 0, 0)


def test_agreement_from_the_store(workspace: Workspace) -> None:
    """The FLEISS fixture recorded as answers (with an overridden first answer) gives the same figures."""
    ingest(workspace, [SAMPLE / "sst2_sentences.jsonl"], "sst2")
    q = questions.add_question(workspace, "sst2", "xy", "label", options=["x", "y"], overlap=3)
    annotations.record(workspace, q, 2, "y", "r1")  # replaced below: only the latest counts
    for example, answers in FLEISS.items():
        for annotator, value in answers.items():
            annotations.record(workspace, q, example, value, annotator)
    [result] = agreement.agreement(workspace, "sst2", "xy")
    assert result["fleiss"] == pytest.approx(1 / 3)
    assert result["alpha"] == pytest.approx(7 / 18)
    assert (result["overlapping"], result["disagreements"], result["answers"]) == (4, 2, 12)
    assert {(p["a"], p["b"]) for p in result["cohen"]} == {("r1", "r2"), ("r1", "r3"), ("r2", "r3")}
    # r1 vs r2: x/x, x/x, y/y, x/y → po = 3/4; r1 says x 3/4, r2 x 1/2 → pe = 3/8 + 1/8 = 1/2; κ = 1/2
    r1r2 = next(p for p in result["cohen"] if (p["a"], p["b"]) == ("r1", "r2"))
    assert r1r2["kappa"] == pytest.approx(0.5)
