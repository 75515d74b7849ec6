"""Running recipes on a real store: the messy answer key, idempotent re-runs, the report, the CLI."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.ingest import ingest
from curate.ops import RECIPES_DIR, RecipeError, report, run_recipe
from curate.ops.outcome import RecipeCounters
from curate.ops.report import cascade, mark
from curate.store import catalog
from curate.store import ops as store

from conftest import SAMPLE

CLASSIFICATION = RECIPES_DIR / "classification.yaml"
# sample_data/PROVENANCE.md answer key (m-<n>)
SHORT = {37, 100, 108, 134, 149}
NON_ENGLISH = {4, 19, 20, 117, 142}
PII = {0, 8, 10, 15, 32, 49, 55, 61, 66, 69, 70, 77, 92, 118, 147}
HTML = {3, 7, 16, 40, 43, 48, 53, 79, 97, 98, 114, 115, 128, 143, 152}
MOJIBAKE = {2, 27, 28, 44, 64, 74, 83, 84, 85, 95, 103, 116, 129, 133, 135}


@pytest.fixture
def messy(workspace):
    ingest(workspace, [SAMPLE / "messy_reviews.jsonl"], "messy")
    return workspace


def _row_ids(ws) -> dict[int, int]:
    """example id → n of m-<n>"""
    with ws.connect() as con:
        rows = con.execute("SELECT id, raw FROM examples ORDER BY id").fetchall()
    return {i: int(json.loads(raw)["id"].split("-")[1]) for i, raw in rows}


def _snapshot(ws):
    with ws.connect() as con:
        return con.execute("SELECT * FROM examples ORDER BY id").fetchall()


def test_classification_recipe_finds_the_planted_problems(messy) -> None:
    before = _snapshot(messy)
    result = run_recipe(messy, CLASSIFICATION, "messy")
    c = result.counters
    assert not result.skipped and c.total == 155
    assert c.dropped["too_short"] == 5 and c.dropped["lang_mismatch"] == 5
    assert c.kept == 155 - sum(c.dropped.values())
    m = _row_ids(messy)
    with messy.connect() as con:
        issues = con.execute("SELECT example_id, kind FROM issues WHERE run_id = ?", [result.run_id]).fetchall()
        edits = con.execute("SELECT example_id, author, value FROM edits WHERE run_id = ?", [result.run_id]).fetchall()
        run = catalog.list_runs(con, "recipe")[-1]
    assert {m[i] for i, k in issues if k == "too_short"} == SHORT
    assert {m[i] for i, k in issues if k == "lang_mismatch"} == NON_ENGLISH
    by_op = {}
    for i, author, value in edits:
        by_op.setdefault(author, set()).add(m[i])
    assert by_op["op:clean.pii"] == PII
    assert by_op["op:clean.html"] == HTML
    assert by_op["op:clean.unicode"] == MOJIBAKE
    assert all("<" not in v or re.search(r"<(EMAIL|PHONE|IP_ADDRESS|CREDIT_CARD|IBAN)>", v) for _, a, v in edits
               if a == "op:clean.html")
    # examples are never changed; the run records resolved params, libraries and counters
    assert _snapshot(messy) == before
    params = json.loads(run["params"])
    assert params["recipe"] == "classification" and params["steps"][0]["fields"] == ["text"]
    assert json.loads(run["libraries"])["lingua"] and run["status"] == "done"
    stored = json.loads(run["counters"])     # what the runs table holds: the typed counters read it back
    assert stored == c.to_json() and RecipeCounters.from_json(stored) == c
    keys = list(stored)    # total, kept, dropped_<reason> in step order, edits, steps, seconds
    assert keys[:2] == ["total", "kept"] and keys[-3:] == ["edits", "steps", "seconds"]
    assert keys[2:-3] == [f"dropped_{r}" for r in c.dropped] and "dropped_lang_mismatch" in keys


def test_identical_rerun_is_skipped_and_changed_params_run_again(messy, tmp_path) -> None:
    first = run_recipe(messy, CLASSIFICATION, "messy")
    again = run_recipe(messy, CLASSIFICATION, "messy")
    assert again.skipped and again.run_id == first.run_id and again.counters == first.counters
    with messy.connect() as con:
        n_edits = con.execute("SELECT count(*) FROM edits").fetchall()[0][0]
    changed = tmp_path / "c.yaml"
    changed.write_text(CLASSIFICATION.read_text().replace("min_score: 0.9 ", "min_score: 0.4 "))
    third = run_recipe(messy, changed, "messy")
    assert not third.skipped and third.run_id != first.run_id
    assert "too_many_symbols" not in third.counters.dropped
    # the second run reads the same input (not its own edits) and so finds the same edits
    with messy.connect() as con:
        per_run = dict(con.execute("SELECT run_id, count(*) FROM edits GROUP BY run_id").fetchall())
        ds = catalog.get_dataset(con, "messy")
        current = store.current_issues(con, ds["id"]).to_pylist()
    assert per_run[third.run_id] == per_run[first.run_id] == n_edits
    assert {r["run_id"] for r in current} == {third.run_id}
    forced = run_recipe(messy, changed, "messy", force=True)
    assert not forced.skipped


def test_a_new_human_edit_changes_the_input(messy) -> None:
    first = run_recipe(messy, CLASSIFICATION, "messy")
    with messy.transaction() as con:
        con.execute("INSERT INTO edits (example_id, field, value, author) "
                    "SELECT min(id), 'text', 'a fixed review text by hand .', 'human:ann' FROM examples")
    assert not run_recipe(messy, CLASSIFICATION, "messy").skipped
    assert first.run_id


def test_invalid_recipe_leaves_the_store_untouched(messy, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - op: score.lang\n  - op: filter.lang\n    min_score: 3\n")
    with pytest.raises(RecipeError, match="step 2 \\(filter.lang\\): min_score must be ≤ 1"):
        run_recipe(messy, bad, "messy")
    with messy.connect() as con:
        assert catalog.list_runs(con, "recipe") == []


def test_report_and_live_thresholds(messy) -> None:
    run_recipe(messy, CLASSIFICATION, "messy")
    rep = report(messy, "messy", samples=3)
    assert rep.recipe == "classification" and len(rep.signals) == 155
    assert set(rep.samples) == {"too_short", "lang_mismatch", "too_many_symbols"}
    assert rep.samples["too_short"][0]["text"] in {"ok", "meh", "wow", "nope", "good ."}
    assert rep.diffs["op:clean.pii"][0]["before"] != rep.diffs["op:clean.pii"][0]["after"]
    steps, kept = cascade(rep.signals, rep.filters)
    assert kept == rep.counters.kept
    assert [s["dropped"] for s in steps] == [sum(s.dropped.values()) for s in rep.steps if s.kind == "filter"]
    lang = next(f["step"] for f in rep.filters if f["reason"] == "lang_mismatch")
    stricter, kept_strict = cascade(rep.signals, rep.filters, {lang: 1.0})
    assert kept_strict < kept
    _, kept_none = cascade(rep.signals, rep.filters, {f["step"]: 0.0 for f in rep.filters})
    assert kept_none == 155


def test_quality_model_learns_from_marks(messy, tmp_path) -> None:
    recipe = tmp_path / "q.yaml"
    recipe.write_text("steps:\n  - op: score.outlier\n    k: 5\n  - op: score.quality_model\n"
                      "  - op: filter.quality\n    min_score: 0.5\n")
    skipped = run_recipe(messy, recipe, "messy")
    assert "needs at least 2 examples marked good" in (skipped.steps[1].skipped or "")
    assert skipped.counters.kept == 155
    m = {n: i for i, n in _row_ids(messy).items()}
    mark(messy, "messy", [m[n] for n in (9, 12, 13, 21)], "good")
    mark(messy, "messy", [m[n] for n in sorted(NON_ENGLISH)[:3]], "bad")
    trained = run_recipe(messy, recipe, "messy")
    assert not trained.skipped and trained.steps[1].skipped is None
    with messy.connect() as con:
        flagged = {r[0] for r in con.execute("SELECT example_id FROM issues WHERE run_id = ?", [trained.run_id]).fetchall()}
    assert m[4] in flagged or m[142] in flagged     # the unmarked non-English rows look like the bad ones
    assert run_recipe(messy, recipe, "messy").skipped   # marks unchanged: identical input
    with pytest.raises(Exception, match="not examples of this dataset"):
        mark(messy, "messy", [10**9], "good")


def test_sft_recipe_on_gsm8k(workspace) -> None:
    ingest(workspace, [SAMPLE / "gsm8k_train.jsonl"], "gsm8k")
    result = run_recipe(workspace, RECIPES_DIR / "sft.yaml", "gsm8k")
    assert result.counters.total == 200 and result.counters.kept >= 190
    with pytest.raises(RecipeError, match="recipe is for classification datasets but the dataset is sft"):
        run_recipe(workspace, CLASSIFICATION, "gsm8k")


def test_cli_run_report_ops_and_mark(messy) -> None:
    cli = CliRunner()
    ws = ["-w", str(messy.root)]
    r = cli.invoke(app, [*ws, "run", str(CLASSIFICATION), "--dataset", "messy"])
    assert r.exit_code == 0, r.output
    assert "ran classification as run #" in r.stdout and "too_short" in r.stdout and "lang_mismatch" in r.stdout
    assert "<EMAIL>" in r.stdout
    r = cli.invoke(app, [*ws, "run", str(CLASSIFICATION), "--dataset", "messy"])
    assert r.exit_code == 0 and "already done" in r.stdout and "skipped" in r.stdout
    r = cli.invoke(app, [*ws, "report", "messy", "--json"])
    data = json.loads(r.stdout)
    assert data["dropped_too_short"] == 5 and data["total"] == 155
    assert "filter.lang" in cli.invoke(app, [*ws, "ops", "--kind", "filter"]).stdout
    r = cli.invoke(app, [*ws, "run", str(CLASSIFICATION), "--dataset", "nope"])
    assert r.exit_code == 1 and "no dataset named 'nope'" in r.output
    r = cli.invoke(app, [*ws, "report", "messy", "--run", "999"])
    assert r.exit_code == 1 and "run 999" in r.output
    first_id = min(_row_ids(messy))
    r = cli.invoke(app, [*ws, "mark", "messy", "--good", str(first_id)])
    assert r.exit_code == 0 and "1 example(s) marked good" in r.stdout
    r = cli.invoke(app, [*ws, "mark", "messy", "--good", "x,y"])
    assert r.exit_code == 1 and "not a comma-separated list" in r.output


def test_cascade_counts_a_row_at_the_first_filter_that_drops_it() -> None:
    """One rule for the runner and the report: later filters see only the rows still kept; NaN passes."""
    import numpy as np

    from curate.ops.cascade import Cascade

    cuts = Cascade(4)
    first = cuts.apply(np.array([0.1, 0.9, np.nan, 0.2]), 0.5)
    second = cuts.apply(np.array([0.0, 0.1, 0.0, 0.0]), 0.5)
    assert (first.rows_in, first.kept, first.dropped.tolist()) == (4, 2, [True, False, False, True])
    assert (second.rows_in, second.kept, second.dropped.tolist()) == (2, 0, [False, True, True, False])
    assert cuts.kept == 0
