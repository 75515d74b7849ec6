"""Evaluation that cannot silently lie: which sets a model run is scored on, and scoring a saved run again.

* A run is scored on its version's own validation split (classification) and test split, always,
  plus every pinned eval set of its task (``runner.eval_sets_for``). A classification eval set is
  scored only when its labels are classes of the model; otherwise it is *refused*: one line saying
  which labels the model cannot predict, and nothing is stored (a version labelled negative/positive
  would otherwise score 0.000 on an eval set labelled 0/1 and sit in ``compare`` as a real number).
* Every classification score holds accuracy, macro-F1, per-class precision/recall/F1/support and the
  confusion matrix (``classification_result``).
* ``evaluate_run`` scores a finished run's saved model on an eval set later (``curate eval RUN --on
  SET``); ``predict_file`` labels a file with it (``curate predict RUN FILE``).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyarrow as pa

from curate.errors import InputError
from curate.store import train as store
from curate.store.workspace import Workspace, retry_conflicts
from curate.train.model import ModelRun

OWN_SPLITS = ("validation", "test")


def label_space_reason(name: str, classes: Sequence[str], rows: Sequence[dict]) -> str | None:
    """Why a classification eval set cannot be scored by a model with ``classes`` (None: it can)."""
    labels = sorted({str(r["label"]) for r in rows if r.get("label") is not None})
    if not labels:
        return f"{name}: no labelled rows; not scored"
    foreign = [label for label in labels if label not in set(classes)]
    if foreign:
        shown = ", ".join(foreign[:5]) + (" …" if len(foreign) > 5 else "")
        return (f"{name}: labels {shown} are not classes of the model ({', '.join(classes)}); "
                f"not scored, nothing stored")
    return None


def eval_sets_for(workspace: Workspace, dataset: str, task: str, ref: str,
                  classes: Sequence[str] | None = None) -> tuple[list[tuple[str, list[dict]]], dict[str, str]]:
    """``(sets, refused)``: the version's own splits (``<ref>:validation`` for classification,
    ``<ref>:test``) and the pinned eval sets of ``dataset`` (for classification, of any dataset of the
    task) whose labels the model's ``classes`` cover; ``refused`` names each eval set left out and why."""
    from curate import versions

    chosen: list[tuple[str, list[dict]]] = []
    for split in OWN_SPLITS:
        if split == "validation" and task != "classification":
            continue
        rows = versions.load_rows(workspace, ref, split=split)
        if rows:
            chosen.append((f"{ref}:{split}", rows))
    refused: dict[str, str] = {}
    for es in versions.list_eval_sets(workspace):
        if es.task != task or (es.dataset != dataset and task != "classification"):
            continue
        rows = versions.eval_rows(workspace, es.name)
        reason = label_space_reason(es.name, classes, rows) if task == "classification" and classes else None
        if reason:
            refused[es.name] = reason
        else:
            chosen.append((es.name, rows))
    return chosen, refused


def prediction_table(rows: list[dict], refs: Sequence[str | None], preds: Sequence[str | None],
                     correct: Sequence[bool | None], scores: Sequence[float | None]) -> pa.Table:
    return pa.table({"example_id": pa.array([int(r["example_id"]) for r in rows], pa.int64()),
                     "reference": pa.array(refs, pa.string()), "prediction": pa.array(preds, pa.string()),
                     "correct": pa.array(correct, pa.bool_()), "score": pa.array(scores, pa.float64())})


def classification_result(rows: list[dict], preds: list[str], probs: np.ndarray, classes: list[str]):
    """``(metrics, detail, predictions)`` of one eval set: accuracy, macro-F1, ``n`` and
    ``precision|recall|f1:<class>``; detail holds the confusion matrix and per-class scores."""
    from curate.train.metrics import classification_metrics

    refs = [None if r.get("label") is None else str(r["label"]) for r in rows]
    keep = [i for i, ref in enumerate(refs) if ref is not None]
    m = classification_metrics([ref for ref in refs if ref is not None], [preds[i] for i in keep], classes)
    metrics: dict[str, float | None] = {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "n": m["n"]}
    for c, v in m["per_class"].items():
        for k in ("precision", "recall", "f1"):
            metrics[f"{k}:{c}"] = v[k]
    table = prediction_table([rows[i] for i in keep], [refs[i] for i in keep], [preds[i] for i in keep],
                             [preds[i] == refs[i] for i in keep],
                             [float(probs[i].max()) if len(probs[i]) else None for i in keep])
    return metrics, {"confusion": m["confusion"], "per_class": m["per_class"], "classes": list(classes)}, table


# --- a saved run, used again -----------------------------------------------------------------------

def _finished(workspace: Workspace, run_id: int) -> ModelRun:
    with workspace.connect() as con:
        run = ModelRun.from_row(store.get_model_run(con, run_id))
    if run.status != "done" or not run.artifact:
        raise InputError(f"run {run_id}", f"is {run.status} and has no saved model",
                         fix="use a finished run (see `curate runs DATASET`)")
    return run


def load_classifier(workspace: Workspace, run: ModelRun):
    """``(predict(texts) -> (labels, probs), classes)`` of a finished classification run's saved model."""
    folder = workspace.root / (run.artifact or "")
    if run.kind == "baseline":
        from curate.embed import default_model_dir, embed_cached
        from curate.train.baseline import predict_baseline

        model = pickle.loads((folder / "baseline.pkl").read_bytes())
        encoder = model.encoder or default_model_dir()   # the embeddings it was fitted on
        return (lambda texts: predict_baseline(model, embed_cached(workspace, list(texts), model_dir=encoder))), \
            list(model.classes)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from curate.train import classify
    from curate.train.device import choose_device

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True)
    classes = [model.config.id2label[i] for i in range(model.config.num_labels)]
    device = choose_device()
    model.to(device.name)
    clf = classify.Classifier(model, tokenizer, classes, device)
    params = run.train_params
    return (lambda texts: classify.predict(clf, list(texts), params)[:2]), classes


def evaluate_run(workspace: Workspace, run_id: int, eval_set: str) -> dict[str, Any]:
    """Score a finished classification run on a pinned eval set and store the scores (replacing any
    earlier ones of that run on that set). Refused, storing nothing, when the label spaces differ."""
    from curate import versions

    run = _finished(workspace, run_id)
    if run.task != "classification":
        raise InputError(f"run {run_id}", f"is a {run.task} run; `curate eval` scores classification runs",
                         fix="sft/chat runs are scored on their eval sets when they train")
    rows = versions.eval_rows(workspace, eval_set)
    predict, classes = load_classifier(workspace, run)
    reason = label_space_reason(eval_set, classes, rows)
    if reason:
        raise InputError(f"run {run_id}", reason, fix="score it on an eval set labelled with the model's classes")
    preds, probs = predict([r["text"] or "" for r in rows])
    metrics, detail, table = classification_result(rows, preds, probs, classes)

    def save(con) -> None:
        store.save_eval(con, run_id, eval_set, metrics, detail, table)
    retry_conflicts(lambda: _write(workspace, save))
    return {"run": run_id, "eval_set": eval_set, "metrics": metrics, "detail": detail}


def _write(workspace: Workspace, fn) -> None:
    with workspace.transaction() as con:
        fn(con)


def predict_file(workspace: Workspace, run_id: int, path: str | Path, *, field: str = "text") -> list[dict[str, Any]]:
    """Label every record of a JSONL/JSON/CSV/Parquet file with a finished classification run:
    ``{row, text, prediction, score, probabilities}`` per record, in file order."""
    from curate.ingest.readers import batches, detect

    run = _finished(workspace, run_id)
    if run.task != "classification":
        raise InputError(f"run {run_id}", f"is a {run.task} run; `curate predict` labels text with classifiers",
                         fix="pick a classification run (see `curate runs DATASET`)")
    source = detect(path)
    rows, texts = [], []
    for table in batches(source):
        for row_num, raw in zip(table.column("row_num").to_pylist(), table.column("raw").to_pylist()):
            record = json.loads(raw)
            value = record.get(field) if isinstance(record, dict) else None
            if not isinstance(value, str):
                raise InputError(source.path, f"record has no text in {field!r}", **source.where(row_num),
                                 fix="name the text column with --field")
            rows.append(row_num)
            texts.append(value)
    predict, classes = load_classifier(workspace, run)
    preds, probs = predict(texts)
    return [{"row": r, "text": t, "prediction": p, "score": float(pr.max()),
             "probabilities": {c: float(x) for c, x in zip(classes, pr)}}
            for r, t, p, pr in zip(rows, texts, preds, probs)]
