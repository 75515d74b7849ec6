"""The one way the UI shows untrusted strings (data, labels, names, notes, column names): literally.

Streamlit renders most strings as Markdown (GitHub-flavoured, with emoji shortcodes, autolinks and
images that the browser fetches). Data is text, never markup, so:

- ``show(value)`` writes a block: the escaped string in ``<pre style="white-space: pre-wrap">`` via
  ``st.html``. Entities, tags, leading spaces and line breaks are shown as they are.
- ``inline(value)`` returns a Markdown-safe form for the few places Streamlit accepts only Markdown
  (button labels, captions and messages that mix our own emphasis with data): every Markdown
  punctuation character is backslash-escaped, ``<>&`` become entities, line breaks become visible
  ``⏎``, and an invisible word joiner (U+2060) breaks ``:shortcode:`` emoji and autolinks
  (``http://``, ``www.``, ``a@b.c``), which escapes alone do not.
"""

from __future__ import annotations

import html
import re

import streamlit as st

STYLE = ("white-space: pre-wrap; overflow-wrap: anywhere; margin: 0 0 0.5rem 0; font-family: inherit; "
         "font-size: 0.95rem; background: none; padding: 0")
_MD = set("\\`*_{}[]()#+-.!|<>$~:&\"'=^@")
WORD_JOINER = "\u2060"


def show(value: object, *, mono: bool = False, title: str | None = None) -> None:
    """Write ``value`` as a literal block (``title``: a bold caption of our own above it)."""
    head = f"<div style='font-weight: 600; margin-bottom: 0.2rem'>{html.escape(title)}</div>" if title else ""
    style = STYLE + ("; font-family: monospace; font-size: 0.85rem" if mono else "")
    st.html(f"{head}<pre class='curate-literal' style='{style}'>{html.escape(_str(value))}</pre>")


def inline(value: object) -> str:
    """``value`` as Markdown that renders to exactly its characters (see the module docstring)."""
    text = _str(value).replace("\r\n", "\n").replace("\n", " ⏎ ")
    out = []
    for i, c in enumerate(text):
        out.append(_ENTITY.get(c) or ("\\" + c if c in _MD else c))
        if _breaks_after(text, i):
            out.append(WORD_JOINER)
    return "".join(out)


_ENTITY = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
_SHORTCODE = re.compile(r":[\w+-]+:")


def _breaks_after(text: str, i: int) -> bool:
    """Whether a word joiner must follow ``text[i]``: the colon opening ``:shortcode:`` or ``://``,
    every ``@`` (e-mail autolinks) and the dot of ``www.``."""
    c = text[i]
    if c == ":":
        return text.startswith("//", i + 1) or bool(_SHORTCODE.match(text, i))
    if c == ".":
        return text[max(0, i - 3):i].lower() == "www"
    return c == "@"


def _str(value: object) -> str:
    return "" if value is None else str(value)
