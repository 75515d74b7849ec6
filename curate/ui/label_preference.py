"""A preference question in the labelling view: the prompt, then the two responses side by side.

The two are shown in the order ``item["left"]`` gives (random per item and annotator, the same on
every visit: ``curate.label.preference_order``): response 1 is the one on the left, response 2 the one
on the right, and neither is marked as the ingested choice, so the annotator judges the two blind.
The keys ``1``/``2`` pick a side; the stored answer names the response on that side (``choice``: ``1``
the pair's ``chosen`` as ingested, ``2`` its ``rejected``, ``=`` a tie, see
``curate.label.annotations``) and records the response shown on the left (``left``).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from curate.label.preference_order import swap
from curate.ui import literal

CAPTIONS = {"1": "Response 1 is better", "2": "Response 2 is better", "=": "Tie"}
REASON = "lbl_reason_"


def left(item: dict | None) -> str:
    """The response shown on the left (``1`` for an item read without a question's order)."""
    return (item or {}).get("left") or "1"


def show(item: dict) -> None:
    """The two responses side by side in the item's order, each turn shown literally."""
    ex = item["example"]
    turns_of = {"1": ex.get("chosen"), "2": ex.get("rejected")}
    for cell, side in zip(st.columns(2), ("1", "2")):
        turns = turns_of[swap(side, left(item))]
        with cell.container(border=True, key=f"lbl_pref_{side}"):
            st.markdown(f"**Response {side}**")
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
    """The choice of a stored answer (``{"choice": ..., "left"?, "reason"?}``): the response that won."""
    return json.loads(answer)["choice"]


def side(answer: str, item: dict | None) -> str:
    """The side (``1`` left, ``2`` right, ``=``) that shows a stored answer's choice in ``item``'s order."""
    return swap(choice(answer), left(item))


def answer(pick: str, typed: dict[str, Any], item: dict) -> dict[str, str]:
    """What ``Enter`` saves for the side picked: the response on that side, the response shown on the
    left and the typed reason, if any."""
    why = str(typed.get(f"{REASON}{item['example']['id']}") or "").strip()
    return {"choice": swap(pick, left(item)), "left": left(item), **({"reason": why} if why else {})}


def summary(answer: str, item: dict | None = None) -> str:
    """A stored answer in terms of the sides ``item`` shows (response 1 on the left)."""
    value = json.loads(answer)
    return caption(side(answer, item)).lower() + (f" ({value['reason']})" if value.get("reason") else "")


def position(rows: list[dict]) -> None:
    """The Agreement view's position bias: per annotator, the share of picks of the left response."""
    st.markdown("**Position bias**: share of each annotator's picks (ties left out) that went to the response "
                "shown on the left; the order is random per item, so about half is unbiased")
    st.dataframe(pd.DataFrame(rows).rename(columns={"picks": "picks (side known)", "left": "picked left",
                                                    "left_share": "share left"}),
                 hide_index=True, key="lbl_position")
