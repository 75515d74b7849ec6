"""Model runs end to end on a real store: baseline, fine-tune, worker process, cancel, compare, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate import train, versions
from curate.cli import app
from curate.ingest import ingest
from curate.store import catalog, train as store
from curate.store.workspace import Workspace
from curate.train import TrainParams

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture
def small(workspace: Workspace, tmp_path: Path) -> Workspace:
    """80 SST-2 sentences as dataset ``sst2`` with version v1 (64/8/8 rows) and eval set ``small-test``."""
    lines = (SAMPLE / "sst2_sentences.jsonl").read_text().splitlines()[:80]
    (tmp_path / "small.jsonl").write_text("\n".join(lines) + "\n")
    ingest(workspace, [tmp_path / "small.jsonl"], "sst2")
    versions.create_version(workspace, "sst2", "v1", split=(0.8, 0.1, 0.1))
    versions.pin_eval_set(workspace, "sst2:v1", "test", "small-test")
    return workspace


def test_baseline_run_is_recorded_as_baseline_with_metrics(small: Workspace) -> None:
    run_id = train.create(small, "sst2:v1", baseline=True)
    run = train.execute(small, run_id)
    assert run.status == "done", run.message
    assert run.kind == "baseline" and run.counters.train_rows == 64
    with small.connect() as con:
        stored = store.get_model_run(con, run_id)
    # `runs --json` prints the stored row: same keys, order and values (loss is NaN before a fine-tune's first step)
    assert json.dumps(run.to_json(), default=str) == json.dumps(stored, default=str)
    assert run.ref == "sst2:v1" and run.params["version"] == "v1" and run.search is None
    scores = train.scores(small, run_id)
    assert set(scores) == {"small-test", "sst2:v1:validation", "sst2:v1:test"}  # own splits always scored
    s = scores["small-test"]
    assert 0.0 <= s["accuracy"] <= 1.0 and s["n"] == 8 and {"precision:0", "recall:1", "f1:1", "macro_f1"} <= set(s)
    detail = train.details(small, run_id)["small-test"]
    assert sum(map(sum, detail["confusion"]["matrix"])) == 8
    with small.connect() as con:
        preds = store.predictions(con, run_id, "small-test")
    assert len(preds) == 8 and sum(p["correct"] for p in preds) == round(s["accuracy"] * 8)
    board = train.leaderboard(small, "sst2")
    assert [(r.run, r.kind, r.version, r.rank) for r in board] == [(run_id, "baseline", "v1", 1)] * 3
    assert {r.label_space for r in board} == {"0, 1"}


def test_sft_dataset_needs_a_model_and_baseline_needs_classification(workspace: Workspace) -> None:
    from curate.errors import InputError

    ingest(workspace, [SAMPLE / "gsm8k_test.jsonl"], "gsm")
    versions.create_version(workspace, "gsm", "v1")
    with pytest.raises(InputError, match="causal language model"):
        train.create(workspace, "gsm:v1")
    with pytest.raises(InputError, match="quick baseline"):
        train.create(workspace, "gsm:v1", baseline=True)
    with pytest.raises(InputError, match="no version 'v9'"):
        train.create(workspace, "gsm:v9")


def _fake_run(con, dataset_id: int, version: str, kind: str, correct: list[bool]) -> int:
    """A finished model run with known per-item predictions on eval set ``ev`` (items 1..n)."""
    import pyarrow as pa

    run_id = store.create_model_run(con, dataset_id=dataset_id, version=version, kind=kind,
                                    task="classification", model=None, params={}, libraries={})
    refs = ["1"] * len(correct)
    preds = ["1" if c else "0" for c in correct]
    table = pa.table({"example_id": pa.array(range(1, len(correct) + 1), pa.int64()), "reference": refs,
                      "prediction": preds, "correct": correct, "score": [0.9] * len(correct)})
    store.save_eval(con, run_id, "ev", {"accuracy": sum(correct) / len(correct)}, None, table)
    store.finish(con, run_id, "done")
    return run_id


def test_compare_shows_the_right_flips_and_keeps_baselines_apart(workspace: Workspace) -> None:
    with workspace.transaction() as con:
        ds = catalog.create_dataset(con, "toy", "classification")
        a = _fake_run(con, ds["id"], "v1", "finetune", [True, True, False, False, True])
        b = _fake_run(con, ds["id"], "v2", "finetune", [True, False, True, True, True])
        base = _fake_run(con, ds["id"], "v2", "baseline", [True, True, True, True, True])
    f = train.flips(workspace, a, b)
    assert f.eval_set == "ev"
    assert [p["example_id"] for p in f.fixed] == [3, 4]
    assert [p["example_id"] for p in f.broken] == [2]
    assert (f.both_right, f.both_wrong) == (2, 0)
    assert [p["prediction_a"] for p in f.fixed] == ["0", "0"] and [p["prediction_b"] for p in f.fixed] == ["1", "1"]
    board = train.leaderboard(workspace, "toy")
    assert [(r.kind, r.run, r.value) for r in board] == [("baseline", base, 1.0), ("finetune", b, 0.8),
                                                                  ("finetune", a, 0.6)]
    out = CliRunner().invoke(app, ["-w", str(workspace.root), "compare", "toy", "--flips", str(a), str(b)])
    assert out.exit_code == 0, out.output
    assert "2 fixed (wrong→right), 1 broken (right→wrong)" in out.output
    out = CliRunner().invoke(app, ["-w", str(workspace.root), "compare", "toy", "--metric", "bleu"])
    assert out.exit_code == 1 and "pick one of: accuracy" in out.output


@pytest.mark.slow
def test_finetune_on_64_rows_moves_the_loss_down_and_records_metrics(small: Workspace) -> None:
    params = TrainParams(epochs=4, lr=2e-4, batch_size=16, max_length=32, warmup=0.0, patience=0)
    run_id = train.create(small, "sst2:v1", params=params)
    run = train.execute(small, run_id)
    assert run.status == "done", run.message
    assert run.kind == "finetune" and run.step == run.total_steps == 16
    losses = [p.loss for p in train.progress(small, run_id)]
    assert len(losses) == 16
    assert sum(losses[-4:]) / 4 < sum(losses[:4]) / 4 - 0.05
    assert [p.val_score is not None for p in train.progress(small, run_id)].count(True) == 4
    s = train.scores(small, run_id)["small-test"]
    assert s["n"] == 8 and 0 <= s["accuracy"] <= 1 and "f1:0" in s
    assert (small.root / run.artifact / "config.json").exists()
    saved = json.loads((small.root / run.artifact / "config.json").read_text())
    assert saved["id2label"] == {"0": "0", "1": "1"}
    # the nearest training rows of a failed (or any) eval item come with their provenance
    item = [p.example_id for p in train.failures(small, run_id, "small-test")] or \
        [versions.eval_rows(small, "small-test")[0]["example_id"]]
    near = train.nearest_training_rows(small, run_id, item[0], k=3)
    assert len(near) == 3 and near[0]["similarity"] >= near[-1]["similarity"]
    assert near[0]["source"].endswith("small.jsonl") and near[0]["row_num"] is not None


@pytest.mark.slow
def test_worker_process_reports_progress_and_cancels(small: Workspace) -> None:
    params = TrainParams(epochs=50, lr=1e-4, batch_size=8, max_length=32, patience=0)
    run_id = train.start(small, "sst2:v1", params=params)
    seen = []

    def on_update(run) -> None:
        seen.append(run.step)
        if run.step >= 2 and not run.cancel_requested:
            train.cancel(small, run_id)
    run = train.wait(small, run_id, poll=0.3, timeout=300, on_update=on_update)
    assert run.status == "cancelled", (run.message, train.log_path(small, run_id).read_text()[-2000:])
    assert 2 <= run.step < run.total_steps and max(seen) >= 2
    assert train.scores(small, run_id) == {}


@pytest.mark.slow
def test_cli_trains_a_baseline_in_a_child_process(small: Workspace) -> None:
    out = CliRunner().invoke(app, ["-w", str(small.root), "train", "sst2:v1", "--baseline"])
    assert out.exit_code == 0, out.output
    assert "model run" in out.output and "small-test" in out.output and "accuracy" in out.output
    out = CliRunner().invoke(app, ["-w", str(small.root), "runs", "sst2"])
    assert out.exit_code == 0 and "baseline" in out.output and "done" in out.output
    out = CliRunner().invoke(app, ["-w", str(small.root), "train", "sst2:v1", "--epochs", "-1"])
    assert out.exit_code == 1 and "--epochs" in out.output
