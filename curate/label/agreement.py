"""Inter-annotator agreement per question: Cohen's κ per annotator pair, Fleiss' κ and Krippendorff's α.

Libraries do the arithmetic: scikit-learn (Cohen), statsmodels (Fleiss), ``krippendorff`` (α).
Only current answers count. Multi-label answers compare as whole sets; preference answers by their
choice (1, 2 or =); span answers by span-level F1 per pair (``curate.label.span_agreement``); free
text and responses have no agreement.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from typing import Any, Literal, Mapping

import numpy as np

from curate.label.questions import Question, get_question, list_questions
from curate.label.span_agreement import choice_of, span_pairs
from curate.store import label as store
from curate.store.workspace import Workspace

Matrix = Mapping[int, Mapping[str, str]]  # example → annotator → value
AGREEABLE = ("label", "labels", "rating", "preference")


def _nan(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def cohen_pairs(matrix: Matrix, *, weights: str | None = None) -> list[dict[str, Any]]:
    """Cohen's κ for every pair of annotators over the examples both answered.

    κ is undefined (None) when the pair shares fewer than two examples or all answers are one class."""
    from sklearn.metrics import cohen_kappa_score

    names = sorted({a for answers in matrix.values() for a in answers})
    out = []
    for a, b in itertools.combinations(names, 2):
        shared = [(v[a], v[b]) for v in matrix.values() if a in v and b in v]
        kappa = None
        if len(shared) >= 2 and len({x for pair in shared for x in pair}) > 1:
            ya, yb = zip(*shared)
            kappa = _nan(cohen_kappa_score(ya, yb, weights=weights))
        agree = sum(x == y for x, y in shared)
        out.append({"a": a, "b": b, "n": len(shared), "kappa": kappa,
                    "observed": agree / len(shared) if shared else None})
    return out


def fleiss(matrix: Matrix) -> tuple[float | None, int, int]:
    """Fleiss' κ over the examples with the most common number (≥ 2) of raters, as Fleiss' κ needs
    the same number of raters per example. Returns (κ, examples used, raters per example)."""
    from statsmodels.stats.inter_rater import fleiss_kappa

    sizes = Counter(len(v) for v in matrix.values() if len(v) >= 2)
    if not sizes:
        return None, 0, 0
    raters = max(sizes, key=lambda k: (sizes[k], k))
    rows = [v for v in matrix.values() if len(v) == raters]
    categories = sorted({x for v in rows for x in v.values()})
    if len(rows) < 2 or len(categories) < 2:
        return None, len(rows), raters
    index = {c: i for i, c in enumerate(categories)}
    table = np.zeros((len(rows), len(categories)), dtype=int)
    for r, answers in enumerate(rows):
        for value in answers.values():
            table[r, index[value]] += 1
    return _nan(fleiss_kappa(table, method="fleiss")), len(rows), raters


def alpha(matrix: Matrix, *, level: Literal["nominal", "ordinal", "interval", "ratio"] = "nominal") -> float | None:
    """Krippendorff's α over every example with ≥ 2 answers (missing answers allowed)."""
    import krippendorff

    rows = {k: v for k, v in matrix.items() if len(v) >= 2}
    names = sorted({a for v in rows.values() for a in v})
    categories = sorted({x for v in rows.values() for x in v.values()})
    if len(rows) < 1 or len(categories) < 2:
        return None
    code = {c: float(c) if level != "nominal" else float(i) for i, c in enumerate(categories)}
    data = np.full((len(names), len(rows)), np.nan)
    for j, answers in enumerate(rows.values()):
        for i, name in enumerate(names):
            if name in answers:
                data[i, j] = code[answers[name]]
    return _nan(krippendorff.alpha(reliability_data=data, level_of_measurement=level))


def question_agreement(workspace: Workspace, question: Question) -> dict[str, Any]:
    """Agreement figures of one question from its current answers."""
    with workspace.connect() as con:
        answers = store.current_answers(con, question.id)
    matrix: dict[int, dict[str, Any]] = {}   # a stored answer is never NULL
    for a in answers:
        value = choice_of(a["value"]) if question.kind == "preference" else a["value"]
        matrix.setdefault(a["example_id"], {})[a["annotator"]] = value
    shared = {k: v for k, v in matrix.items() if len(v) >= 2}
    result = {"question": question.name, "kind": question.kind, "answers": len(answers),
              "examples": len(matrix), "overlapping": len(shared),
              "annotators": sorted({a["annotator"] for a in answers}),
              "disagreements": sum(len(set(v.values())) > 1 for v in shared.values()),
              "cohen": [], "fleiss": None, "fleiss_examples": 0, "fleiss_raters": 0, "alpha": None, "span_f1": []}
    if question.kind == "spans":
        result["span_f1"] = span_pairs(matrix)
    if question.kind not in AGREEABLE:
        return result
    rating = question.kind == "rating"
    result["cohen"] = cohen_pairs(matrix, weights="quadratic" if rating else None)
    result["fleiss"], result["fleiss_examples"], result["fleiss_raters"] = fleiss(matrix)
    result["alpha"] = alpha(matrix, level="ordinal" if rating else "nominal")
    return result


def agreement(workspace: Workspace, dataset: str, question: str | None = None) -> list[dict[str, Any]]:
    """Agreement of every question of a dataset (or of one)."""
    qs = [get_question(workspace, dataset, question)] if question else list_questions(workspace, dataset)
    return [question_agreement(workspace, q) for q in qs]
