"""Example ids typed by a person (``12, 15,40``): one parser and one message for the CLI and the UI."""

from __future__ import annotations

from curate.errors import InputError


def parse_ids(text: str, where: str) -> list[int]:
    """``"12, 15,40"`` → ``[12, 15, 40]``; anything else raises one ``InputError`` naming ``where``
    (the option or the field the ids were typed into)."""
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(where, f"{text!r} is not a comma-separated list of ids",
                         fix="give example ids as numbers separated by commas, e.g. 12,15,40") from None
