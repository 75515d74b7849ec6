"""A hostile text corpus for the UI (issue 15): strings that Markdown, HTML, emoji shortcodes, autolinks or terminal markup would
change, hide or fetch. Every view must show them byte for byte and fetch nothing (tests/hostile.py is the fuzzing corpus of other tests)."""

from __future__ import annotations

import json
from pathlib import Path

BEACON = "beacon.invalid"
TEXTS = [
    "<b>bold?</b> &lt;b&gt;entity&lt;/b&gt; <img src=\"http://beacon.invalid/tag.png\"> tags stay tags",
    "![x](http://beacon.invalid/beacon.png) [link](http://beacon.invalid/l) www.example.com :smile: shortcodes",
    "[laughs] [bold red]not red[/] [citation needed] terminal markup stays",
    "# not a heading\n    indented, not code\nline two\nline three\n\nline five after a blank",
    "   three leading spaces and *stars* and _underscores_ and `ticks` survive",
]
LABELS = [":smile:", "![l](http://beacon.invalid/label.png)"]
COLUMN = "![c](http://beacon.invalid/column.png)"


def write_corpus(path: Path, copies: int = 1) -> Path:
    """The hostile texts (``copies`` times, numbered after the first) as a classification JSONL."""
    rows = []
    for n in range(copies):
        for i, text in enumerate(TEXTS):
            rows.append({"text": text if n == 0 else f"{text} #{n}", "label": LABELS[i % 2]})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
