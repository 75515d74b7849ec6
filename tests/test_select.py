"""Budgeted selection: each strategy on fixtures with a known answer, the selected version on a real
store (immutable, reproducible from its seed, reasons stored), the labelling queue and the CLI."""

from __future__ import annotations

import json
import random
from collections import Counter

import numpy as np
import pytest
from typer.testing import CliRunner

from curate import select as selection, versions
from curate.cli import app
from curate.errors import InputError
from curate.ingest import ingest
from curate.label import queues, questions, suspects
from curate.select.strategies import Pool, quotas, select
from curate.store.workspace import Workspace
from curate.versions.model import DiffCounts
from tests.conftest import SAMPLE


def planted(sizes: list[int], dim: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors in tight clusters of the given sizes (near-duplicates within a cluster)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(len(sizes), dim))
    X = np.vstack([c + 0.02 * rng.normal(size=(n, dim)) for c, n in zip(centers, sizes)])
    return X / np.linalg.norm(X, axis=1, keepdims=True), np.repeat(np.arange(len(sizes)), sizes)


@pytest.mark.parametrize("strategy", [{"diversity": 1.0}, {"mix": 1.0}, {"quality": 1.0, "diversity": 1.0}])
def test_diversity_picks_one_of_each_planted_cluster_before_a_second(strategy) -> None:
    X, cluster = planted([30, 2, 5, 1, 12, 3])  # one big cluster of near-duplicates must not fill the budget
    pool = Pool(np.arange(len(X)), ["a"] * len(X), X, signals={"q": np.linspace(1, 0.3, len(X))})
    picked = select(pool, 12, strategy, seed=3)
    first = cluster[picked.order[:6]]
    assert sorted(first) == [0, 1, 2, 3, 4, 5]
    assert np.all(picked.scores["diversity"][:6] > picked.scores["diversity"][6:].max())


def test_facility_location_picks_representatives_where_k_center_picks_outliers() -> None:
    X, cluster = planted([40, 40, 40])  # three dense regions of near-duplicates ...
    rng = np.random.default_rng(9)
    outliers = rng.normal(size=(6, X.shape[1]))  # ... and six isolated rows (label noise looks like this)
    X = np.vstack([X, outliers / np.linalg.norm(outliers, axis=1, keepdims=True)])
    pool = Pool(np.arange(len(X)), ["a"] * len(X), X)
    fl = select(pool, 3, {"diversity": 1.0}).order
    assert sorted(cluster[fl].tolist()) == [0, 1, 2]  # one representative of each dense region, no outlier
    kc = select(pool, 3, {"kcenter": 1.0}).order
    assert (kc >= 120).sum() >= 2  # k-center's farthest-first spends the budget on the isolated rows


def test_facility_location_lazy_greedy_matches_the_full_scan() -> None:
    from curate.select.greedy import facility

    rng = np.random.default_rng(4)
    X = rng.normal(size=(150, 8))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    w = rng.uniform(0.2, 1.0, len(X))
    sims = np.maximum(X @ X.T, 0) * w[:, None]
    cover, naive = np.zeros(len(X)), []
    for _ in range(25):  # re-score every row at every step
        gain = np.maximum(sims - cover, 0).sum(1)
        gain[naive] = -1
        naive.append(int(np.argmax(gain)))
        cover = np.maximum(cover, sims[naive[-1]])
    order, gains = facility(X, w, 25)
    assert order.tolist() == naive and gains[0] == 1.0 and np.all(np.diff(gains) <= 1e-9)


def test_mix_gate_lazy_greedy_matches_the_full_scan() -> None:
    from curate.select.greedy import gated

    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 6))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    base, tau = rng.uniform(0.2, 1.0, len(X)), 0.15
    d, naive = np.ones(len(X)), []
    for _ in range(40):  # re-score every row against every pick at every step
        value = base * np.minimum(1.0, d / tau)
        value[naive] = -1
        naive.append(int(np.argmax(value)))
        d = np.minimum(d, (1.0 - X @ X[naive[-1]]) / 2.0)
    order, dist = gated(X, base, 40, tau)
    assert order.tolist() == naive and dist[0] == 1.0
    assert dist[1:].min() > 0  # no pick repeats an earlier one


def test_mix_weights_coverage_by_quality() -> None:
    X, cluster = planted([20, 20])
    q = np.where(np.arange(40) % 2 == 0, 1.0, 0.4)  # within each cluster, half the rows are of low quality
    pool = Pool(np.arange(40), ["a"] * 40, X, signals={"q": q})
    picked = select(pool, 2, {"mix": 1.0})
    assert sorted(cluster[picked.order].tolist()) == [0, 1] and np.all(q[picked.order] == 1.0)


def test_quality_uncertainty_and_random_rank_by_their_score() -> None:
    n = 40
    q = np.repeat([0.1, 0.2, 0.3, 0.45], 10)  # a recipe signal counts up to its pass point, 0.5
    margin = np.linspace(1, 0, n)
    pool = Pool(np.arange(n) + 100, ["a"] * n, signals={"q": q, "other": np.full(n, np.nan)}, margin=margin)
    assert set(select(pool, 10, {"quality": 1}).order) == set(range(30, 40))
    assert select(pool, 10, {"quality": 1}).scores["quality"].tolist() == pytest.approx([0.9] * 10)
    passing = Pool(np.arange(n), ["a"] * n, signals={"lang_conf": np.linspace(0.5, 1, n)})
    assert set(select(passing, 40, {"quality": 1}).scores["quality"].tolist()) == {1.0}  # above it: all equal
    model = Pool(np.arange(n), ["a"] * n, signals={"quality_score": np.linspace(0, 1, n)})
    assert set(select(model, 10, {"quality": 1}).order) == set(range(30, 40))  # the quality classifier counts whole
    assert set(select(pool, 5, {"uncertainty": 1}).order) == set(range(35, 40))  # smallest margin = most uncertain
    a, b = select(pool, 10, {"random": 1}, seed=1), select(pool, 10, {"random": 1}, seed=1)
    assert a.order.tolist() == b.order.tolist() != select(pool, 10, {"random": 1}, seed=2).order.tolist()


def test_clean_excludes_flagged_rows_and_balance_keeps_class_shares() -> None:
    n = 100
    labels = ["pos"] * 70 + ["neg"] * 30
    flagged = np.zeros(n, bool)
    flagged[::7] = True
    pool = Pool(np.arange(n), labels, suspect=flagged)
    picked = select(pool, 40, {"random": 1, "clean": 1}, seed=0)
    assert not flagged[picked.order].any() and len(picked.order) == 40
    counts = Counter(labels[i] for i in picked.order)
    kept = Counter(labels[i] for i in np.flatnonzero(~flagged))
    assert abs(counts["pos"] / 40 - kept["pos"] / sum(kept.values())) < 0.03
    assert Counter(labels[i] for i in select(pool, 40, {"random": 1}, balance=True).order) == {"pos": 28, "neg": 12}
    assert quotas(["a"] * 3 + ["b"] * 1, 100, True) == {"a": 3, "b": 1}  # never more than a class holds


def test_parse_strategy_refuses_unknown_names_and_bad_weights() -> None:
    assert selection.parse_strategy("mix, clean") == {"mix": 1.0, "clean": 1.0}
    assert selection.parse_strategy("quality=2,diversity") == {"quality": 2.0, "diversity": 1.0}
    with pytest.raises(InputError, match="unknown strategy 'diverse'"):
        selection.parse_strategy("diverse")
    with pytest.raises(InputError, match="not a number"):
        selection.parse_strategy("quality=high")


@pytest.fixture(scope="module")
def noisy(tmp_path_factory) -> tuple[Workspace, set[int]]:
    """160 SST-2 sentences, 15 % of labels flipped, version v1, then a suspects run; returns the flipped ids."""
    root = tmp_path_factory.mktemp("select")
    rows = [json.loads(line) for line in (SAMPLE / "sst2_sentences.jsonl").read_text().splitlines()][:160]
    flipped = set(random.Random(5).sample(range(len(rows)), 24))
    rows = [{**r, "label": 1 - r["label"]} if i in flipped else r for i, r in enumerate(rows)]
    path = root / "noisy.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ws = Workspace(root / "ws")
    ingest(ws, [path], "noisy")
    versions.create_version(ws, "noisy", "v1")
    suspects.find_suspects(ws, questions.get_question(ws, "noisy"))
    return ws, {i + 1 for i in flipped}


def train_ids(ws: Workspace, ref: str) -> list[int]:
    return [r["example_id"] for r in versions.load_rows(ws, ref, split="train")]


def test_selected_version_is_a_reproducible_immutable_subset_with_reasons(noisy) -> None:
    ws, flipped = noisy
    made = selection.create(ws, "noisy:v1", 40, "mix,clean", "s1", seed=4)
    again = selection.create(ws, "noisy:v1", 40, "mix,clean", "s1-again", seed=4)
    chosen = train_ids(ws, made.ref)
    assert len(chosen) == 40 and chosen == train_ids(ws, again.ref)
    flagged = {s["example_id"] for s in suspects.list_suspects(ws, questions.get_question(ws, "noisy"))}
    assert flagged & flipped and flagged & set(train_ids(ws, "noisy:v1"))  # suspects found planted flips in the pool
    assert not set(chosen) & flagged  # clean never picks a flagged row
    v1, s1 = versions.get_version(ws, "noisy:v1"), versions.get_version(ws, made.ref)
    for split in ("validation", "test"):  # eval rows kept whole
        assert [r["example_id"] for r in versions.load_rows(ws, "noisy:v1", split)] == \
               [r["example_id"] for r in versions.load_rows(ws, made.ref, split)]
    assert s1.parent == "noisy:v1" and s1.params["selection"]["strategy"] == {"mix": 1.0, "clean": 1.0}
    assert s1.dropped_counts == {"not_selected": len(train_ids(ws, "noisy:v1")) - 40}
    labels = Counter(r["label"] for r in versions.load_rows(ws, made.ref, "train"))
    pool = Counter(r["label"] for r in versions.load_rows(ws, "noisy:v1", "train") if r["example_id"] not in flagged)
    assert abs(labels["1"] / 40 - pool["1"] / sum(pool.values())) <= 0.03
    why = selection.selection_of(ws, made.ref)
    assert [w["example_id"] for w in why][:3] and {w["example_id"] for w in why} == set(chosen)
    assert set(why[0]["scores"]) == {"quality", "diversity"} and why[0]["rank"] == 1
    diff = versions.diff(ws, "noisy:v1", made.ref)
    assert diff.counts == DiffCounts(added=0, removed=len(train_ids(ws, "noisy:v1")) - 40, changed=0)
    assert {r.reason for r in diff.rows} == {"not_selected"}
    assert any("left out by clean" in r.reasons for r in diff.rows)
    with pytest.raises(InputError, match="exists already"):
        selection.create(ws, "noisy:v1", 10, "random", "s1")
    assert train_ids(ws, made.ref) == chosen  # nothing changed it


def test_label_queue_and_cli(noisy) -> None:
    ws, _ = noisy
    runner = CliRunner()
    res = runner.invoke(app, ["-w", str(ws.root), "select", "noisy:v1", "--budget", "12", "--strategy",
                              "random=1,diversity=2", "--for", "label", "--name", "tolabel", "--seed", "2"])
    assert res.exit_code == 0 and "labelling queue 'tolabel'" in res.output, res.output
    q = questions.get_question(ws, "noisy")
    queued = queues.fetch(ws, q, "ann", "selected", limit=50)
    assert len(queued) == 12
    queues.submit(ws, q, queued[0], "1", "ann", queue="selected")
    assert queues.fetch(ws, q, "ann", "selected", limit=50) == queued[1:]
    res = runner.invoke(app, ["-w", str(ws.root), "select", "noisy:v1", "--budget", "20", "--strategy", "random",
                              "--name", "r20", "--no-balance", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["ref"] == "noisy:r20" and out["selected"] == 20 and len(train_ids(ws, "noisy:r20")) == 20
    res = runner.invoke(app, ["-w", str(ws.root), "select", "noisy:v1", "--budget", "0", "--name", "x"])
    assert res.exit_code == 1 and "budget must be a positive number" in res.output
    res = runner.invoke(app, ["-w", str(ws.root), "select", "noisy:v9", "--budget", "5", "--name", "x"])
    assert res.exit_code == 1 and "no version 'v9'" in res.output


@pytest.mark.slow
def test_compare_random_trains_the_selection_and_random_subsets_the_same_way(noisy) -> None:
    ws, _ = noisy
    runner = CliRunner()
    res = runner.invoke(app, ["-w", str(ws.root), "select", "noisy:v1", "--budget", "60", "--strategy", "mix,clean",
                              "--name", "cmp", "--compare-random", "2", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output.strip().splitlines()[-1])
    assert report["kind"] == "baseline" and [r["version"] for r in report["random"]] == ["noisy:cmp-random1",
                                                                                         "noisy:cmp-random2"]
    runs = [report["selected"], *report["random"]]
    assert all(r["eval_set"] == "own test" and 0 <= r["value"] <= 1 for r in runs)
    assert report["win"] == pytest.approx(report["selected"]["value"] - report["random_mean"])
    for r in report["random"]:  # same size, same eval rows
        assert len(train_ids(ws, r["version"])) == report["size"]
        assert [x["example_id"] for x in versions.load_rows(ws, r["version"], "test")] == \
               [x["example_id"] for x in versions.load_rows(ws, "noisy:v1", "test")]
    from curate.select.compare import comparisons

    stored = comparisons(ws, "noisy")
    assert {(s["role"], s["run"]) for s in stored} == {(r["role"], r["run"]) for r in runs}
