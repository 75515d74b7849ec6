"""Normalise the records of the ``spans`` and ``preference`` tasks (the raw record is kept as is).

spans: ``text`` + character-offset ``spans: [{start, end, label}]``, or HF token classification
(``tokens`` + ``ner_tags``, BIO tags as ClassLabel ids or strings) decoded to character offsets over
the tokens joined by single spaces. Spans must lie inside the text, be non-empty and not overlap.

preference: a prompt (``prompt`` as a string or a list of turns; LLaMA-Factory's ``instruction`` +
``input``; sharegpt's ``conversations``/``messages``; or, with none of them, the turns that ``chosen``
and ``rejected`` share, TRL's implicit prompt) and the two responses ``chosen``/``rejected`` (a string,
one sharegpt/OpenAI turn, or a list of turns). Stored as JSON lists of ``{role, content}`` turns:
the prompt in ``messages``, the responses in ``chosen`` and ``rejected``.
"""

from __future__ import annotations

import json
from typing import Any

from curate.ingest.chat import ChatProblem, normalise


class ShapeProblem(ValueError):
    """Why one record cannot be read, and how to fix it."""

    def __init__(self, problem: str, fix: str):
        super().__init__(problem)
        self.fix = fix


# --- spans -----------------------------------------------------------------------------------------

def bio_to_spans(tokens: list[str], tags: list[str]) -> tuple[str, list[dict]]:
    """The text (tokens joined by spaces) and the character-offset spans of BIO ``tags``.
    ``I-X`` after ``O`` or after another type starts a span (IOB1 files do that)."""
    text, spans, offset, open_span = [], [], 0, None
    for token, tag in zip(tokens, tags):
        start, end = offset, offset + len(token)
        prefix, _, kind = tag.partition("-")
        if tag == "O" or not kind:
            open_span = None
        elif prefix == "I" and open_span is not None and open_span["label"] == kind:
            open_span["end"] = end
        else:
            open_span = {"start": start, "end": end, "label": kind}
            spans.append(open_span)
        text.append(token)
        offset = end + 1
    return " ".join(text), spans


def spans_to_bio(text: str, spans: list[dict]) -> tuple[list[str], list[str]]:
    """Whitespace tokens of ``text`` and their BIO tags: a token inside a span takes its type, ``B-`` on the
    span's first token (a span that does not end on token boundaries tags every token it touches)."""
    tokens, tags, pos, prev = [], [], 0, None
    for token in text.split():
        start = text.index(token, pos)
        pos = start + len(token)
        hit = next((s for s in spans if s["start"] < pos and start < s["end"]), None)
        tags.append("O" if hit is None else ("I-" if hit is prev else "B-") + hit["label"])
        tokens.append(token)
        prev = hit
    return tokens, tags


def check_spans(text: str | None, spans: Any) -> list[dict]:
    """Spans as sorted ``{start, end, label}`` dicts, or a ShapeProblem naming the bad one (without
    ``text`` only the end's bound is not checked)."""
    if not isinstance(spans, list):
        raise ShapeProblem("spans is not a list", 'write spans as [{"start": 0, "end": 5, "label": "PER"}]')
    out = []
    for i, span in enumerate(spans, 1):
        if not isinstance(span, dict) or not {"start", "end", "label"} <= set(span):
            raise ShapeProblem(f"span {i} is not an object with start, end and label",
                               'write each span as {"start": 0, "end": 5, "label": "PER"}')
        start, end, label = span["start"], span["end"], span["label"]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)) or not isinstance(label, str):
            raise ShapeProblem(f"span {i} needs integer start/end and a string label", "fix the span's values")
        if not 0 <= start < end <= (len(text) if text is not None else end):
            raise ShapeProblem(f"span {i} [{start}, {end}) is outside the text (length {len(text or '')}) or empty",
                               "give character offsets with 0 <= start < end <= len(text)")
        out.append({"start": start, "end": end, "label": label})
    out.sort(key=lambda s: (s["start"], s["end"]))
    for a, b in zip(out, out[1:]):
        if b["start"] < a["end"]:
            raise ShapeProblem(f"spans [{a['start']}, {a['end']}) {a['label']} and [{b['start']}, {b['end']}) "
                               f"{b['label']} overlap", "keep one of them or split them so they do not overlap")
    return out


def spans_record(record: dict, columns: dict[str, str], tag_names: list[str] | None) -> tuple[str, list[dict]]:
    """The text and checked spans of one record (``columns``: field → column)."""
    if "tokens" in columns and "ner_tags" in columns:
        tokens, tags = record.get(columns["tokens"]), record.get(columns["ner_tags"])
        if not isinstance(tokens, list) or not isinstance(tags, list) or len(tokens) != len(tags) \
                or not all(isinstance(t, str) for t in tokens):
            raise ShapeProblem("tokens and ner_tags must be lists of the same length (tokens strings)",
                               "give one tag per token")
        names = [_tag_name(t, tag_names) for t in tags]
        text, spans = bio_to_spans(tokens, names)
        return text, spans
    text = record.get(columns.get("text", "text"))
    if not isinstance(text, str):
        raise ShapeProblem("record has no text string", "give each record a text, or --map text=COLUMN")
    return text, check_spans(text, record.get(columns.get("spans", "spans"), []))


def _tag_name(tag: Any, names: list[str] | None) -> str:
    if isinstance(tag, str):
        return tag
    if isinstance(tag, int) and not isinstance(tag, bool) and names and 0 <= tag < len(names):
        return names[tag]
    raise ShapeProblem(f"tag {tag!r} has no name", "give the tag names (an HF ClassLabel) or write the tags as strings")


# --- preference ------------------------------------------------------------------------------------

def _turns(value: Any, role: str) -> list[dict]:
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    if isinstance(value, dict):
        value = [value]
    return normalise(value)


def _common_prefix(a: list[dict], b: list[dict]) -> int:
    n = 0
    while n < min(len(a), len(b)) - 1 and a[n] == b[n]:
        n += 1
    return n


def preference_record(record: dict, columns: dict[str, str]) -> tuple[list[dict], list[dict], list[dict]]:
    """``(prompt turns, chosen turns, rejected turns)`` of one record."""
    chosen, rejected = record.get(columns.get("chosen", "chosen")), record.get(columns.get("rejected", "rejected"))
    if chosen is None or rejected is None:
        raise ShapeProblem("record has no chosen or no rejected response", "give both, or --map chosen=COL,rejected=COL")
    try:
        chosen, rejected = _turns(chosen, "assistant"), _turns(rejected, "assistant")
        prompt = _prompt(record, columns)
    except ChatProblem as exc:
        raise ShapeProblem(str(exc), "give each turn a role (system/user/assistant) and text content") from None
    if prompt is None:
        n = _common_prefix(chosen, rejected)
        prompt, chosen, rejected = chosen[:n], chosen[n:], rejected[n:]
    if not prompt:
        raise ShapeProblem("record has no prompt", "give a prompt, instruction or conversations column (or --map prompt=COL)")
    return prompt, chosen, rejected


def _prompt(record: dict, columns: dict[str, str]) -> list[dict] | None:
    for name in ("prompt", "messages"):
        if name in columns and record.get(columns[name]) is not None:
            return _turns(record[columns[name]], "user")
    if "instruction" in columns and isinstance(record.get(columns["instruction"]), str):
        extra = record.get(columns.get("input", "input"))
        query = "\n".join(q for q in (record[columns["instruction"]], extra) if isinstance(q, str) and q)
        system = record.get("system")
        return ([{"role": "system", "content": system}] if isinstance(system, str) and system else []) + \
            [{"role": "user", "content": query}]
    return None


def columns_for(task: str, record: dict, columns: dict[str, str], tag_names: list[str] | None) -> dict[str, str]:
    """The stored columns of one record of ``task`` as text: spans → text, spans; preference →
    messages, chosen, rejected."""
    if task == "spans":
        text, spans = spans_record(record, columns, tag_names)
        return {"text": text, "spans": json.dumps(spans, ensure_ascii=False)}
    prompt, chosen, rejected = preference_record(record, columns)
    dump = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
    return {"messages": dump(prompt), "chosen": dump(chosen), "rejected": dump(rejected)}


OUTPUTS = {"spans": ("text", "spans"), "preference": ("messages", "chosen", "rejected")}
