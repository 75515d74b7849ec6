"""The one way the CLI prints untrusted strings (data, labels, names, notes): literally.

Rich reads ``[...]`` as console markup, so ``[laughs]`` would vanish and ``[bold red]`` would style
what follows. ``literal`` gives a ``rich.text.Text`` (never parsed, safe in tables) and ``esc`` the
escaped string for f-strings that mix our markup with data.
"""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text


def literal(value: object, *, width: int | None = None) -> Text:
    """``value`` as unparsed text; with ``width``, on one line (``⏎`` for line breaks) and cut to it."""
    text = "" if value is None else str(value)
    if width is not None:
        text = text.replace("\n", " ⏎ ")
        text = text if len(text) <= width else text[:width - 1] + "…"
    return Text(text)


def esc(value: object) -> str:
    """``value`` escaped for an f-string printed with markup."""
    return escape("" if value is None else str(value))
