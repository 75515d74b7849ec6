"""Answers exported by other labelling tools, read into ``(key, value)`` pairs for ``labels import``.

Three shapes are understood, told apart by their content:

* curate's own JSONL: ``{"id": record id or row number, "value": answer}`` per line.
* Label Studio's JSON export (a list of tasks): ``{"id", "data": {...the record...}, "annotations":
  [{"result": [{"from_name", "type", "value": {"choices": [...]} | {"rating": n} | {"text": [...]}}],
  "was_cancelled", "updated_at"}]}``. The record is found by ``data.id`` (the id of the record curate
  ingested), else by ``data.text``; the answer is the latest annotation not cancelled, and its result
  named like the question (``from_name``), else its first result.
* Argilla's export (``records.to_json`` / ``to_list``), nested: ``{"id", "fields": {...},
  "responses": {question: [{"value", "user_id"}]}}``, or flattened: ``{"id", <field>: ...,
  "<question>.responses": [values], "<question>.responses.status": [...]}``. The record is found by
  ``id``, else by the ``text`` field; the answer is the first submitted response to the question
  named like curate's (else the only question answered).

Each import records one answer per record, as the one annotator named on the command line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from curate.errors import InputError


@dataclass
class Answer:
    by: str          # "id" (record id or row number) or "text"
    key: str
    value: Any
    where: dict[str, int]


def _json_records(path: Path) -> tuple[list[Any], bool]:
    """The file's records and whether it is a JSON array (else JSON lines)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not valid UTF-8 (byte {data[exc.start:exc.start + 1]!r})",
                         line=data[:exc.start].count(b"\n") + 1, fix="re-save the file as UTF-8") from None
    if text.lstrip().startswith("["):
        try:
            return json.loads(text), True
        except json.JSONDecodeError as exc:
            raise InputError(path, f"invalid JSON ({exc.msg})", line=exc.lineno, fix="export the file again") from None
    out = []
    for n, line in enumerate(text.split("\n"), 1):  # not splitlines(): U+2028 may stand inside a string
        if line.strip():
            try:
                out.append((n, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise InputError(path, f"invalid JSON ({exc.msg})", line=n, fix="one JSON object per line") from None
    return out, False


def _label_studio_value(task: dict[str, Any], question: str) -> Any:
    done = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
    if not done:
        return None
    latest = max(done, key=lambda a: str(a.get("updated_at") or a.get("created_at") or ""))
    results = [r for r in latest.get("result") or [] if isinstance(r, dict) and isinstance(r.get("value"), dict)]
    chosen = next((r for r in results if r.get("from_name") == question), results[0] if results else None)
    if chosen is None:
        return None
    value = chosen["value"]
    for key in ("choices", "taxonomy", "labels"):
        if key in value:
            items = value[key]
            return items[0] if isinstance(items, list) and len(items) == 1 else items
    if "rating" in value:
        return value["rating"]
    if "text" in value:
        return value["text"][0] if isinstance(value["text"], list) and value["text"] else value["text"]
    return None


def _argilla_value(record: dict[str, Any], question: str) -> Any:
    nested = record.get("responses")
    if isinstance(nested, dict) and nested:
        name = question if question in nested else next(iter(nested))
        answers = [a for a in nested.get(name) or [] if isinstance(a, dict)]
        submitted = [a for a in answers if a.get("status", "submitted") == "submitted"]
        return (submitted or answers or [{}])[0].get("value")
    flat = [k[: -len(".responses")] for k in record if k.endswith(".responses")]
    if not flat:
        return None
    name = question if question in flat else flat[0]
    values = record.get(f"{name}.responses") or []
    status = record.get(f"{name}.responses.status") or ["submitted"] * len(values)
    submitted = [v for v, s in zip(values, status) if s in (None, "submitted")]
    return (submitted or values or [None])[0]


def _keyed(record: dict[str, Any], data: dict[str, Any], value: Any, where: dict[str, int]) -> Answer:
    if data.get("id") is not None:
        return Answer("id", str(data["id"]), value, where)
    if isinstance(data.get("text"), str):
        return Answer("text", data["text"], value, where)
    raise InputError("record", "has no id and no text to find its example by", **where,
                     fix="keep the record's id (or its text) in the exported data")


def read_answers(path: str | Path, question: str) -> Iterator[Answer]:
    """Every answer of a curate JSONL, Label Studio or Argilla export file (records without an answer
    are skipped)."""
    path = Path(path)
    records, is_array = _json_records(path)
    for i, item in enumerate(records, 1):
        n, record = (i, item) if is_array else item
        where = {"row": n} if is_array else {"line": n}
        if not isinstance(record, dict):
            raise InputError(path, "record is not a JSON object", **where, fix="export the file again")
        try:
            if isinstance(record.get("data"), dict) and "annotations" in record:     # Label Studio
                value, data = _label_studio_value(record, question), record["data"]
            elif "responses" in record or any(k.endswith(".responses") for k in record):  # Argilla
                fields = record["fields"] if isinstance(record.get("fields"), dict) else record
                value, data = _argilla_value(record, question), {"id": record.get("id"), "text": fields.get("text")}
            elif "id" in record and "value" in record:                               # curate
                value, data = record["value"], {"id": record["id"]}
            else:
                raise InputError(path, "is not a curate, Label Studio or Argilla answer", **where,
                                 fix='write lines like {"id": "17", "value": "positive"}, or a Label Studio / '
                                     "Argilla JSON export")
            if value is not None:
                yield _keyed(record, data, value, where)
        except InputError as exc:
            raise InputError(path, exc.problem, **where, fix=exc.fix) from None
