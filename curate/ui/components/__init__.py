"""Streamlit custom components of curate: static JavaScript and CSS shipped in this folder, registered
with ``st.components.v2`` (served by the Streamlit server itself: no build step, nothing fetched)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from streamlit.components.v2 import component

_HERE = Path(__file__).parent

_span_editor = component(
    "curate_span_editor", html="", css=(_HERE / "span_editor.css").read_text(encoding="utf-8"),
    js=(_HERE / "span_editor.js").read_text(encoding="utf-8"), isolate_styles=False)


def span_editor(*, key: str, example_id: int, text: str, types: list[tuple[str | None, str]],
                spans: list[dict[str, Any]], on_change: Callable[[], None] = lambda: None) -> list[dict] | None:
    """Mount the span editor over ``text`` (shown literally) with ``spans`` drawn and ``types`` as
    ``(key, label)`` pairs (a digit key assigns the type; ``None``: no key). Returns the spans the
    annotator left, as ``[{start, end, label}]`` code point offsets, or ``None`` before any change."""
    result = _span_editor(key=key, data={"id": f"{example_id}:{len(text)}", "text": text, "types": types,
                                         "spans": spans}, on_spans_change=on_change)
    return getattr(result, "spans", None)
