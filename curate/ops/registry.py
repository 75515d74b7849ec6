"""The one operator registry: ``name → Operator``.

An operator is a pydantic params model (``extra="forbid"``, every field described and bounded) plus a
pure function over a batch. Three kinds:

- **mapper**: ``fn(values: pa.StringArray, params) -> pa.StringArray``, one text column in, the cleaned
  column out. The runner stores changed values as edits (``op:<name>``); examples never change.
- **scorer**: ``fn(batch: pd.DataFrame, params, ctx) -> {signal: np.ndarray}``, every signal in [0, 1]
  where 1 means good. ``ctx`` carries what the runner prepared (embeddings, quality marks); no I/O inside.
- **filter**: a threshold over one signal; rows below ``min_score`` get an issue with the filter's reason.

Registration is explicit: each operator module ends with ``OPERATORS = [...]`` and ``MODULES`` below
lists those modules; a new operator module is added there (``tests/test_ops_registry.py`` fails when
a module that builds operators is missing, or an operator is not described).
"""

from __future__ import annotations

import difflib
from types import ModuleType

from curate.errors import CurateError
import curate.ops.filters as filters
import curate.ops.heuristics as heuristics
import curate.ops.lang as lang
import curate.ops.mappers as mappers
import curate.ops.pii as pii
import curate.ops.quality as quality
import curate.ops.sft as sft
from curate.ops.base import Kind, Operator, Params

# Every module whose ``OPERATORS`` a recipe can use.
MODULES: tuple[ModuleType, ...] = (mappers, pii, heuristics, lang, sft, quality, filters)


class UnknownOperator(CurateError):
    """A recipe names an operator that is not registered."""


def _add(registry: dict[str, Operator], op: Operator) -> None:
    if op.name in registry:
        raise ValueError(f"operator {op.name!r} is registered twice")
    registry[op.name] = op


def build(modules: tuple[ModuleType, ...]) -> dict[str, Operator]:
    """``name → Operator`` from the ``OPERATORS`` list of each module; a name used twice is an error."""
    registry: dict[str, Operator] = {}
    for module in modules:
        for op in module.OPERATORS:
            _add(registry, op)
    return registry


REGISTRY: dict[str, Operator] = build(MODULES)


def register(op: Operator) -> Operator:
    """Add an operator at run time (an extension); a second operator with the same name is an error."""
    _add(REGISTRY, op)
    return op


def get(name: str) -> Operator:
    """The operator called ``name``; an unknown name raises with the closest registered names."""
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(REGISTRY), n=3, cutoff=0.75)
        hint = f"did you mean {' or '.join(close)}?" if close else "see `curate ops` for the list"
        raise UnknownOperator(f"unknown operator {name!r}; {hint}") from None


def operators() -> list[Operator]:
    """Every registered operator, mappers first, then scorers, then filters."""
    order = {"mapper": 0, "scorer": 1, "filter": 2}
    return sorted(REGISTRY.values(), key=lambda o: (order[o.kind], o.name))


__all__ = ["MODULES", "REGISTRY", "Kind", "Operator", "Params", "UnknownOperator", "build", "get", "operators", "register"]
