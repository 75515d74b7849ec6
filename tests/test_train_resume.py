"""Checkpoints, resume of a killed worker, two data-parallel processes and a hyperparameter search:
real worker processes on a real store, with a tiny BERT built from a config."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from curate import train, versions
from curate.errors import InputError
from curate.ingest import ingest
from curate.store.workspace import Workspace
from curate.train import TrainParams
from tests.tiny import tiny_bert

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture
def small(workspace: Workspace, tmp_path: Path) -> tuple[Workspace, str]:
    """80 SST-2 sentences as ``sst2:v1`` (64/8/8) with eval set ``small-test``, and a tiny BERT."""
    lines = (SAMPLE / "sst2_sentences.jsonl").read_text().splitlines()[:80]
    (tmp_path / "small.jsonl").write_text("\n".join(lines) + "\n")
    ingest(workspace, [tmp_path / "small.jsonl"], "sst2")
    versions.create_version(workspace, "sst2", "v1", split=(0.8, 0.1, 0.1))
    versions.pin_eval_set(workspace, "sst2:v1", "test", "small-test")
    import json

    model = tiny_bert(tmp_path / "bert", [json.loads(x)["text"] for x in lines])
    return workspace, str(model)


def _final(ws: Workspace, run_id: int) -> tuple[float, float | None, list]:
    run = train.get(ws, run_id)
    assert run.status == "done", (run.message, train.log_path(ws, run_id).read_text()[-3000:])
    curve = [(p.step, round(p.loss, 3)) for p in train.progress(ws, run_id)]
    return train.scores(ws, run_id)["small-test"]["accuracy"], run.counters.best_val_accuracy, curve


@pytest.mark.slow
def test_a_killed_worker_resumes_to_the_metrics_of_an_uninterrupted_run(small) -> None:
    ws, model = small
    params = TrainParams(model=model, epochs=16, batch_size=8, lr=3e-3, max_length=32, patience=0,
                         evals_per_epoch=1, seed=3)  # 128 steps, a checkpoint every 8
    whole = train.create(ws, "sst2:v1", params=params)
    train.execute(ws, whole)
    expected = _final(ws, whole)

    run_id = train.start(ws, "sst2:v1", params=params)
    folder = train.run_folder(ws, run_id)
    deadline = time.monotonic() + 240
    while not any(int(p.name.split("-")[1]) >= 64 for p in folder.glob("checkpoint-*")
                  if (p / "trainer_state.json").exists()):  # the folder only: no store reads racing the worker
        assert time.monotonic() < deadline, "no checkpoint at 50 %"
        time.sleep(0.05)
    os.killpg(train.get(ws, run_id).pid, signal.SIGKILL)
    train.wait(ws, run_id, timeout=30)
    assert train.get(ws, run_id).status == "failed"
    with pytest.raises(InputError, match="only a failed or cancelled run resumes"):
        train.resume(ws, whole)

    step = train.resume(ws, run_id)
    assert 64 <= step < 128
    run = train.wait(ws, run_id, timeout=300)
    assert run.counters.resumed_from_step == step
    accuracy, best_val, curve = _final(ws, run_id)
    assert abs(accuracy - expected[0]) <= 0.005 and best_val == pytest.approx(expected[1], abs=0.005)
    assert [s for s, _ in curve] == [s for s, _ in expected[2]]           # one point per step, none twice
    assert [loss for _, loss in curve] == pytest.approx([loss for _, loss in expected[2]], abs=2e-3)
    assert (folder / "tensorboard").is_dir() and any((folder / "tensorboard").iterdir())
    assert not list(folder.glob("checkpoint-*"))                           # done: checkpoints removed


def test_a_cancelled_fit_checkpoints_where_it_stopped_and_keeps_the_best(small, tmp_path) -> None:
    from curate.train import classify
    from curate.train.loop import Hooks
    from curate.train.checkpoints import last_checkpoint

    ws, model = small
    rows, val = versions.load_rows(ws, "sst2:v1", split="train"), versions.load_rows(ws, "sst2:v1", split="validation")
    calls = iter(range(1000))
    params = TrainParams(model=model, epochs=10, batch_size=8, max_length=32, patience=0)
    clf = classify.train(rows, val, params, folder=tmp_path / "run",
                         hooks=Hooks(should_stop=lambda: next(calls) >= 20))  # cancel after step 21
    assert clf.fit.cancelled and clf.fit.steps == 21
    kept = sorted(int(p.name.split("-")[1]) for p in (tmp_path / "run").glob("checkpoint-*"))
    assert kept[-1] == 21 and len(kept) <= 2 and clf.fit.best_step in kept  # the last and the best
    assert last_checkpoint(tmp_path / "run").name == "checkpoint-21"


@pytest.mark.slow
def test_two_gloo_processes_match_one_process(small) -> None:
    ws, model = small
    common = dict(model=model, epochs=4, lr=3e-3, max_length=32, patience=0, dropout=0.0, seed=5)
    one = train.start(ws, "sst2:v1", params=TrainParams(batch_size=16, **common))
    train.wait(ws, one, timeout=300)
    two = train.start(ws, "sst2:v1", params=TrainParams(batch_size=8, processes=2, **common))
    train.wait(ws, two, timeout=300)
    a, b = _final(ws, one), _final(ws, two)
    assert train.get(ws, two).counters.steps == train.get(ws, one).counters.steps == 16
    assert abs(a[0] - b[0]) <= 0.13 and a[1] == pytest.approx(b[1], abs=0.13)  # 8 eval rows: one item = 0.125
    assert [loss for _, loss in b[2]] == pytest.approx([loss for _, loss in a[2]], abs=0.02)
    assert "gloo" in train.log_path(ws, two).read_text() or train.get(ws, two).device.startswith("cpu")


@pytest.mark.slow
def test_a_search_of_three_trials_records_three_runs_and_marks_the_best(small) -> None:
    from curate.train.search import search

    ws, model = small
    params = TrainParams(model=model, epochs=1, batch_size=8, max_length=32, patience=0)
    result = search(ws, "sst2:v1", params, "lr=1e-4:1e-2:log,batch_size=8|16", trials=3, sampler="random")
    assert len(result["trials"]) == 3 and result["status"] == "done"
    found = train.searches(ws, "sst2")
    assert len(found) == 1 and len(found[0]["trials"]) == 3
    scores = {t["run"]: t["score"] for t in found[0]["trials"]}
    assert found[0]["best_run"] == result["best_run"] == max(scores, key=scores.get)
    runs = [r for r in train.runs(ws, "sst2") if (r.search or {}).get("id") == result["id"]]
    assert len(runs) == 3 and all(r.status == "done" for r in runs)
    lrs = {r.params["lr"] for r in runs}
    assert len(lrs) == 3 and all(1e-4 <= lr <= 1e-2 for lr in lrs)
    board = train.leaderboard(ws, "sst2", best_trials=True)
    assert {r.run for r in board} == {result["best_run"]}   # on every eval set: the best trial only
    assert {r.run for r in train.leaderboard(ws, "sst2")} == {r.id for r in runs}
