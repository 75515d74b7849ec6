"""The quick baseline: frozen MiniLM embeddings (cached in the store) + logistic regression.

It scores a version in seconds and is recorded as a *baseline* run, never mixed with fine-tunes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

from curate.errors import InputError


@dataclass
class Baseline:
    model: LogisticRegression        # fitted
    classes: list[str]
    encoder: str | None = None   # curate.embed model_dir of the embeddings it was fitted on (None: MiniLM)


def fit_baseline(X: np.ndarray, labels: Sequence[str], classes: Sequence[str], *, c: float = 2.0,
                 seed: int = 0) -> Baseline:
    """Fit a multinomial logistic regression on embedding rows ``X`` with string ``labels``."""
    from sklearn.linear_model import LogisticRegression

    classes = list(classes)
    present = sorted(set(labels))
    if len(present) < 2:
        raise InputError("training split", f"labels of {len(present)} class(es) only",
                         fix="a classification version needs labelled rows of at least two classes")
    y = np.array([classes.index(lab) for lab in labels])
    model = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(X, y)
    return Baseline(model, classes)


def predict_baseline(baseline: Baseline, X: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Predicted classes and probabilities over every class (0 for classes unseen in training)."""
    probs = np.zeros((len(X), len(baseline.classes)), dtype=np.float64)
    if len(X):
        probs[:, baseline.model.classes_] = baseline.model.predict_proba(X)
    return [baseline.classes[i] for i in probs.argmax(1)] if len(X) else [], probs
