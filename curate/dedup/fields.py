"""What a dedup can compare, per task: the names of the comparable fields (a chat's user or assistant
turns, a preference record's prompt or responses, ...). The store holds the SQL that reads each one
(``curate.store.dedup.FIELD_SQL``); the defaults per task are ``curate.dedup.params.DEFAULT_FIELDS``.
"""

from __future__ import annotations

COMPARABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "classification": ("text",),
    "sft": ("instruction", "input", "response"),
    "chat": ("user", "assistant", "messages"),
    "spans": ("text",),
    "preference": ("prompt", "chosen", "rejected"),
}
