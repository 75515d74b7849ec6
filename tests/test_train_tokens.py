"""Token classification on a spans version: seqeval figures as seqeval gives them, and a real
(tiny) MiniLM fine-tune through the runner stores entity-level scores per type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate import versions
from curate.ingest import ingest
from curate.store.workspace import Workspace
from curate.train import runner
from curate.train.params import TrainParams
from curate.train.tokens import entity_metrics
from tests.test_spans_preference import _hf_ner

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "O", "O", "B-PER"], ["O", "B-LOC", "I-LOC"]]
PRED = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "O", "O", "O", "B-PER"], ["O", "B-LOC", "I-LOC"]]


def test_entity_metrics_match_seqeval_called_directly() -> None:
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

    metrics, detail = entity_metrics(GOLD, PRED)
    assert metrics["precision"] == pytest.approx(precision_score(GOLD, PRED))
    assert metrics["recall"] == pytest.approx(recall_score(GOLD, PRED))
    assert metrics["f1"] == pytest.approx(f1_score(GOLD, PRED))
    report = classification_report(GOLD, PRED, output_dict=True)
    for kind in ("PER", "ORG", "LOC"):
        assert metrics[f"f1:{kind}"] == pytest.approx(report[kind]["f1-score"])
        assert detail["support"][kind] == report[kind]["support"]
    # By hand: gold entities PER, LOC, ORG, PER, LOC (5); predicted PER, ORG (one token: wrong), PER, LOC
    # (4), of which PER, PER, LOC are right: P = 3/4, R = 3/5.
    assert (metrics["precision"], metrics["recall"]) == (pytest.approx(3 / 4), pytest.approx(3 / 5))


@pytest.mark.slow
def test_token_classification_run_stores_entity_scores(workspace: Workspace, tmp_path: Path) -> None:
    ingest(workspace, [_hf_ner(tmp_path / "ner_hf", copies=4)], "ner")
    versions.create_version(workspace, "ner", "v1", split=(0.75, 0, 0.25))
    run_id = runner.create(workspace, "ner:v1", params=TrainParams(max_steps=3, batch_size=8, max_length=32))
    run = runner.execute(workspace, run_id)
    assert run.status == "done", run.message
    with workspace.connect() as con:
        scores = dict(con.execute("SELECT metric, value FROM eval_results WHERE run_id = ? AND eval_set = 'ner:v1:test'",
                                  [run_id]).fetchall())
        preds = con.execute("SELECT reference, prediction FROM eval_predictions WHERE run_id = ?", [run_id]).fetchall()
    assert {"precision", "recall", "f1"} <= set(scores) and 0 <= scores["f1"] <= 1
    # one prediction per test row; the copies of a sentence (names suffixed 1, 2, 3) are near-duplicates,
    # so each sentence's copies share a split and the test split holds whole groups
    test_rows = versions.get_version(workspace, "ner:v1").counters.splits.test
    assert test_rows >= 1 and len(preds) == test_rows
    assert all(len(json.loads(r)) == len(json.loads(p)) for r, p in preds)
    assert (workspace.root / run.artifact / "config.json").exists()
