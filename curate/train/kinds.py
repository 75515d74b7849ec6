"""Fit and evaluate one model run by its kind: the quick baseline (MiniLM/USE embeddings + logistic
regression), a classification fine-tune, causal-LM SFT, or the shaped tasks (spans: token
classification, ``curate.train.tokens``; preference: DPO, ``curate.train.dpo``). Scores and per-item
predictions of every eval set are stored; the model is saved under ``artifacts/models/run-<id>/``.
"""

from __future__ import annotations

from typing import Any

from curate.store import train as store
from curate.store.workspace import Workspace, retry_conflicts
from curate.train.classify import dataset_classes
from curate.train.evaluate import classification_result, eval_sets_for, prediction_table
from curate.train.loop import FitResult, Progress
from curate.train.model import ModelRun
from curate.train.params import TrainParams
from curate.train.reporter import Cancelled, StoreReporter, write
from curate.errors import InputError

SHAPED = {"spans": "curate.train.tokens", "preference": "curate.train.dpo"}


def train_and_evaluate(workspace: Workspace, run: ModelRun, params: TrainParams, device,
                        reporter: StoreReporter) -> tuple[dict[str, Any], str | None]:
    """Fit the run's kind of model on the version's train split (validation for early stopping), score it on
    every eval set, store the scores and save the model; returns the run's counters and model folder."""
    from curate import versions

    ref = run.ref
    train_rows = versions.load_rows(workspace, ref, split="train")
    val_rows = versions.load_rows(workspace, ref, split="validation")
    if not train_rows:
        raise InputError(ref, "the version has no training rows", fix="create a version with a train split")
    classes = dataset_classes(workspace, run.dataset, train_rows) if run.task == "classification" else None
    sets, refused = eval_sets_for(workspace, run.dataset, run.task, ref, classes)
    folder = workspace.artifacts / "models" / f"run-{run.id}"
    counters: dict[str, Any] = {"train_rows": len(train_rows), "validation_rows": len(val_rows),
                                "eval_sets": len(sets), "eval_refused": refused}
    if classes is not None:
        counters["classes"] = classes
    if run.kind == "baseline":
        results = _baseline(workspace, train_rows, sets, params, reporter, folder, classes)
    elif run.task in SHAPED:
        results = _shaped(run.task, train_rows, sets, params, device, reporter, folder, counters, run.model)
    elif run.task == "classification":
        results = _classifier(train_rows, val_rows, sets, params, device, reporter, folder, counters)
    else:
        results = _sft(train_rows, val_rows, sets, params, device, reporter, folder, counters)
    reporter.phase("saving")

    def save(con) -> None:
        for name, (metrics, detail, table) in results.items():
            store.save_eval(con, run.id, name, metrics, detail, table)
    retry_conflicts(lambda: write(workspace, save))
    return counters, str(folder.relative_to(workspace.root)) if folder.exists() else None


def _baseline(workspace, train_rows, sets, params, reporter, folder, classes):
    import pickle

    from curate.embed import choose_model, default_model_dir, embed_cached
    from curate.train.baseline import fit_baseline, predict_baseline

    rows = [r for r in train_rows if r.get("label") is not None]
    reporter.phase("embedding")
    texts = [r["text"] or "" for r in rows]
    encoder = choose_model(texts)   # one encoder for training and every eval set (multilingual USE or MiniLM)
    X = embed_cached(workspace, texts, model_dir=encoder or default_model_dir())
    reporter.phase("training")
    model = fit_baseline(X, [str(r["label"]) for r in rows], classes, c=params.baseline_c, seed=params.seed)
    model.encoder = encoder
    reporter.on_progress(Progress(1, 1, 1.0, float("nan"), 0.0, 0.0, 0.0))
    reporter.phase("evaluating")
    results = {}
    for name, eval_rows in sets:
        preds, probs = predict_baseline(model, embed_cached(workspace, [r["text"] or "" for r in eval_rows],
                                                            model_dir=encoder or default_model_dir()))
        results[name] = classification_result(eval_rows, preds, probs, classes)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "baseline.pkl").write_bytes(pickle.dumps(model))
    return results


def _fitted(fit: FitResult | None) -> FitResult:
    """The result of a training that ran to its end; a cancelled one raises ``Cancelled``."""
    if fit is None or fit.cancelled:
        raise Cancelled()
    return fit


def _fit_counters(fit: FitResult) -> dict[str, Any]:
    """What every fine-tune records about its training loop."""
    return {"steps": fit.steps, "stopped_early": fit.stopped_early, "train_seconds": round(fit.seconds, 2),
            "val_eval_seconds": round(fit.eval_seconds, 2), "checkpoint_seconds": round(fit.checkpoint_seconds, 2),
            "resumed_from_step": fit.resumed_from, "train_cpu_seconds": round(fit.cpu_seconds, 2)}


def _classifier(train_rows, val_rows, sets, params, device, reporter, folder, counters):
    from curate.train import classify

    reporter.phase("training")
    clf = classify.train(train_rows, val_rows, params, classes=counters["classes"], **reporter.fit_options())
    fit = _fitted(clf.fit)
    counters.update(_fit_counters(fit), progress_write_seconds=round(reporter.seconds, 3),
                    best_val_accuracy=fit.best_val_score, best_step=fit.best_step)
    reporter.phase("evaluating")
    results = {}
    for name, eval_rows in sets:
        preds, probs, _ = classify.predict(clf, [r["text"] for r in eval_rows], params)
        results[name] = classification_result(eval_rows, preds, probs, clf.classes)
    reporter.phase("saving")
    classify.save(clf, folder)
    return results


def _sft(train_rows, val_rows, sets, params, device, reporter, folder, counters):
    from curate.train import sft

    reporter.phase("training")
    trained = sft.train(train_rows, val_rows, params, **reporter.fit_options())
    fit = _fitted(trained.fit)
    best = fit.best_val_score
    counters.update(_fit_counters(fit), best_val_loss=-best if best is not None else None,
                    chat_template=trained.chat_template)
    reporter.phase("evaluating")
    results = {}
    for name, eval_rows in sets:
        ev = sft.evaluate(trained, eval_rows, params)
        table = prediction_table(eval_rows, ev.references, ev.predictions, ev.correct, ev.item_loss)
        results[name] = (ev.metrics, None, table)
    reporter.phase("saving")
    sft.save(trained, folder)
    return results


def _shaped(task, train_rows, sets, params, device, reporter, folder, counters, model_dir):
    """spans: token classification (``curate.train.tokens``); preference: DPO (``curate.train.dpo``)."""
    import importlib

    module = importlib.import_module(SHAPED[task])
    reporter.phase("training")
    trained = module.train(train_rows, params, model_dir=model_dir, device=device, hooks=reporter.hooks())
    if trained.cancelled:
        raise Cancelled()
    counters.update(steps=trained.steps, train_seconds=round(trained.seconds, 2), final_loss=module.final_loss(trained),
                    first_loss=trained.losses[0] if trained.losses else None)
    if task == "spans":
        counters["tags"] = trained.names
    reporter.phase("evaluating")
    results = {name: module.evaluate(trained, rows, params) for name, rows in sets}
    reporter.phase("saving")
    module.save(trained, folder)
    return results
