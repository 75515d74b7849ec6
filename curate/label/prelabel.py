"""Pre-labels and active learning: suggestions with confidence from a classifier trained on the
current labels, "accept all above X", retraining every N new answers, and margins for the
uncertainty queue."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pyarrow as pa

from curate.errors import InputError, NotFound
from curate.label.annotations import accept_suggestions, with_retry
from curate.label.annotators import origin
from curate.label.model import check_trainable, classifier, embeddings, label_data, libraries
from curate.label.params import PrelabelParams
from curate.label.questions import Question
from curate.settings import default
from curate.store import catalog, label as store
from curate.store.workspace import Workspace


@dataclass
class PrelabelReport:
    run_id: int
    trained_on: int
    predicted: int
    classes: list[str]
    seconds: float


def train(workspace: Workspace, question: Question, *, min_per_class: int = 2,
          progress: Callable[[int, int], None] | None = None) -> PrelabelReport:
    """Fit on every labelled example (human majority, else the ingest label) and store a suggestion,
    its confidence and its margin for every example of the dataset."""
    started = time.perf_counter()
    data = label_data(workspace, question)
    y, present = check_trainable(data, min_per_class)
    X = embeddings(workspace, data, progress)
    mask = y >= 0
    model = classifier().fit(X[mask], y[mask])
    proba = model.predict_proba(X)
    top2 = np.sort(proba, axis=1)[:, -2:]
    best = proba.argmax(axis=1)
    table = pa.table({"example_id": pa.array(data.example_ids, pa.int64()),
                      "label": [present[i] for i in best],
                      "confidence": top2[:, 1].astype(float), "margin": (top2[:, 1] - top2[:, 0]).astype(float)})
    with workspace.connect() as con:
        n_answers = store.count_answers(con, question.id)

    def write() -> int:
        with workspace.transaction() as con:
            run_id = catalog.start_run(con, "prelabel", question.dataset_id, {
                "question_id": question.id, "question": question.name, "n_answers": n_answers,
                "model": "logreg(MiniLM embeddings)", "C": float(model.C)}, libraries())
            store.save_prelabels(con, run_id, question.id, table)
            catalog.finish_run(con, run_id, {"total": len(data.texts), "trained_on": int(mask.sum()),
                                             "classes": len(present)})
        return run_id

    run_id = with_retry(write)
    return PrelabelReport(run_id, int(mask.sum()), len(data.texts), present, time.perf_counter() - started)


def maybe_retrain(workspace: Workspace, question: Question, *, every: int | None = None) -> PrelabelReport | None:
    """Retrain when at least ``every`` answers were added since the last pre-label run (and only when
    pre-labels were started for this question); unset ``every``: ``PrelabelParams.retrain_every``."""
    every = default(PrelabelParams, "retrain_every") if every is None else every
    with workspace.connect() as con:
        last = store.last_prelabel_run(con, question.id)
        if last is None:
            return None
        now = store.count_answers(con, question.id)
    import json

    before = json.loads(last["params"]).get("n_answers", 0)
    return train(workspace, question) if now - before >= every else None


def suggestions(workspace: Workspace, question: Question, *, unanswered_only: bool = True,
                min_confidence: float | None = None) -> list[dict[str, Any]]:
    with workspace.connect() as con:
        return store.prelabels(con, question.id, unanswered_only=unanswered_only, min_confidence=min_confidence)


def accept_above(workspace: Workspace, question: Question, threshold: float, annotator: str, *,
                 admin: bool = False) -> int:
    """Record every suggestion with confidence ≥ ``threshold`` on an example nobody answered yet as
    ``annotator``'s answer (origin ``prelabel``), in one transaction. Returns how many."""
    if not 0.0 <= threshold <= 1.0:
        raise InputError("threshold", f"{threshold} is not a probability", fix="use a value between 0 and 1")
    rows = suggestions(workspace, question, min_confidence=threshold)
    return accept_suggestions(workspace, question, rows, "label", annotator, origin("prelabel", admin))


def has_prelabels(workspace: Workspace, question: Question) -> bool:
    with workspace.connect() as con:
        return store.last_prelabel_run(con, question.id) is not None


__all__ = ["train", "maybe_retrain", "suggestions", "accept_above", "has_prelabels", "NotFound"]
