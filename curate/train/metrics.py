"""Evaluation metrics over plain lists: references and predictions in, numbers out.

Classification: accuracy, macro-F1, per-class precision/recall/F1 and a confusion matrix (rows =
reference, columns = prediction, in ``classes`` order). SFT: mean token loss, perplexity and exact
match of a short answer (GSM8K's ``#### N``, else a short reference compared whole).
"""

from __future__ import annotations

import math
import re
from typing import Sequence

_GSM8K = re.compile(r"####\s*(.+?)\s*$", re.S)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
SHORT_REFERENCE_WORDS = 8  # references up to this many words are "short": exact match is meaningful


def classification_metrics(references: Sequence[str], predictions: Sequence[str],
                           classes: Sequence[str]) -> dict:
    """Accuracy, macro-F1 (over ``classes``), per-class P/R/F1/support and the confusion matrix.

    A reference outside ``classes`` counts as an error (the model cannot predict it); such references
    get a row of their own in the matrix so nothing disappears.
    """
    if len(references) != len(predictions):
        raise ValueError(f"{len(references)} references but {len(predictions)} predictions")
    labels = list(classes) + sorted({r for r in references if r not in classes})
    index = {c: i for i, c in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for ref, pred in zip(references, predictions):
        if pred not in index:
            index[pred] = len(labels)
            labels.append(pred)
            for row in matrix:
                row.append(0)
            matrix.append([0] * len(labels))
        matrix[index[ref]][index[pred]] += 1
    n = len(references)
    correct = sum(matrix[i][i] for i in range(len(labels)))
    per_class = {}
    for c in classes:
        i = index[c]
        tp = matrix[i][i]
        predicted = sum(row[i] for row in matrix)
        actual = sum(matrix[i])
        p = tp / predicted if predicted else 0.0
        r = tp / actual if actual else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        per_class[c] = {"precision": p, "recall": r, "f1": f, "support": actual}
    macro_f1 = sum(v["f1"] for v in per_class.values()) / len(per_class) if per_class else 0.0
    return {"accuracy": correct / n if n else 0.0, "macro_f1": macro_f1, "n": n,
            "per_class": per_class, "confusion": {"labels": labels, "matrix": matrix}}


def short_answer(text: str | None) -> str | None:
    """The comparable answer of a reference or a generation: GSM8K's ``#### N`` (number normalised),
    else the whole text stripped and lower-cased when it is short, else None (no exact match)."""
    if not text:
        return None
    found = _GSM8K.search(text)
    if found:
        return _normalise_number(found.group(1))
    if len(text.split()) <= SHORT_REFERENCE_WORDS:
        return " ".join(text.lower().split()).rstrip(".")
    return None


def generated_answer(text: str, reference_answer: str) -> str:
    """The answer read from a generation, in the reference's form (``#### N`` or the last number when
    the reference is numeric; else the first line)."""
    found = _GSM8K.search(text or "")
    if found:
        return _normalise_number(found.group(1).splitlines()[0])
    if _NUMBER.fullmatch(reference_answer or ""):
        numbers = _NUMBER.findall(text or "")
        return _normalise_number(numbers[-1]) if numbers else ""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return " ".join(line.lower().split()).rstrip(".")


def _normalise_number(text: str) -> str:
    text = text.strip().replace(",", "").replace("$", "").rstrip(".")
    try:
        value = float(text)
    except ValueError:
        return " ".join(text.lower().split())
    return str(int(value)) if value == int(value) else str(value)


def perplexity(mean_loss: float) -> float:
    """exp(mean token loss), capped to stay finite."""
    return math.exp(min(mean_loss, 50.0))
