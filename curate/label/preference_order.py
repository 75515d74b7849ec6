"""The order in which a preference question shows its two responses, and position bias.

A stored preference answer names responses, never sides: ``choice`` ``1`` is the pair's ``chosen``
as ingested, ``2`` its ``rejected``, ``=`` a tie (``curate.label.annotations``). The Label page shows
the two in an order that is random per item but the same on every visit: the response on the left
is drawn from a hash of question, example and annotator (``left_response``). An annotator who
prefers the left side, or who has learnt where the ingested choice sits, then no longer agrees with
the source for that reason. The answer records the response that was on the left (``left``), so
position bias can be measured: ``position_bias`` gives, per annotator, the share of picks (ties
left out) that went to the left side; about half is what an unbiased annotator gives.

Answers without ``left``: the Label page showed response ``1`` on the left before the order was
drawn, so a Label page answer (origin ``ui``) without ``left`` had ``1`` on the left; answers that
were never shown (imports, the CLI, the demo's scripted ones) are not counted.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

RESPONSES = ("1", "2")


def left_response(question_id: int, example_id: int, annotator: str) -> str:
    """``1`` or ``2``: the response shown on the left, the same for the same question, example and annotator."""
    digest = hashlib.sha256(f"{question_id}:{example_id}:{annotator}".encode()).digest()
    return RESPONSES[digest[0] & 1]


def swap(value: str, left: str) -> str:
    """A side (``1`` left, ``2`` right) as the response it shows, or a response as the side showing it
    (one mapping both ways: with ``2`` on the left, ``1`` and ``2`` trade places); ``=`` stays."""
    return {"1": "2", "2": "1"}.get(value, value) if left == "2" else value


def shown_left(answer: dict[str, Any], origin: str | None) -> str | None:
    """The response a stored answer (decoded) had on the left, None when it was never shown (see the
    module docstring)."""
    if answer.get("left") in RESPONSES:
        return answer["left"]
    return "1" if origin == "ui" else None


def position_bias(answers: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per annotator, over current answers (``annotator``, ``value``, ``origin``) whose side is known and
    that are not ties: ``picks``, how many took the ``left`` side, and ``left_share``."""
    counts: dict[str, list[int]] = {}
    for a in answers:
        answer = json.loads(a["value"])
        left, choice = shown_left(answer, a.get("origin")), answer["choice"]
        if left is None or choice not in RESPONSES:
            continue
        n = counts.setdefault(a["annotator"], [0, 0])
        n[0] += 1
        n[1] += choice == left
    return [{"annotator": who, "picks": n, "left": k, "left_share": k / n} for who, (n, k) in sorted(counts.items())]
