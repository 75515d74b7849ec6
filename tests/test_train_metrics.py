"""Evaluation metrics on fixtures with known predictions."""

from __future__ import annotations

import pytest

from curate.train.metrics import classification_metrics, generated_answer, perplexity, short_answer


def test_classification_metrics_known_fixture() -> None:
    refs = ["pos", "pos", "pos", "neg", "neg", "neu"]
    preds = ["pos", "pos", "neg", "neg", "pos", "neu"]
    m = classification_metrics(refs, preds, ["neg", "neu", "pos"])
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["per_class"]["pos"] == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    assert m["per_class"]["neg"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    assert m["per_class"]["neu"]["f1"] == 1.0
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.5 + 1.0) / 3)
    assert m["confusion"] == {"labels": ["neg", "neu", "pos"], "matrix": [[1, 0, 1], [0, 1, 0], [1, 0, 2]]}


def test_reference_outside_the_classes_counts_as_an_error() -> None:
    m = classification_metrics(["a", "b", "zzz"], ["a", "b", "a"], ["a", "b"])
    assert m["accuracy"] == pytest.approx(2 / 3)
    assert m["confusion"]["labels"] == ["a", "b", "zzz"]
    assert m["confusion"]["matrix"][2] == [1, 0, 0]


def test_short_answers_and_exact_match_forms() -> None:
    assert short_answer("She earned 0.2 x 50 = $10.\n#### 10") == "10"
    assert short_answer("#### 1,250") == "1250"
    assert short_answer("Paris.") == "paris"
    assert short_answer("a long answer " * 10) is None
    assert generated_answer("so it is 5 + 5 = 10\n#### 10", "10") == "10"
    assert generated_answer("the total is 72 clips", "72") == "72"
    assert generated_answer("Paris\nbecause", "paris") == "paris"
    assert perplexity(0.0) == 1.0
