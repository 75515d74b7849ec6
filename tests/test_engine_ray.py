"""The Ray engine gives what the local engine gives: a recipe's edits, signals, issues and report, and
dedup's clusters, on real data, on one Ray instance per module (2 CPUs, no dashboard)."""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.dedup import run_dedup
from curate.ingest import ingest
from curate.ops import RECIPES_DIR, report, run_recipe

from conftest import SAMPLE

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def ray_instance():
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=300_000_000, log_to_driver=False)
    yield
    ray.shutdown()


def _rows(ws, table: str, cols: str, run_id: int) -> list:
    with ws.connect() as con:
        return con.execute(f"SELECT {cols} FROM {table} WHERE run_id = ? ORDER BY ALL", [run_id]).fetchall()


def _same_run(ws, a: int, b: int) -> None:
    for table, cols in (("edits", "example_id, field, value, author"), ("signals", "example_id, name, value"),
                        ("issues", "example_id, kind, reason, score")):
        assert _rows(ws, table, cols, a) == _rows(ws, table, cols, b), table


def _without_seconds(counters: dict) -> dict:
    return {k: ([{s: v for s, v in step.items() if s != "seconds"} for step in c] if k == "steps" else c)
            for k, c in counters.items() if k != "seconds"}


def test_recipe_on_ray_writes_what_the_local_engine_writes(workspace) -> None:
    ingest(workspace, [SAMPLE / "messy_reviews.jsonl"], "messy")
    local = run_recipe(workspace, RECIPES_DIR / "classification.yaml", "messy")
    # through the CLI, in batches of 40 rows: 4 map_batches tasks whose outcomes are merged
    result = CliRunner().invoke(app, ["-w", str(workspace.root), "run", str(RECIPES_DIR / "classification.yaml"),
                                      "--dataset", "messy", "--engine", "ray", "--force"])
    assert result.exit_code == 0, result.output
    with workspace.connect() as con:
        runs = con.execute("SELECT id, params->>'engine' FROM runs WHERE kind = 'recipe' ORDER BY id").fetchall()
    assert [e for _, e in runs] == ["local", "ray"]
    on_ray = runs[-1][0]
    assert _rows(workspace, "issues", "count(*)", local.run_id)[0][0] == 12   # the answer key's 12 drops
    _same_run(workspace, local.run_id, on_ray)
    a, b = report(workspace, "messy", run_id=local.run_id), report(workspace, "messy", run_id=on_ray)
    assert _without_seconds(a.counters.to_json()) == _without_seconds(b.counters.to_json())
    assert a.samples == b.samples and a.edits == b.edits and a.filters == b.filters


def test_sft_recipe_on_ray_in_small_batches(workspace) -> None:
    ingest(workspace, [SAMPLE / "gsm8k_test.jsonl"], "gsm")
    local = run_recipe(workspace, RECIPES_DIR / "sft.yaml", "gsm")
    on_ray = run_recipe(workspace, RECIPES_DIR / "sft.yaml", "gsm", engine="ray", force=True, batch_rows=30, workers=2)
    assert local.counters.edits > 0
    _same_run(workspace, local.run_id, on_ray.run_id)
    assert _without_seconds(local.counters.to_json()) == _without_seconds(on_ray.counters.to_json())
    # no duplicates at all: empty blocks flow through every stage
    assert run_dedup(workspace, "gsm", method="exact", engine="ray").clusters == 0


def _planted(path, seed: int = 0) -> None:
    """GSM8K questions (real) plus near copies: 1-2 words dropped or repeated, some re-cased or re-spaced."""
    rng = random.Random(seed)
    rows = [json.loads(line) for line in (SAMPLE / "gsm8k_train.jsonl").open(encoding="utf-8")]
    out = list(rows)
    for r in rows[:80]:
        for _ in range(rng.randint(1, 3)):
            words = r["instruction"].split()
            i = rng.randrange(len(words))
            words = words[:i] + words[i + 1:] if rng.random() < 0.5 else words[:i] + [words[i]] + words[i:]
            text = " ".join(words)
            out.append(dict(r, instruction=text.upper() if rng.random() < 0.2 else text))
    out += [dict(r) for r in rows[80:100]]   # exact copies
    rng.shuffle(out)
    path.write_text("".join(json.dumps(r) + "\n" for r in out), encoding="utf-8")


def _pairs(ws, run_id: int) -> set[tuple[int, int]]:
    by: dict[int, list[int]] = {}
    for c, e in _rows(ws, "dup_members", "cluster_id, example_id", run_id):
        by.setdefault(c, []).append(e)
    return {(a, b) for g in by.values() for a in g for b in g if a < b}


@pytest.mark.parametrize("method", ["exact", "minhash"])
def test_dedup_on_ray_finds_the_local_clusters(workspace, tmp_path, method) -> None:
    _planted(tmp_path / "planted.jsonl")
    ingest(workspace, [tmp_path / "planted.jsonl"], "planted", task="sft")
    local = run_dedup(workspace, "planted", method=method)
    on_ray = run_dedup(workspace, "planted", method=method, engine="ray", workers=2)
    truth, found = _pairs(workspace, local.run_id), _pairs(workspace, on_ray.run_id)
    assert len(truth) >= (20 if method == "exact" else 100)
    precision, recall = len(truth & found) / len(found), len(truth & found) / len(truth)
    assert 2 * precision * recall / (precision + recall) == 1.0
    cols = "cluster_id, example_id, role, similarity"
    assert _rows(workspace, "dup_members", cols, local.run_id) == _rows(workspace, "dup_members", cols, on_ray.run_id)
    assert _rows(workspace, "issues", "example_id, reason, score", local.run_id) == \
        _rows(workspace, "issues", "example_id, reason, score", on_ray.run_id)
    for k in ("rows", "compared", "candidates", "verified", "clusters", "in_clusters", "flagged"):
        assert getattr(local, k) == getattr(on_ray, k), k


def test_corpus_mode_round_trip(workspace, tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [json.loads(line) for line in (SAMPLE / "messy_reviews.jsonl").open(encoding="utf-8")]
    (tmp_path / "corpus").mkdir()
    for k, part in enumerate((records[:80], records[80:])):   # two files, read in 50-row batches
        pq.write_table(pa.Table.from_pylist(part), tmp_path / "corpus" / f"part-{k}.parquet")
    out = tmp_path / "cleaned"
    runner = CliRunner()
    result = runner.invoke(app, ["run", str(RECIPES_DIR / "classification.yaml"), "--input",
                                 str(tmp_path / "corpus" / "*.parquet"), "--output", str(out), "--engine", "ray"])
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out / "data").to_pylist()
    assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in records)   # every row, input columns kept
    # the same rows dropped for the same reasons, and the same cleaned text, as a run in a store
    ingest(workspace, [SAMPLE / "messy_reviews.jsonl"], "messy")
    local = run_recipe(workspace, RECIPES_DIR / "classification.yaml", "messy")
    with workspace.connect() as con:
        raw = dict(con.execute("SELECT id, raw->>'id' FROM examples").fetchall())
    dropped = {raw[i]: kind for i, kind in _rows(workspace, "issues", "example_id, kind", local.run_id)}
    assert {r["id"]: r["issue"] for r in rows if r["issue"]} == dropped
    assert all(r["signal.lang_conf"] is None or 0 <= r["signal.lang_conf"] <= 1 for r in rows)
    html = next(r for r in records if "<" in r["text"])
    assert "<" not in next(r for r in rows if r["id"] == html["id"])["text"]
    report_doc = json.loads((out / "report.json").read_text())
    assert _without_seconds(report_doc["counters"]) == _without_seconds(local.counters.to_json())
    shown = runner.invoke(app, ["report", "--from", str(out)])
    assert shown.exit_code == 0 and "155 rows, 143 kept" in shown.output and "dropped: too_short" in shown.output
    again = runner.invoke(app, ["run", str(RECIPES_DIR / "classification.yaml"), "--input",
                                str(tmp_path / "corpus"), "--output", str(out), "--engine", "ray"])
    assert again.exit_code == 1 and "not empty" in again.output   # a corpus run never overwrites


def test_corpus_dedup_finds_the_clusters_of_a_workspace_dedup(workspace, tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    _planted(tmp_path / "planted.jsonl", seed=1)
    records = [dict(json.loads(line), uid=i) for i, line in enumerate((tmp_path / "planted.jsonl").open())]
    (tmp_path / "planted.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / "corpus").mkdir()
    for k, part in enumerate((records[:150], records[150:])):
        pq.write_table(pa.Table.from_pylist(part), tmp_path / "corpus" / f"part-{k}.parquet")
    result = CliRunner().invoke(app, ["dedup", "--input", str(tmp_path / "corpus" / "*.parquet"),
                                      "--output", str(tmp_path / "out"), "--engine", "ray"])
    assert result.exit_code == 0, result.output
    rows = pq.read_table(tmp_path / "out" / "data").to_pylist()
    assert sorted(r["uid"] for r in rows) == list(range(len(records)))
    by: dict[int, list[int]] = {}
    for r in rows:
        if r["dup_cluster"] is not None:
            by.setdefault(r["dup_cluster"], []).append(r["uid"])
    found = {(a, b) for g in by.values() for a in g for b in g if a < b}
    ingest(workspace, [tmp_path / "planted.jsonl"], "planted", task="sft")
    local = run_dedup(workspace, "planted")
    with workspace.connect() as con:
        uid = {i: int(u) for i, u in con.execute("SELECT id, raw->>'uid' FROM examples").fetchall()}
    truth = {tuple(sorted((uid[a], uid[b]))) for a, b in _pairs(workspace, local.run_id)}
    assert len(truth) > 100 and found == truth
    assert sum(r["is_dup"] for r in rows) == local.flagged
    assert json.loads((tmp_path / "out" / "report.json").read_text())["counters"]["dropped_is_dup"] == local.flagged


def test_a_failing_worker_is_one_line(tmp_path) -> None:
    from curate.engine.cluster import EngineError
    from curate.engine.ray_recipe import compute
    from curate.ops import load

    (tmp_path / "part-00000.parquet").write_bytes(b"PAR1 not a parquet file")   # a shard a worker cannot read
    with pytest.raises(EngineError) as failed:
        compute(load(RECIPES_DIR / "classification.yaml", task="classification"), str(tmp_path), "classification")
    assert "a Ray worker failed" in str(failed.value) and "ArrowInvalid" in str(failed.value)
    assert "\n" not in str(failed.value)


def _kill_first_task(stop, killed: list, marker: str) -> None:
    """SIGKILL the first Ray worker process seen running a task whose title holds ``marker``."""
    import os
    import signal

    import psutil

    while not stop.is_set() and not killed:
        for proc in psutil.process_iter(["pid", "cmdline"]):
            title = " ".join(proc.info["cmdline"] or [])
            if title.startswith("ray::") and marker in title:
                os.kill(proc.info["pid"], signal.SIGKILL)
                killed.append(title)
                return
        stop.wait(0.005)


def test_a_worker_killed_mid_run(workspace, tmp_path) -> None:
    """A signing worker killed mid-run (SIGKILL, found by its process title) is retried by Ray Data; the
    run completes with the local engine's clusters."""
    import threading

    _planted(tmp_path / "planted.jsonl")
    ingest(workspace, [tmp_path / "planted.jsonl"], "planted", task="sft")
    local = run_dedup(workspace, "planted")
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_first_task, args=(stop, killed, "MapBatches(_sign)"), daemon=True)
    killer.start()
    try:
        on_ray = run_dedup(workspace, "planted", engine="ray", workers=2, batch_rows=25)
    finally:
        stop.set()
        killer.join()
    assert killed, "no Ray process titled MapBatches(_sign) was seen"
    assert _pairs(workspace, on_ray.run_id) == _pairs(workspace, local.run_id)
    assert (on_ray.clusters, on_ray.flagged) == (local.clusters, local.flagged)


def _dies_once(fn, flag):
    """``fn``, except that the first call anywhere (``flag``: a file, shared by the worker processes) ends
    its worker process on the spot, as a killed or crashed worker would."""
    def once(*args, **kwargs):
        import os

        if not flag.exists():
            flag.touch()
            os._exit(1)
        return fn(*args, **kwargs)
    return once


@pytest.mark.parametrize("module, task", [("ray_pairs", "_split"), ("ray_pairs", "_verify"),
                                          ("ray_components", "_round")])
def test_a_task_whose_worker_dies_is_retried(workspace, tmp_path, monkeypatch, module, task) -> None:
    """The shuffle, verification and component tasks are plain Ray tasks: a worker dying in one is
    retried by Ray (its inputs are still in the object store, or rebuilt from their lineage) and the run
    completes with the local engine's clusters."""
    import importlib

    where = importlib.import_module(f"curate.engine.{module}")
    monkeypatch.setattr(where, task, _dies_once(getattr(where, task), tmp_path / "died"))
    _planted(tmp_path / "planted.jsonl")
    ingest(workspace, [tmp_path / "planted.jsonl"], "planted", task="sft")
    local = run_dedup(workspace, "planted")
    on_ray = run_dedup(workspace, "planted", engine="ray", workers=2, batch_rows=25)
    assert (tmp_path / "died").exists()
    assert _pairs(workspace, on_ray.run_id) == _pairs(workspace, local.run_id)
    assert (on_ray.clusters, on_ray.flagged) == (local.clusters, local.flagged)
