"""Reading a stage's params model (pydantic): the one place the shells learn a setting's type,
choices, default and bounds. The CLI builds its options from them (``curate/cli/_options.py``), the UI
its widgets (``curate/ui/params.py``); neither writes a default or bound of its own
(``tests/test_settings.py`` scans them).
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel


def plain(annotation: Any) -> tuple[Any, tuple | None, bool]:
    """(type, Literal choices, Optional?) of a field's annotation."""
    optional = type(None) in typing.get_args(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Literal:
        return str, typing.get_args(annotation), optional
    if optional and args:
        base, choices, _ = plain(args[0])
        return base, choices, True
    return annotation, None, optional


def bounds(model: type[BaseModel], name: str) -> tuple[float | None, float | None]:
    """The (lowest, highest) value a numeric field accepts (``gt``/``lt`` taken as the bound itself)."""
    low = high = None
    for m in model.model_fields[name].metadata:
        for attr in ("ge", "gt"):
            low = getattr(m, attr, None) if getattr(m, attr, None) is not None else low
        for attr in ("le", "lt"):
            high = getattr(m, attr, None) if getattr(m, attr, None) is not None else high
    return low, high


def default(model: type[BaseModel], name: str) -> Any:
    """The default of field ``name`` of ``model``."""
    return model.model_fields[name].get_default(call_default_factory=True)
