"""Which task a source holds, and which of its columns feed each of the task's fields.

Detection looks at the columns of the first records; ``--map field=column`` overrides it. A mapped
column may be a dotted path into nested records (``text=data.text`` for Label Studio's tasks); a key
that itself contains dots is taken whole when the records have it. Only two renames are automatic
because they are standard formats: alpaca's ``output`` is the response, and sharegpt's
``conversations`` are the messages.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from curate.errors import InputError

TASK_FIELDS = {
    "classification": ("text", "label"),
    "sft": ("instruction", "input", "response"),
    "chat": ("messages",),
    "spans": ("text", "spans", "tokens", "ner_tags"),
    "preference": ("prompt", "instruction", "input", "messages", "chosen", "rejected"),
}
REQUIRED = {"classification": ("text",), "sft": ("instruction", "response"), "chat": ("messages",),
            "spans": (), "preference": ("chosen", "rejected")}
AUTO_ALIASES = {"response": ("output",), "messages": ("conversations",)}
# Column names that commonly hold a field, used only to suggest a --map.
HINTS = {
    "text": ("sentence", "review", "content", "document", "body", "comment", "question", "tweet", "utterance"),
    "label": ("labels", "class", "category", "target", "stars", "rating", "sentiment", "label_text", "intent"),
    "instruction": ("prompt", "question", "query", "task"),
    "input": ("context", "inputs"),
    "response": ("answer", "completion", "output", "target", "chosen"),
    "messages": ("conversations", "dialog", "conversation", "turns", "chat"),
}


@dataclass
class Mapping:
    """A resolved task and the source column of each of its fields."""

    task: str
    columns: dict[str, str] = field(default_factory=dict)


def parse_map(text: str | None, where: str = "--map") -> dict[str, str]:
    """Parse ``text=review,label=stars`` into ``{"text": "review", "label": "stars"}``."""
    if not text:
        return {}
    out = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(where, f"cannot read {part!r}", fix="write field=column pairs, e.g. --map text=review,label=stars")
        out[key.strip()] = value.strip()
    return out


def key_path(column: str, columns: list[str]) -> tuple[str, ...]:
    """The keys that lead to a mapped column: the column itself when records have it, else its dotted parts."""
    return (column,) if column in columns or "." not in column else tuple(column.split("."))


def dig(record: object, keys: tuple[str, ...]) -> object:
    """The value at ``keys`` inside a record (None when a key is missing or a step is not an object)."""
    for key in keys:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record


def _reachable(col: str, columns: list[str], records: list[dict] | None) -> bool:
    keys = key_path(col, columns)
    if keys[0] not in columns:
        return False
    return len(keys) == 1 or records is None or any(dig(r, keys) is not None for r in records)


def columns_of(records: list[dict]) -> list[str]:
    """Every key seen in the sample records, in first-seen order."""
    seen: dict[str, None] = {}
    for record in records:
        for key in record:
            seen.setdefault(key, None)
    return list(seen)


def _guess(field_name: str, columns: list[str], taken: set[str]) -> str | None:
    free = [c for c in columns if c not in taken]
    for hint in (field_name, *HINTS.get(field_name, ())):
        for col in free:
            if col.lower() == hint:
                return col
    close = difflib.get_close_matches(field_name, free, n=1, cutoff=0.6)
    return close[0] if close else None


def suggest_map(task: str, columns: list[str]) -> dict[str, str]:
    """A best-guess mapping of a task's fields to columns (for errors and the upload form)."""
    out: dict[str, str] = {}
    for name in TASK_FIELDS[task]:
        guess = _guess(name, columns, set(out.values()))
        if guess:
            out[name] = guess
    return out


def detect_task(columns: list[str], mapping: dict[str, str]) -> str | None:
    have = set(columns) | set(mapping)
    if {"chosen", "rejected"} <= have:
        return "preference"
    if {"tokens", "ner_tags"} <= have or {"text", "spans"} <= have:
        return "spans"
    if "messages" in have or "conversations" in have:
        return "chat"
    if "instruction" in have and ({"response", "output"} & have):
        return "sft"
    if "text" in have:
        return "classification"
    return None


def _map_hint(task: str, columns: list[str]) -> str:
    guess = suggest_map(task, columns)
    need = [f for f in REQUIRED[task] if f not in guess]
    parts = [f"{k}={v}" for k, v in guess.items()] + [f"{f}=<column>" for f in need]
    return "--map " + ",".join(parts)


def missing_fields(task: str, fields: dict[str, str] | set[str], columns: list[str]) -> list[str]:
    """The required fields of ``task`` that ``fields`` (field → column) leave without a column. A spans
    task needs a pair: text and spans, or tokens and ner_tags."""
    if task == "spans":
        have = set(fields)
        if {"text", "spans"} <= have or {"tokens", "ner_tags"} <= have:
            return []
        return [f for f in (("tokens", "ner_tags") if "tokens" in columns else ("text", "spans")) if f not in have]
    return [f for f in REQUIRED[task] if f not in fields]


def resolve(path: str | Path, columns: list[str], *, task: str | None = None,
            mapping: dict[str, str] | None = None, records: list[dict] | None = None) -> Mapping:
    """Decide the task and each field's column, or raise one line naming the columns and a --map.
    ``records`` (a sample) lets a dotted ``--map`` path be checked against nested values."""
    mapping = dict(mapping or {})
    shown = ", ".join(columns) if columns else "(none)"
    if task is not None and task not in TASK_FIELDS:
        raise InputError(path, f"unknown task {task!r}", fix=f"use one of {', '.join(TASK_FIELDS)}")
    task = task or detect_task(columns, mapping)
    if task is None:
        best = max(TASK_FIELDS, key=lambda t: len(suggest_map(t, columns)))
        raise InputError(path, f"cannot tell the task from the columns ({shown})",
                         fix=f"name the columns, e.g. {_map_hint(best, columns)}, or pass --task")
    allowed = TASK_FIELDS[task]
    for name, col in mapping.items():
        if name not in allowed:
            raise InputError(path, f"--map names field {name!r}, which task {task} does not have",
                             fix=f"map only {', '.join(allowed)}")
        if not _reachable(col, columns, records):
            raise InputError(path, f"--map {name}={col}: no column {col!r} (columns: {shown})",
                             fix=f"use one of the columns or a dotted path into one (data.text), "
                                 f"e.g. {_map_hint(task, columns)}")
    resolved: dict[str, str] = {}
    for name in allowed:
        if name in mapping:
            resolved[name] = mapping[name]
        elif name in columns:
            resolved[name] = name
        else:
            alias = next((a for a in AUTO_ALIASES.get(name, ()) if a in columns), None)
            if alias:
                resolved[name] = alias
    missing = missing_fields(task, resolved, columns)
    if missing:
        raise InputError(path, f"missing required column {missing[0]!r} for task {task} (columns: {shown})",
                         fix=_map_hint(task, columns))
    return Mapping(task, resolved)
