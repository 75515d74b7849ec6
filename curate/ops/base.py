"""What an operator is: a params model plus a pure function over a batch (see ``registry`` for the
contract of each kind). Operator modules import these; only ``registry`` imports the operator modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict

Kind = Literal["mapper", "scorer", "filter"]


class Params(BaseModel):
    """Base of every operator's params: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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
