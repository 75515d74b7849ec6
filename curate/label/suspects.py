"""Label-error suspects: cleanlab's ``find_label_issues`` over cross-validated predicted probabilities.

Works on every current label, including those that came with ingest. The suspects of a run are
stored as ``label_suspect`` issues whose score is 1 − p(given label): 1 means surely wrong.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pyarrow as pa

from curate.errors import InputError
from curate.label.annotations import with_retry
from curate.label.model import check_trainable, classifier, embeddings, label_data, libraries
from curate.label.questions import get_question
from curate.store import catalog, label as store
from curate.store.workspace import Workspace


@dataclass
class SuspectReport:
    run_id: int
    checked: int
    flagged: int
    seconds: float


def rank_suspects(X: np.ndarray, y: np.ndarray, *, folds: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of likely label errors (most suspicious first), their scores, and the argmax class of
    every row. ``y`` holds integer classes 0..K-1. Cut: cleanlab's default (prune by noise rate)."""
    from cleanlab.filter import find_label_issues
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    smallest = int(np.bincount(y).min())
    cv = StratifiedKFold(n_splits=max(2, min(folds, smallest)), shuffle=True, random_state=seed)
    proba = cross_val_predict(classifier(), X, y, cv=cv, method="predict_proba")
    ranked = find_label_issues(labels=y, pred_probs=proba, return_indices_ranked_by="self_confidence")
    scores = 1.0 - proba[np.arange(len(y)), y]
    return np.asarray(ranked, dtype=np.int64), scores[ranked], proba.argmax(axis=1)


def find_suspects(workspace: Workspace, question: dict[str, Any], *, folds: int = 5,
                  progress: Callable[[int, int], None] | None = None) -> SuspectReport:
    """Rank the labelled examples of a question and store the suspects as one run of issues."""
    started = time.perf_counter()
    data = label_data(workspace, question)
    y_all, present = check_trainable(data, 2)
    X_all = embeddings(workspace, data, progress)
    mask = y_all >= 0
    rows = np.flatnonzero(mask)
    ranked, scores, guess = rank_suspects(X_all[mask], y_all[mask], folds=folds)
    pick = rows[ranked]
    table = pa.table({"example_id": pa.array(data.example_ids[pick], pa.int64()),
                      "score": pa.array(scores, pa.float64()),
                      "given": [data.labels[i] for i in pick],
                      "suggested": [present[guess[j]] for j in ranked]})

    def write() -> int:
        with workspace.transaction() as con:
            run_id = catalog.start_run(con, "suspects", question["dataset_id"], {
                "question_id": question["id"], "question": question["name"], "folds": folds,
                "method": "cleanlab.find_label_issues(prune_by_noise_rate) over cross_val_predict"}, libraries())
            store.save_suspects(con, run_id, table)
            catalog.finish_run(con, run_id, {"total": int(mask.sum()), "flagged": len(pick),
                                             "kept": int(mask.sum()) - len(pick)})
        return run_id

    run_id = with_retry(write)
    return SuspectReport(run_id, int(mask.sum()), len(pick), time.perf_counter() - started)


def list_suspects(workspace: Workspace, question: dict[str, Any]) -> list[dict[str, Any]]:
    """The latest run's suspects: ``id`` (record id else row number), example_id, score, given, suggested."""
    with workspace.connect() as con:
        return store.suspects(con, question["dataset_id"], question["id"])


def accept_above(workspace: Workspace, question: dict[str, Any], score: float, annotator: str) -> int:
    """Take the suggested label of every suspect scoring ≥ ``score`` as ``annotator``'s answer."""
    if not 0.0 <= score <= 1.0:
        raise InputError("--accept-above", f"{score} is not a score", fix="use a value between 0 and 1")
    rows = [r for r in list_suspects(workspace, question) if r["score"] >= score]
    if not rows:
        return 0
    table = pa.table({"example_id": pa.array([r["example_id"] for r in rows], pa.int64()),
                      "annotator": [annotator] * len(rows), "value": [r["suggested"] for r in rows]})

    def write() -> None:
        with workspace.transaction() as con:
            store.insert_annotations(con, table, dataset_id=question["dataset_id"], question_id=question["id"],
                                     origin="suspects", run_id=rows[0]["run_id"])

    with_retry(write)
    return len(rows)


def suspects(workspace: Workspace, dataset: str, question: str | None = None) -> SuspectReport:
    return find_suspects(workspace, get_question(workspace, dataset, question))
