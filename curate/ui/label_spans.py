"""A span question in the labelling view: the span editor component over the example's text.

What the editor starts with: the annotator's current answer, else the example's ingested spans
(pre-annotations: ``Enter`` accepts them as they are). What ``Enter`` saves: the editor's spans as
the annotator left them (kept in the component's state, one key per example), as character offsets
(code points) that ``curate.label.annotations`` checks: inside the text, non-empty, no overlaps, the
question's types. The editor never lets two spans overlap: a new span replaces those it covers.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pandas as pd
import streamlit as st

from curate.label.questions import Question
from curate.ui.components import span_editor
from curate.ui.label_keys import shortcuts

PREFIX = "lbl_spans_"
KEYS_HELP = ("**Keys** · `→` `←` select the next/previous word · `Shift+→` `Shift+←` grow or shrink the selection "
             "(or select with the mouse) · {digits} give the selection that type (replacing spans it overlaps) · "
             "`Backspace` removes the span under the selection · `Esc` clears it · `Enter` submit · "
             "`J` next · `K` previous · `S` skip")


def _spans_of(state: Any) -> list[dict] | None:
    """The spans an editor's state holds (a dict or Streamlit's attribute dict), None before any change."""
    spans = state.get("spans") if isinstance(state, dict) else getattr(state, "spans", None)
    return None if spans is None else [dict(s) for s in spans]


def initial(item: dict) -> list[dict]:
    """The annotator's current answer, else the ingested spans."""
    if item["mine"] is not None:
        return json.loads(item["mine"])
    return list(item["example"].get("spans") or [])


def editor(item: dict, question: Question) -> None:
    """The text with its spans, editable (see the module docstring)."""
    ex = item["example"]
    types = list(zip(shortcuts(question.options), question.options))
    key = f"{PREFIX}{ex['id']}"
    spans = _spans_of(st.session_state.get(key))
    if spans is None:
        spans = initial(item)
        if item["mine"] is None and spans:
            st.caption(f"{len(spans)} pre-annotated span{'s' * (len(spans) != 1)} (ingested): "
                       "`Enter` accepts them, or edit them first.")
    # The ingested text: span offsets count its characters (an edit of the text would shift them).
    span_editor(key=key, example_id=ex["id"], text=ex.get("raw_text") or "", types=types, spans=spans)


def value(item: dict, typed: dict[str, Any]) -> list[dict]:
    """The spans ``Enter`` saves for ``item`` (``typed``: the session's ``lbl_spans_*`` states)."""
    spans = _spans_of(typed.get(f"{PREFIX}{item['example']['id']}"))
    return initial(item) if spans is None else spans


def summary(answer: str) -> str:
    """A stored span answer in a few words: ``3 spans: PER ×2, LOC``."""
    spans = json.loads(answer)
    if not spans:
        return "no spans"
    kinds = Counter(s["label"] for s in spans)
    return f"{len(spans)} span{'s' * (len(spans) != 1)}: " + ", ".join(
        f"{k} ×{n}" if n > 1 else k for k, n in kinds.items())


def keys_help(question: Question) -> str:
    digits = " ".join(f"`{k}` {t}" for k, t in zip(shortcuts(question.options), question.options) if k)
    return KEYS_HELP.format(digits=digits or "the type buttons")


def agreement(result: dict) -> None:
    """The Agreement view's span figures: exact and overlap span F1 per annotator pair."""
    pairs = [p for p in result["span_f1"] if p["n"]]
    if not pairs:
        st.info("Span F1 needs examples answered by at least two annotators (raise the question's overlap).")
        return
    st.markdown("**Span F1 per annotator pair** (exact: same start, end and type; overlap: same type, "
                "overlapping, matched one to one)")
    st.dataframe(pd.DataFrame(pairs).rename(columns={
        "a": "annotator A", "b": "annotator B", "n": "shared examples", "spans": "spans (both)",
        "exact_f1": "exact F1", "overlap_f1": "overlap F1"}), hide_index=True, key="lbl_span_f1")
