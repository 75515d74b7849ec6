"""CLI options built from a pydantic params model: one ``--field-name`` per field, its help from the
field's description, choices, default and bounds, so a default or bound is written once (in the model).

``options_from(Model, skip=...)`` (or ``only=...``) decorates a command function whose last
parameter is ``**given``: typer sees the generated options, the function receives the ones the user
set (every option defaults to None, so the model's own default applies), and ``build(Model, given)``
validates them into the model, naming the option that failed. Stages whose library takes keyword
arguments pass ``set_only(given)`` on instead.
"""

from __future__ import annotations

import inspect
import json
import typing
from typing import Any, Callable, Optional, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from curate.errors import InputError
from curate.settings import bounds, plain

M = TypeVar("M", bound=BaseModel)


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def describe(model: type[BaseModel], name: str) -> str:
    """The help text of a field: description, choices, default and bounds."""
    field = model.model_fields[name]
    base, choices, _ = plain(field.annotation)
    parts = [field.description or ""]
    if choices:
        parts.append("One of " + " | ".join(choices) + ".")
    default = field.get_default(call_default_factory=True)
    low, high = bounds(model, name)
    if base is not bool and (default is not None or low is not None or high is not None):
        span = f"; {_num(low)}..{_num(high)}" if low is not None and high is not None else \
            f"; >= {_num(low)}" if low is not None else ""
        parts.append(f"(default {default if default is not None else 'none'}{span})")
    return " ".join(p for p in parts if p)


def _num(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def field_option(model: type[BaseModel], name: str, *short: str) -> Any:
    """The typer option of field ``name`` (default None: the model's default applies)."""
    return typer.Option(None, flag(name), *short, help=describe(model, name), show_default=False)


def options_from(model: type[BaseModel], *, skip: tuple[str, ...] = (), only: tuple[str, ...] | None = None,
                 short: dict[str, str] | None = None, lead: bool = False) -> Callable[[Callable], Callable]:
    """Give ``fn`` one typer option per field of ``model`` (``only`` those, or all but ``skip``), after its
    own parameters (``lead``: right after its arguments); ``short`` adds a one-letter alias to some
    (``{"method": "-m"}``)."""
    def decorate(fn: Callable) -> Callable:
        own = [p for p in inspect.signature(fn).parameters.values() if p.kind != p.VAR_KEYWORD]
        hints = typing.get_type_hints(fn)
        extra, annotations = [], {p.name: hints.get(p.name, p.annotation) for p in own}
        for name, field in model.model_fields.items():
            base, _, _ = plain(field.annotation)
            if name in skip or (only is not None and name not in only) or base not in (bool, int, float, str):
                continue
            annotations[name] = Optional[base]
            extra.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Optional[base],
                                           default=field_option(model, name, *([short[name]] if short and name in short
                                                                          else []))))
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) if p.kind == p.VAR_POSITIONAL else p for p in own]
        args = [p for p in own if isinstance(p.default, typer.models.ArgumentInfo)] if lead else []
        rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own if p not in args]
        fn.__signature__ = inspect.Signature([*args, *extra, *rest] if lead else [*own, *extra])
        fn.__annotations__ = {**annotations, "return": None}
        return fn
    return decorate


def set_only(given: dict[str, Any]) -> dict[str, Any]:
    """The options the user set (the others are None and left to the model's defaults)."""
    return {k: v for k, v in given.items() if v is not None}


def build(model: type[M], given: dict[str, Any], *, names: dict[str, str] | None = None,
          command: str = "train", **fixed: Any) -> M:
    """The model from the options the user set (None = not given) and ``fixed`` values; a failed
    check becomes a one-line error naming the option (``names``: options not called ``--field``)."""
    values = {k: v for k, v in set_only(given).items() if k in model.model_fields}
    try:
        return model(**values, **fixed)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "options"
        name = (names or {}).get(field, flag(field))
        raise InputError(name, first["msg"].removeprefix("Value error, "),
                         fix=f"see `curate {command} --help` for the allowed values") from None


def pairs(values: list[str] | None, option: str) -> dict[str, Any]:
    """``name=value`` options as a dict; values read as JSON where they parse (numbers, true, lists)."""
    found: dict[str, Any] = {}
    for item in values or []:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"{option} {item}", "expected name=value", fix=f"e.g. {option} adam_beta2=0.98")
        try:
            found[name.strip()] = json.loads(raw)
        except ValueError:
            found[name.strip()] = raw
    return found
