"""Streamlit widgets built from a pydantic params model: label, default, bounds, choices and help of
each widget come from the field (``curate.settings``), so a page restates none of them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from curate.settings import bounds, default as field_default, plain


def widget(container, model: type[BaseModel], name: str, label: str, *, key: str, default: Any = None,
           fmt: str | None = None, placeholder: str | None = None, empty: str = "none", step: float | None = None,
           slider: bool = False, choices: list | None = None, format_func=None) -> Any:
    """One input for field ``name`` of ``model`` in ``container`` (``default`` overrides the field's,
    e.g. the task's learning rate; ``choices`` narrows a Literal's); None when an optional field is
    left empty (``placeholder``: the hint of an empty text field, ``empty``: of an empty number).
    ``slider`` draws a bounded number as a slider."""
    field = model.model_fields[name]
    base, literal, optional = plain(field.annotation)
    value = field_default(model, name) if default is None else default
    help_text = field.description
    if base is bool:
        return container.checkbox(label, value=bool(value), key=key, help=help_text)
    if literal:
        options = list(choices or literal)
        return container.selectbox(label, options, index=options.index(value), key=key, help=help_text,
                                   **({"format_func": format_func} if format_func else {}))
    if base is str:
        return container.text_input(label, value=value or "", key=key, help=help_text, placeholder=placeholder) or None
    low, high = bounds(model, name)
    cast = int if base is int else float
    low, high = (None if low is None else cast(low)), (None if high is None else cast(high))
    if slider:
        return container.slider(label, low, high, cast(value), step, key=key, help=help_text)
    if base is int:
        return container.number_input(label, low, high, None if value is None else int(value), int(step or 1),
                                      key=key, help=help_text, placeholder=empty if optional else None)
    return container.number_input(label, low, high, None if value is None else float(value), step, key=key,
                                  help=help_text, format=fmt or "%g", placeholder=empty if optional else None)


def build(model: type[BaseModel], values: dict[str, Any], labels: dict[str, str]):
    """The model from the widgets' values (empty ones left to their defaults); a value out of bounds
    becomes a one-line error naming the widget's label."""
    from pydantic import ValidationError

    from curate.errors import InputError

    try:
        return model(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        raise InputError(labels.get(name, name or "settings"), first["msg"].removeprefix("Value error, "),
                         fix="change the setting") from None
