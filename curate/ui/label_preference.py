"""A preference question in the labelling view: the prompt, then the two responses side by side.

Response 1 is the pair's ``chosen`` as ingested, response 2 its ``rejected`` (the stored answer's
``choice`` names them so: ``1``, ``2`` or ``=`` for a tie, see ``curate.label.annotations``). Neither is
marked as the ingested choice, so the annotator judges the two blind.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from curate.ui import literal

CAPTIONS = {"1": "Response 1 is better", "2": "Response 2 is better", "=": "Tie"}
REASON = "lbl_reason_"


def show(item: dict) -> None:
    """The two responses side by side, each turn shown literally."""
    ex = item["example"]
    left, right = st.columns(2)
    for cell, name, turns in ((left, "Response 1", ex.get("chosen")), (right, "Response 2", ex.get("rejected"))):
        with cell.container(border=True, key=f"lbl_pref_{name[-1]}"):
            st.markdown(f"**{name}**")
            for turn in turns or []:
                if len(turns) > 1:
                    st.caption(literal.inline(turn.get("role", "")))
                literal.show(turn.get("content", ""))


def reason(item: dict) -> None:
    """An optional reason, saved with the choice."""
    ex_id = item["example"]["id"]
    mine = json.loads(item["mine"]) if item["mine"] else {}
    st.text_input("Reason (optional; `R` to write, `Esc` to leave the box)", value=mine.get("reason", ""), key=f"{REASON}{ex_id}")


def caption(option: str) -> str:
    return CAPTIONS.get(option, option)


def choice(answer: str) -> str:
    """The choice of a stored answer (``{"choice": ..., "reason"?}``)."""
    return json.loads(answer)["choice"]


def answer(pick: str, typed: dict[str, Any], example_id: int) -> dict[str, str]:
    """What ``Enter`` saves: the pick and the typed reason, if any."""
    why = str(typed.get(f"{REASON}{example_id}") or "").strip()
    return {"choice": pick, **({"reason": why} if why else {})}


def summary(answer: str) -> str:
    value = json.loads(answer)
    return caption(value["choice"]).lower() + (f" ({value['reason']})" if value.get("reason") else "")
