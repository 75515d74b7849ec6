"""Model-based quality from the bundled MiniLM: embedding outliers and a classifier that learns from marks.

Both scorers read ``ctx["embeddings"]`` (normalised MiniLM vectors of the scored field, one row per
batch row, prepared by the runner through ``curate.embed.embed_cached``); the classifier also reads
``ctx["marks"]`` (1 = marked good, 0 = marked bad, NaN = unmarked). Nothing here touches the store.

- ``typicality``: mean cosine similarity of a row to its ``k`` nearest neighbours (among up to
  ``max_reference`` rows), divided by the median of that over the dataset and capped at 1. So 1 means
  "at least as typical as the median row" and 0.5 "half as close to its neighbours".
- ``quality_score``: probability of "good" from a logistic regression on the marked rows' embeddings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from curate.errors import CurateError
from curate.ops.base import Operator, Params
from curate.ops.text import FieldOrAuto


class StepSkipped(CurateError):
    """A step that cannot run on this data yet (its message says why); the recipe goes on without it."""


class OutlierParams(Params):
    field: FieldOrAuto = Field("auto", description="Field to embed; auto: text, the sft response, or all chat turns.")
    k: int = Field(10, ge=1, le=200, description="Neighbours averaged for each row's typicality.")
    max_reference: int = Field(5000, ge=50, le=100_000,
                               description="Rows (a seeded sample) that serve as neighbours, to bound time.")


def outlier_scores(batch: pd.DataFrame, p: OutlierParams, ctx: dict) -> dict[str, np.ndarray]:
    emb = np.asarray(ctx["embeddings"], dtype=np.float32)
    n = len(emb)
    if n < 3:
        return {"typicality": np.ones(n)}
    rng = np.random.default_rng(0)
    ref_idx = np.sort(rng.choice(n, size=min(n, p.max_reference), replace=False))
    ref = emb[ref_idx]
    k = min(p.k, len(ref) - 1)
    mean_sim = np.empty(n)
    for start in range(0, n, 2048):
        sims = emb[start:start + 2048] @ ref.T
        rows = np.arange(start, min(start + 2048, n))
        # A row never counts as its own neighbour.
        own = np.searchsorted(ref_idx, rows)
        hit = (own < len(ref_idx)) & (ref_idx[np.minimum(own, len(ref_idx) - 1)] == rows)
        sims[np.flatnonzero(hit), own[hit]] = -np.inf
        top = -np.partition(-sims, k - 1, axis=1)[:, :k]
        mean_sim[start:start + len(rows)] = top.mean(axis=1)
    median = float(np.median(mean_sim))
    return {"typicality": np.clip(mean_sim / median, 0.0, 1.0) if median > 0 else np.ones(n)}


class QualityModelParams(Params):
    field: FieldOrAuto = Field("auto", description="Field to embed; auto: text, the sft response, or all chat turns.")
    min_marks: int = Field(2, ge=1, le=1000, description="Fewest examples marked good and marked bad to train.")
    c: float = Field(1.0, gt=0, le=1000, description="Inverse regularisation strength of the logistic regression.")


def quality_model_scores(batch: pd.DataFrame, p: QualityModelParams, ctx: dict) -> dict[str, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    emb = np.asarray(ctx["embeddings"], dtype=np.float32)
    marks = np.asarray(ctx["marks"], dtype=np.float64)
    known = ~np.isnan(marks)
    good, bad = int((marks[known] == 1).sum()), int((marks[known] == 0).sum())
    if good < p.min_marks or bad < p.min_marks:
        raise StepSkipped(f"needs at least {p.min_marks} examples marked good and {p.min_marks} marked bad "
                          f"(has {good} good, {bad} bad); mark some on the Curate page or with `curate mark`")
    model = LogisticRegression(C=p.c, class_weight="balanced", max_iter=1000)
    model.fit(emb[known], marks[known].astype(int))
    return {"quality_score": model.predict_proba(emb)[:, 1]}


OUTLIER = Operator("score.outlier", "scorer", OutlierParams, outlier_scores,
                   "Embedding outliers (bundled MiniLM): typicality from the mean similarity to the nearest "
                   "neighbours.", signals=("typicality",), needs=("embeddings",))
QUALITY_MODEL = Operator("score.quality_model", "scorer", QualityModelParams, quality_model_scores,
                         "Quality classifier: logistic regression on MiniLM embeddings of examples marked good/bad.",
                         signals=("quality_score",), needs=("embeddings", "marks"))

OPERATORS = [OUTLIER, QUALITY_MODEL]
