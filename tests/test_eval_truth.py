"""Eval scores that cannot silently lie: label-space checks, own splits always scored, per-class
detail everywhere, `curate eval` / `curate predict`, and a leaderboard that never ranks across label spaces."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from curate import train, versions
from curate.cli import app
from curate.ingest import ingest
from curate.store import catalog, train as store
from curate.store.workspace import Workspace
from tests.conftest import SAMPLE

NAMED = {"0": "negative", "1": "positive"}


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, int, Path]:
    """sst2 (labels negative/positive) with a baseline run; eval sets ``raw-test`` (labels 0/1, another
    dataset) and ``named-test`` (negative/positive, another dataset) pinned before it trained."""
    root = tmp_path_factory.mktemp("evaltruth")
    lines = (SAMPLE / "sst2_sentences.jsonl").read_text().splitlines()
    (root / "a.jsonl").write_text("\n".join(lines[:80]) + "\n")
    (root / "b.jsonl").write_text("\n".join(lines[80:120]) + "\n")
    ws = Workspace(root / "ws")
    ingest(ws, [root / "a.jsonl"], "sst2", labels=NAMED)
    ingest(ws, [root / "b.jsonl"], "raw")
    ingest(ws, [root / "b.jsonl"], "named", labels=NAMED)
    for name in ("sst2", "raw", "named"):
        versions.create_version(ws, name, "v1", split=(0.8, 0.1, 0.1))
    versions.pin_eval_set(ws, "raw:v1", "all", "raw-test")
    versions.pin_eval_set(ws, "named:v1", "all", "named-test")
    run = train.execute(ws, train.create(ws, "sst2:v1", baseline=True))
    assert run.status == "done", run.message
    return ws, run.id, root


def test_eval_set_with_another_label_space_is_refused_not_scored(scored) -> None:
    ws, run_id, _ = scored
    scores = train.scores(ws, run_id)
    assert set(scores) == {"sst2:v1:validation", "sst2:v1:test", "named-test"}
    run = train.get(ws, run_id)
    reason = run.counters.eval_refused["raw-test"]
    assert "labels 0, 1 are not classes of the model (negative, positive)" in reason
    with ws.connect() as con:
        assert not [r for r in store.eval_results(con, [run_id]) if r["eval_set"] == "raw-test"]
    r = CliRunner().invoke(app, ["-w", str(ws.root), "eval", str(run_id), "--on", "raw-test"])
    assert r.exit_code == 1 and "not classes of the model" in r.output and len(r.output.strip().splitlines()) == 1
    with ws.connect() as con:
        assert not [r for r in store.eval_results(con, [run_id]) if r["eval_set"] == "raw-test"]


def test_every_classification_score_has_per_class_and_confusion(scored) -> None:
    ws, run_id, _ = scored
    details = train.details(ws, run_id)
    for name, s in train.scores(ws, run_id).items():
        assert {"accuracy", "macro_f1", "precision:negative", "recall:positive", "f1:negative"} <= set(s), name
        conf = details[name]["confusion"]
        assert conf["labels"][:2] == ["negative", "positive"] and sum(map(sum, conf["matrix"])) == s["n"]
    r = CliRunner().invoke(app, ["-w", str(ws.root), "runs", "sst2", "--json"])
    assert r.exit_code == 0 and json.loads(r.output.splitlines()[0])["scores"]["named-test"]["n"] == 40


def test_curate_eval_and_predict_on_a_saved_run(scored) -> None:
    ws, run_id, root = scored
    r = CliRunner().invoke(app, ["-w", str(ws.root), "eval", str(run_id), "--on", "named-test", "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert got["metrics"] == train.scores(ws, run_id)["named-test"]
    assert got["detail"]["per_class"]["positive"]["support"] + got["detail"]["per_class"]["negative"]["support"] == 40
    r = CliRunner().invoke(app, ["-w", str(ws.root), "eval", str(run_id), "--on", "named-test"])
    assert r.exit_code == 0 and "confusion matrix" in r.output and "per class" in r.output
    r = CliRunner().invoke(app, ["-w", str(ws.root), "predict", str(run_id), str(root / "b.jsonl")])
    assert r.exit_code == 0, r.output
    preds = [json.loads(line) for line in r.output.splitlines()]
    assert len(preds) == 40 and {p["prediction"] for p in preds} <= {"negative", "positive"}
    assert all(abs(sum(p["probabilities"].values()) - 1) < 1e-4 for p in preds)
    r = CliRunner().invoke(app, ["-w", str(ws.root), "predict", str(run_id), str(root / "b.jsonl"), "--field", "nope"])
    assert r.exit_code == 1 and "b.jsonl:1: record has no text in 'nope'" in r.output and "--field" in r.output


def _score(con, dataset_id: int, kind: str, classes: list[str], refs: list[str], preds: list[str]) -> int:
    from curate.train.evaluate import classification_result

    run_id = store.create_model_run(con, dataset_id=dataset_id, version="v1", kind=kind, task="classification",
                                    model=None, params={}, libraries={})
    rows = [{"example_id": i + 1, "label": r} for i, r in enumerate(refs)]
    probs = pa.array([[1.0] for _ in preds]).to_numpy(zero_copy_only=False)
    metrics, detail, table = classification_result(rows, preds, probs, classes)
    store.save_eval(con, run_id, "ev", metrics, detail, table)
    store.finish(con, run_id, "done")
    return run_id


def test_compare_never_ranks_runs_on_different_label_spaces_together(workspace: Workspace) -> None:
    with workspace.transaction() as con:
        ds = catalog.create_dataset(con, "toy", "classification")
        two = _score(con, ds["id"], "finetune", ["neg", "pos"], ["neg", "pos", "pos"], ["neg", "pos", "neg"])
        three = _score(con, ds["id"], "finetune", ["neg", "neu", "pos"], ["neg", "pos", "pos"], ["neg", "pos", "pos"])
        # recorded before curate refused such sets: the references are not the model's classes
        wrong = _score(con, ds["id"], "finetune", ["0", "1"], ["neg", "pos", "pos"], ["0", "1", "1"])
    board = train.leaderboard(workspace, "toy")
    ranks = {r.run: (r.label_space, r.rank, r.mismatch) for r in board}
    assert ranks == {two: ("neg, pos", 1, False), three: ("neg, neu, pos", 1, False), wrong: ("0, 1", None, True)}
    r = CliRunner().invoke(app, ["-w", str(workspace.root), "compare", "toy", "--json"])
    assert r.exit_code == 0 and {x["run"]: x["rank"] for x in json.loads(r.output)} == {two: 1, three: 1, wrong: None}
    r = CliRunner().invoke(app, ["-w", str(workspace.root), "compare", "toy"])
    assert "not comparable" in r.output
