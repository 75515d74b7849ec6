"""Normalise chat records: ``messages`` with role/content, or sharegpt ``conversations`` with from/value."""

from __future__ import annotations

import json
from typing import Any

# sharegpt and OpenAI-style role names → ours.
ROLES = {
    "system": "system", "user": "user", "human": "user", "assistant": "assistant", "gpt": "assistant",
    "model": "assistant", "chatgpt": "assistant", "bot": "assistant", "tool": "tool", "function": "tool",
    "observation": "tool", "function_call": "assistant",
}


class ChatProblem(ValueError):
    """Why one record's conversation cannot be read."""


def normalise(value: Any) -> list[dict[str, str]]:
    """A conversation as ``[{"role", "content"}]`` with roles mapped to system/user/assistant/tool."""
    if not isinstance(value, list) or not value:
        raise ChatProblem("messages must be a non-empty list of {role, content} turns")
    out = []
    for i, turn in enumerate(value, 1):
        if not isinstance(turn, dict):
            raise ChatProblem(f"turn {i} is not an object")
        role = turn.get("role", turn.get("from"))
        content = turn.get("content", turn.get("value"))
        if not isinstance(role, str) or role.lower() not in ROLES:
            raise ChatProblem(f"turn {i} has unknown role {role!r} (known: {', '.join(sorted(set(ROLES)))})")
        if not isinstance(content, str):
            raise ChatProblem(f"turn {i} has no text content")
        out.append({"role": ROLES[role.lower()], "content": content})
    return out


def normalise_raw(raw: str, keys: tuple[str, ...]) -> str:
    """The normalised conversation at ``keys`` (a column, or a path into nested records) of one raw
    record, as JSON text."""
    from curate.ingest.tasks import dig

    record = json.loads(raw)
    if not isinstance(record, dict):
        raise ChatProblem("record is not a JSON object")
    return json.dumps(normalise(dig(record, keys)), ensure_ascii=False)
