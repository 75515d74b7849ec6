"""Which key picks which answer on the Label page."""

from __future__ import annotations


def shortcuts(options: list[str]) -> list[str | None]:
    """One distinct key per option: an option that is itself a digit (or ``=``, a preference's tie)
    keeps it (label ``0`` is key ``0``); the others take the free digits 1–9, then 0, in order; past
    ten options, none."""
    taken = {o for o in options if len(o) == 1 and (o.isdigit() or o == "=")}
    free = iter(d for d in "1234567890" if d not in taken)
    return [o if o in taken else next(free, None) for o in options]
