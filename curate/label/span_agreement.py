"""Agreement on span and preference answers.

Span answers (JSON lists of ``{start, end, label}``) agree by span-level F1 between two annotators,
micro-averaged over the examples both answered: ``2·matched / (|A| + |B|)`` with a span matched when
an identical span exists (exact) or, one to one, a span of the same type that overlaps it (overlap).
F1 is symmetric, so neither annotator is taken as the reference. Preference answers
(``{"choice": "1" | "2" | "=", "reason": ...}``) agree on their choice: the caller runs Cohen's κ
over the choices.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, Mapping

Span = tuple[int, int, str]


def spans_of(value: str | None) -> list[Span]:
    return [(s["start"], s["end"], s["label"]) for s in json.loads(value or "[]")]


def choice_of(value: str | None) -> str | None:
    return json.loads(value)["choice"] if value else None


def matches(a: list[Span], b: list[Span], *, exact: bool) -> int:
    """How many spans of ``a`` are matched one to one by spans of ``b``."""
    if exact:
        return len(set(a) & set(b))
    free, n = list(b), 0
    for start, end, label in sorted(a):
        hit = next((s for s in free if s[2] == label and s[0] < end and start < s[1]), None)
        if hit is not None:
            free.remove(hit)
            n += 1
    return n


def _f1(matched: int, total: int) -> float | None:
    return 2 * matched / total if total else None


def span_pairs(matrix: Mapping[int, Mapping[str, str]]) -> list[dict[str, Any]]:
    """Exact and overlap span F1 for every pair of annotators over the examples both answered."""
    names = sorted({a for answers in matrix.values() for a in answers})
    out = []
    for a, b in itertools.combinations(names, 2):
        shared = [(spans_of(v[a]), spans_of(v[b])) for v in matrix.values() if a in v and b in v]
        total = sum(len(x) + len(y) for x, y in shared)
        exact = sum(matches(x, y, exact=True) for x, y in shared)
        overlap = sum(matches(x, y, exact=False) for x, y in shared)
        out.append({"a": a, "b": b, "n": len(shared), "spans": total,
                    "exact_f1": _f1(exact, total) if shared else None,
                    "overlap_f1": _f1(overlap, total) if shared else None})
    return out
