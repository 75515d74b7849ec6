"""One JSON rule for every record of every source: RFC 8259, no duplicate keys, bounded nesting.

DuckDB's JSON parser (yyjson) is lenient where RFC 8259 is not: it accepts ``NaN``/``Infinity`` and
trailing commas, and keeps duplicate keys (its ``->>`` reads the first, Python and JavaScript keep
the last). Ingest refuses all of those, and records nested deeper than ``MAX_DEPTH`` (Python's
parser, used by ``curate show`` and export, would fail on them). Every other grammar error is
refused by DuckDB itself when the batch is inserted.

Checking every record in Python would cost ~1 s per 300k rows, so a batch is screened in Arrow
first: only records that *could* break a rule (a NaN/Infinity-looking value, a comma before a
closing bracket, a nested object or array, or top-level keys that differ from the batch's first
record) are parsed strictly in Python. The screen over-approximates; the strict parse decides.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.store import examples
from curate.store.workspace import scratch

MAX_DEPTH = 100
# NaN/Infinity-like values (yyjson also accepts nan, inf, -inf in any case), trailing commas,
# nested objects (for nested duplicate keys) and nested arrays (for depth).
_SCREEN = r"(?i)[:\[,]\s*[+-]?(?:nan|inf)|,\s*[\]}]|\{[^{]*\{|\[[^\]]*\["
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


class NotStrict(ValueError):
    """A record that is not strict JSON: ``problem`` and ``fix`` for the one-line error."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem, self.fix = problem, fix


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record = dict(pairs)
    if len(record) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise NotStrict(f"duplicate key {dup!r} in one object",
                        "keep one value per key (Python and JavaScript would silently keep the last)")
    return record


def _constant(name: str) -> None:
    raise NotStrict(f"{name} is not a JSON value (RFC 8259)", f'write null, or the string "{name}"')


def depth(raw: str) -> int:
    """How deeply arrays and objects nest in ``raw`` (brackets inside strings do not count)."""
    if raw.count("[") + raw.count("{") <= MAX_DEPTH:
        return min(raw.count("[") + raw.count("{"), MAX_DEPTH)
    deepest = level = 0
    for ch in _STRINGS.sub("", raw):
        if ch in "[{":
            level += 1
            deepest = max(deepest, level)
        elif ch in "]}":
            level -= 1
    return deepest


def loads(raw: str) -> Any:
    """Parse one record strictly; raises ``NotStrict`` or ``json.JSONDecodeError``."""
    if depth(raw) > MAX_DEPTH:
        raise NotStrict(f"nested deeper than {MAX_DEPTH} levels",
                        "flatten the record, or keep the deep part as a JSON string")
    return json.loads(raw, object_pairs_hook=_pairs, parse_constant=_constant)


def explain(raw: str) -> tuple[str, str] | None:
    """``(problem, fix)`` for a record that is not strict JSON, else None."""
    try:
        loads(raw)
    except NotStrict as exc:
        return exc.problem, exc.fix
    except json.JSONDecodeError as exc:
        return f"malformed JSON ({exc.msg} at column {exc.colno})", "fix or remove this line"
    return None


def _first_keys(column: pa.Array) -> list[str] | None:
    try:
        first = json.loads(column[0].as_py())
    except (ValueError, RecursionError):
        return None
    return list(first) if isinstance(first, dict) else None


def _key_outliers(column: pa.Array) -> np.ndarray:
    """Positions whose top-level keys differ from the first record's (or that DuckDB cannot parse)."""
    table = pa.table({"pos": np.arange(len(column), dtype=np.int64), "raw": column})
    with scratch() as con:
        return np.array(examples.keys_differ(con, table, _first_keys(column)), dtype=np.int64)


def suspects(column: pa.Array) -> np.ndarray:
    """Positions of the records in ``column`` (JSON texts) that need the strict Python parse."""
    if len(column) == 0:
        return np.array([], dtype=np.int64)
    text = column.cast(pa.large_string()) if pa.types.is_string_view(column.type) else column
    screened = np.flatnonzero(pc.match_substring_regex(text, _SCREEN).to_numpy(zero_copy_only=False))
    return np.union1d(np.union1d(screened, _key_outliers(text)), [0])


def first_violation(column: pa.Array) -> tuple[int, str, str] | None:
    """``(position, problem, fix)`` of the first record breaking the strict rule, else None.

    A record Python accepts but DuckDB does not (a lone surrogate escape) is refused by the insert.
    """
    for pos in suspects(column):
        found = explain(column[int(pos)].as_py())
        if found:
            return int(pos), *found
    return None
