"""The one operator registry: ``name → Operator``.

An operator is a pydantic params model (``extra="forbid"``, every field described and bounded) plus a
pure function over a batch. Three kinds:

- **mapper**: ``fn(values: pa.StringArray, params) -> pa.StringArray``, one text column in, the cleaned
  column out. The runner stores changed values as edits (``op:<name>``); examples never change.
- **scorer**: ``fn(batch: pd.DataFrame, params, ctx) -> {signal: np.ndarray}``, every signal in [0, 1]
  where 1 means good. ``ctx`` carries what the runner prepared (embeddings, quality marks); no I/O inside.
- **filter**: a threshold over one signal; rows below ``min_score`` get an issue with the filter's reason.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict

from curate.errors import CurateError

Kind = Literal["mapper", "scorer", "filter"]


class Params(BaseModel):
    """Base of every operator's params: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class UnknownOperator(CurateError):
    """A recipe names an operator that is not registered."""


@dataclass(frozen=True)
class Operator:
    name: str
    kind: Kind
    params: type[Params]
    fn: Callable[..., Any] | None
    doc: str
    signals: tuple[str, ...] = ()   # scorer: the signals it writes; filter: the one signal it reads
    reason: str | None = None       # filter: the issue kind it writes
    needs: tuple[str, ...] = field(default=())  # scorer: "embeddings", "marks"
    tasks: tuple[str, ...] = ("classification", "sft", "chat")  # the dataset tasks it applies to
    guard: Callable[..., Any] | None = None  # mapper: guard(frame, params) -> bool per row to leave alone


REGISTRY: dict[str, Operator] = {}


def register(op: Operator) -> Operator:
    """Add an operator; a second operator with the same name is a programming error."""
    if op.name in REGISTRY:
        raise ValueError(f"operator {op.name!r} is registered twice")
    REGISTRY[op.name] = op
    return op


def get(name: str) -> Operator:
    """The operator called ``name``; an unknown name raises with the closest registered names."""
    _load_all()
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(REGISTRY), n=3, cutoff=0.75)
        hint = f"did you mean {' or '.join(close)}?" if close else "see `curate ops` for the list"
        raise UnknownOperator(f"unknown operator {name!r}; {hint}") from None


def operators() -> list[Operator]:
    """Every registered operator, mappers first, then scorers, then filters."""
    _load_all()
    order = {"mapper": 0, "scorer": 1, "filter": 2}
    return sorted(REGISTRY.values(), key=lambda o: (order[o.kind], o.name))


def _load_all() -> None:
    # Importing the modules registers their operators (once).
    from curate.ops import filters, heuristics, lang, mappers, pii, quality, sft  # noqa: F401
