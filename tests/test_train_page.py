"""The Train page's settings come from TrainParams, and a hyperparameter search shows its trials."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from curate.store import catalog, train as store
from curate.train.params import TrainParams, bounds, default

PAGE = "from curate.ui.pages import train\ntrain.render()"


def _page(ws, monkeypatch) -> AppTest:
    monkeypatch.setenv("CURATE_WORKSPACE", str(ws.root))
    at = AppTest.from_string(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_settings_defaults_and_bounds_are_train_params_for_every_task(demo_workspace, monkeypatch) -> None:
    from curate import versions

    versions.create_version(demo_workspace, "gsm8k", "v1")
    at = _page(demo_workspace, monkeypatch)
    for dataset, task in (("sst2", "classification"), ("gsm8k", "sft")):
        at.selectbox(key="train_dataset").select(dataset).run()
        for name in ("max_length", "batch_size", "epochs", "patience", "grad_accum", "evals_per_epoch", "lora_r"):
            widget = at.number_input(key=f"train_{name}")
            assert widget.value == default(name), (dataset, name)
            assert (widget.min, widget.max) == bounds(name), (dataset, name)
        assert at.number_input(key=f"train_lr_{task}").value == default("lr", task)
        assert at.selectbox(key="train_schedule").options == ["linear", "cosine", "constant", "exponential"]
        assert at.selectbox(key="train_precision").value == TrainParams().precision


def test_a_search_shows_its_trials_and_the_best_one(demo_workspace, monkeypatch) -> None:
    ws = demo_workspace
    with ws.transaction() as con:
        ds = catalog.get_dataset(con, "sst2")
        search = store.create_search(con, ds["id"], {"version": "v1", "space": "lr=1e-5:1e-3:log,batch_size=16|32",
                                                     "sampler": "tpe", "trials": 3, "base": {}}, {})
        runs = []
        for trial, (lr, batch, score) in enumerate([(1e-5, 16, 0.71), (3e-4, 32, 0.83), (1e-3, 16, 0.78)]):
            run = store.create_model_run(con, dataset_id=ds["id"], version="v1", kind="finetune",
                                         task="classification", model=None, libraries={},
                                         params={"lr": lr, "batch_size": batch, "search": {"id": search, "trial": trial}})
            store.finish(con, run, "done", counters={"best_val_accuracy": score})
            runs.append(run)
    at = _page(ws, monkeypatch)
    at.selectbox(key="train_dataset").select("sst2").run()
    text = " ".join(m.value for m in at.markdown)
    assert f"Search {search}" in text and "3/3 trials" in text and f"best: model run {runs[1]}" in text
    table = next(d.value for d in at.dataframe if "validation score" in d.value.columns)
    assert table.loc[table["best"] == "★", "run"].tolist() == [runs[1]]
    assert len(at.get("vega_lite_chart")) >= 2  # score against lr and against batch_size


def test_a_fine_tune_below_the_quick_baseline_gets_a_hint(demo_workspace, monkeypatch, tmp_path) -> None:
    """A real (tiny, one-step) fine-tune of sst2:v2 scores below the demo's quick baseline of v2 on the
    pinned sst2-dev: the page says what that means and what to try; the baseline run itself gets no hint."""
    from curate import train, versions
    from tests.tiny import tiny_bert

    ws = demo_workspace
    at = _page(ws, monkeypatch)
    at.selectbox(key="train_dataset").select("sst2").run()
    assert not [w for w in at.warning if "below the quick baseline" in w.value]
    texts = [r["fields"]["text"] if "fields" in r else r["text"] for r in versions.load_rows(ws, "sst2:v2", split="train")]
    model = tiny_bert(tmp_path / "bert", texts)
    run = train.create(ws, "sst2:v2", params=TrainParams(model=str(model), max_steps=1, lr=1e-6, batch_size=8,
                                                         max_length=32, patience=0))
    train.execute(ws, run)
    gaps = train.behind_baseline(ws, "sst2", run)
    assert "sst2-dev" in [g.eval_set for g in gaps] and all(g.value < g.baseline for g in gaps)
    at = _page(ws, monkeypatch)
    at.selectbox(key="train_dataset").select("sst2").run()
    hints = [w.value for w in at.warning if "below the quick baseline" in w.value]
    assert len(hints) == 1 and "of v2 on the same eval sets" in hints[0] and "learning rate" in hints[0]
    dev = next(g for g in gaps if g.eval_set == "sst2-dev")
    assert f"sst2-dev: {dev.value:.3f} against {dev.baseline:.3f} (model run {dev.baseline_run})" in hints[0]
    assert train.behind_baseline(ws, "sst2", gaps[0].baseline_run) == []
