"""Helpers shared by the operators: the text a step reads from a batch, and vectorised word splits.

A batch is a DataFrame with the current values of a dataset's fields (``text``, ``label``,
``instruction``, ``input``, ``response``, ``messages``). Chat ``messages`` are JSON lists of
``{role, content}``; ``field="messages"`` reads their contents joined by newlines.
"""

from __future__ import annotations

import json
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FieldOrAuto = Literal["auto", "text", "instruction", "input", "response", "messages", "prompt", "all"]
EditableField = Literal["text", "instruction", "input", "response", "messages"]

# The fields a mapper cleans when a recipe does not name them, and the field a scorer reads.
TASK_TEXT_FIELDS = {"classification": ("text",), "sft": ("instruction", "input", "response"),
                    "chat": ("messages",)}
MAIN_FIELD = {"classification": "text", "sft": "response", "chat": "all"}
FIELDS_OF_TASK = {"classification": {"text"},
                  "sft": {"instruction", "input", "response", "prompt", "all"},
                  "chat": {"messages", "prompt", "response", "all"}}


def contents(messages_json: str | None) -> list[dict]:
    """The turns of a chat record (empty for a missing or malformed value)."""
    if not messages_json:
        return []
    try:
        turns = json.loads(messages_json)
    except (TypeError, ValueError):
        return []
    return turns if isinstance(turns, list) else []


def _first_role(turns: list[dict], role: str) -> str:
    return next((str(t.get("content") or "") for t in turns if t.get("role") == role), "")


def _last_role(turns: list[dict], role: str) -> str:
    return next((str(t.get("content") or "") for t in reversed(turns) if t.get("role") == role), "")


def field_values(batch: pd.DataFrame, field: str) -> pa.Array:
    """The strings a scorer reads: one field, the prompt (instruction + input), or all text joined."""
    def col(name: str) -> pa.Array:
        if name not in batch:
            return pa.array([""] * len(batch), pa.string())
        return pc.fill_null(pa.array(batch[name].astype(object).where(batch[name].notna(), None), pa.string()), "")

    if "messages" in batch and batch["messages"].notna().any():
        turns = [contents(m) for m in batch["messages"]]
        if field in ("messages", "all"):
            return pa.array(["\n".join(str(t.get("content") or "") for t in ts) for ts in turns], pa.string())
        if field in ("prompt", "instruction"):
            return pa.array([_first_role(ts, "user") for ts in turns], pa.string())
        if field == "response":
            return pa.array([_last_role(ts, "assistant") for ts in turns], pa.string())
    if field == "prompt":
        return pc.utf8_trim_whitespace(pc.binary_join_element_wise(col("instruction"), col("input"), "\n"))
    if field == "all":
        joined = pc.binary_join_element_wise(col("text"), col("instruction"), col("input"), col("response"), "\n")
        return pc.utf8_trim_whitespace(joined)
    return col(field)


def words(values: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Whitespace-split words of every row: ``(flat_words, parent_row_of_each_word, words_per_row)``."""
    lists = pc.utf8_split_whitespace(pc.utf8_trim_whitespace(pc.fill_null(values, "")))
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    nonempty = pc.greater(pc.utf8_length(flat), 0)      # "" splits into one empty word
    flat = flat.filter(nonempty)
    parents = parents[nonempty.to_numpy(zero_copy_only=False)]
    counts = np.bincount(parents, minlength=len(values)).astype(np.int64)
    return flat, parents, counts


def per_row_sum(parents: np.ndarray, weights: np.ndarray | None, n: int) -> np.ndarray:
    """Sum ``weights`` (or count items) per parent row."""
    return np.bincount(parents, weights=weights, minlength=n).astype(np.float64)


def safe_div(num: np.ndarray, den: np.ndarray, empty: float) -> np.ndarray:
    """``num / den`` with ``empty`` where ``den`` is 0."""
    out = np.full(num.shape, empty, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out
