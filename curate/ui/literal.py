"""The one way the UI shows untrusted strings (data, labels, names, notes, column names): literally.

Streamlit renders most strings as Markdown (GitHub-flavoured, with emoji shortcodes, autolinks and
images that the browser fetches). Data is text, never markup, so:

- ``show(value)`` writes a block: the escaped string in ``<pre style="white-space: pre-wrap">`` via
  ``st.html``. Entities, tags, leading spaces and line breaks are shown as they are.
- ``inline(value)`` returns a Markdown-safe form for the few places Streamlit accepts only Markdown
  (button labels, captions and messages that mix our own emphasis with data): every Markdown
  punctuation character is backslash-escaped, ``<>&`` become entities, line breaks become visible
  ``⏎``, and an invisible word joiner (U+2060) after each ``:``, ``@`` and ``.`` breaks
  ``:shortcode:`` emoji and autolinks (``http://``, ``www.``, ``a@b.c``), which escapes alone do not.
"""

from __future__ import annotations

import html

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
    out = []
    text = _str(value).replace("\r\n", "\n").replace("\n", " ⏎ ")
    for i, c in enumerate(text):
        if c == "<":
            out.append("&lt;")
        elif c == ">":
            out.append("&gt;")
        elif c == "&":
            out.append("&amp;")
        elif c in _MD:
            out.append("\\" + c)
        else:
            out.append(c)
        if c in ":@." and i + 1 < len(text):
            out.append(WORD_JOINER)
    return "".join(out)


def _str(value: object) -> str:
    return "" if value is None else str(value)
