"""Recording answers: validation per question kind, single writes, JSONL import and export.

Every write is one transaction on its own connection, so annotators working at once (Streamlit
sessions are threads) each append their rows and nothing is lost or misattributed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import pyarrow as pa

from curate.errors import InputError, NotFound
from curate.label.questions import PREFERENCES, RATINGS, Question, get_question
from curate.store import catalog, label as store
from curate.store.workspace import Workspace, retry_conflicts, transaction


def _json_list(value: str) -> list:
    try:
        items = json.loads(value)
    except json.JSONDecodeError as exc:
        raise InputError("value", f"{value[:40]!r} starts with [ but is not a JSON list ({exc.msg})",
                         fix='write ["a", "b"] or a,b') from None
    if not isinstance(items, list):
        raise InputError("value", f"{value[:40]!r} is not a JSON list", fix='write ["a", "b"] or a,b')
    return items


def normalize(question: Question, value: Any) -> str | None:
    """The stored text of an answer, or raise naming the valid answers. ``None`` withdraws an answer."""
    if value is None:
        return None
    kind = question.kind
    if kind in ("spans", "preference"):
        return _shaped_answer(question, value)
    if kind == "labels":
        items = value if isinstance(value, (list, tuple, set)) else _json_list(value) if str(value).startswith("[") \
            else [v for v in str(value).split(",") if v.strip()]
        chosen = {str(v).strip() for v in items}
        bad = sorted(chosen - set(question.options))
        if bad:
            raise InputError("value", f"{bad[0]!r} is not a class of question {question.name!r}",
                             fix=f"use any of {', '.join(question.options)}")
        return json.dumps(sorted(chosen, key=question.options.index), ensure_ascii=False)
    text = str(value).strip() if kind != "response" else str(value)
    if kind in ("label", "rating"):
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        valid = question.choices if kind == "label" else RATINGS
        if text not in valid:
            raise InputError("value", f"{text!r} is not an answer to question {question.name!r}",
                             fix=f"use one of {', '.join(valid)}")
    return text


def _shaped_answer(question: Question, value: Any) -> str:
    """A span answer as sorted JSON spans of the question's types, a preference answer as
    ``{"choice": "1" | "2" | "=", "reason"?}`` (from that object, or from the bare choice)."""
    from curate.ingest.shapes import ShapeProblem, check_spans

    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        value = json.loads(value)
    if question.kind == "preference":
        answer = value if isinstance(value, dict) else {"choice": str(value).strip()}
        if answer.get("choice") not in PREFERENCES:
            raise InputError("value", f"{answer.get('choice')!r} is not a preference",
                             fix="answer 1 (first response), 2 (second) or = (tie)")
        reason = str(answer.get("reason") or "").strip()
        return json.dumps({"choice": answer["choice"], **({"reason": reason} if reason else {})}, ensure_ascii=False)
    try:
        spans = check_spans(None, value)
    except ShapeProblem as exc:
        raise InputError("value", str(exc), fix=exc.fix) from None
    bad = sorted({s["label"] for s in spans} - set(question.options))
    if bad:
        raise InputError("value", f"{bad[0]!r} is not an entity type of question {question.name!r}",
                         fix=f"use any of {', '.join(question.options)}")
    return json.dumps(spans, ensure_ascii=False)


with_retry = retry_conflicts  # the labelling stage's name for it


@dataclass(frozen=True)
class QueueRead:
    """A queue of the annotator's to read right after an answer is recorded, on the same connection
    (one visit to the store per label instead of two); see ``store.label.queue``."""

    queue: str
    limit: int = 200
    exclude: Sequence[int] = ()


@dataclass
class Recorded:
    annotation_id: int
    example_id: int
    annotator: str
    value: str | None
    queued: list[int] | None = None  # the ids of the ``then_read`` queue after this answer


def record(workspace: Workspace, question: Question, example_id: int, value: Any, annotator: str, *,
           origin: str = "ui", example: dict[str, Any] | None = None, then_read: QueueRead | None = None) -> Recorded:
    """Append one answer (one transaction). A ``response`` answer is also stored as a human edit of
    the response (sft) or of the last assistant turn (chat); the original stays in the raw record.
    ``then_read``: also read that queue after the answer (``Recorded.queued``)."""
    text = normalize(question, value)
    edit = None
    if question.kind == "response" and text is not None:
        edit = _response_edit(workspace, example_id, text, example)

    def write() -> Recorded:
        with workspace.connect() as con:
            with transaction(con):
                if not store.example_in_dataset(con, int(example_id), question.dataset_id):
                    raise NotFound(f"no example {example_id} in the question's dataset; fix: pick an id from a queue")
                if question.kind == "spans" and text is not None:
                    _check_span_bounds(text, store.example_text(con, int(example_id)) or "", example_id)
                new_id = store.insert_annotation(con, example_id=int(example_id), dataset_id=question.dataset_id,
                                                 question_id=question.id, annotator=annotator, value=text,
                                                 origin=origin)
                if edit is not None:
                    store.insert_edit(con, int(example_id), edit[0], edit[1], f"human:{annotator}")
            queued = None if then_read is None else store.queue(
                con, then_read.queue, dataset_id=question.dataset_id, question_id=question.id,
                annotator=annotator, overlap=question.overlap, limit=then_read.limit, exclude=then_read.exclude)
        return Recorded(new_id, int(example_id), annotator, text, queued)

    return with_retry(write)


def _check_span_bounds(value: str | None, text: str, example_id: int) -> None:
    for s in json.loads(value or "[]"):
        if s["end"] > len(text):
            raise InputError("value", f"span [{s['start']}, {s['end']}) ends after the text of example {example_id} "
                             f"(length {len(text)})", fix="give offsets inside the example's text")


def _response_edit(workspace: Workspace, example_id: int, text: str,
                   example: dict[str, Any] | None) -> tuple[str, str] | None:
    if example is None:
        with workspace.connect() as con:
            views = store.example_views(con, [int(example_id)])
        example = views[0] if views else None
    if example is None:
        return None
    if example.get("messages"):
        turns = json.loads(example["messages"])
        for turn in reversed(turns):
            if turn.get("role") == "assistant":
                if turn.get("content") == text:
                    return None
                turn["content"] = text
                return "messages", json.dumps(turns, ensure_ascii=False)
        turns.append({"role": "assistant", "content": text})
        return "messages", json.dumps(turns, ensure_ascii=False)
    return None if example.get("response") == text else ("response", text)


def accept_suggestions(workspace: Workspace, question: Question, rows: list[dict[str, Any]], column: str,
                       annotator: str, origin: str) -> int:
    """Record ``row[column]`` of every row (the suggestions of one run, ``row["run_id"]``) as ``annotator``'s
    answer to ``question``, in one transaction; returns how many."""
    if not rows:
        return 0
    table = pa.table({"example_id": pa.array([r["example_id"] for r in rows], pa.int64()),
                      "annotator": [annotator] * len(rows), "value": [r[column] for r in rows]})

    def write() -> None:
        with workspace.transaction() as con:
            store.insert_annotations(con, table, dataset_id=question.dataset_id, question_id=question.id,
                                     origin=origin, run_id=rows[0]["run_id"])

    with_retry(write)
    return len(rows)


@dataclass
class ImportReport:
    rows: int
    recorded: int
    question: str
    annotator: str


def import_labels(workspace: Workspace, path: str | Path, dataset: str, annotator: str, *,
                  question: str | None = None, admin: bool = False) -> ImportReport:
    """Import answers recorded as ``annotator``'s, all or none, from curate's JSONL lines ``{"id": ...,
    "value": ...}`` (``id``: the source record's id, else its 1-based row number) or from a Label Studio
    or Argilla JSON export (see ``curate.label.importers``)."""
    from curate.label.annotators import check_annotator
    from curate.label.importers import read_answers

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", fix="pass a JSONL file of {\"id\": ..., \"value\": ...} lines, "
                                                     "or a Label Studio / Argilla JSON export")
    check_annotator(workspace, annotator)
    q = get_question(workspace, dataset, question)
    answers = list(read_answers(path, q.name))
    values = []
    for a in answers:
        try:
            values.append(normalize(q, a.value))
        except InputError as exc:
            raise InputError(path, exc.problem, **a.where, fix=exc.fix) from None
    with workspace.connect() as con:
        by_id = store.resolve_keys(con, q.dataset_id, sorted({a.key for a in answers if a.by == "id"}))
        by_text = store.resolve_texts(con, q.dataset_id, sorted({a.key for a in answers if a.by == "text"}))
    ids = []
    for a in answers:
        found = (by_id if a.by == "id" else by_text).get(a.key)
        if found is None:
            what = f"id {a.key!r}" if a.by == "id" else f"text {a.key[:40]!r}"
            raise InputError(path, f"{what} matches no example of {dataset!r}", **a.where,
                             fix="use the source record's id field, else its 1-based row number (or its exact text)")
        ids.append(found)
    table = pa.table({"example_id": pa.array(ids, pa.int64()),
                      "annotator": [annotator] * len(ids), "value": pa.array(values, pa.string())})
    with workspace.transaction() as con:
        for a, eid, value in zip(answers, ids, values) if q.kind == "spans" else ():
            try:
                _check_span_bounds(value, store.example_text(con, eid) or "", eid)
            except InputError as exc:
                raise InputError(path, exc.problem, **a.where, fix=exc.fix) from None
        store.insert_annotations(con, table, dataset_id=q.dataset_id, question_id=q.id,
                                 origin="import:admin" if admin else "import")
    return ImportReport(len(ids), table.num_rows, q.name, annotator)


def export_labels(workspace: Workspace, dataset: str, *, question: str | None = None) -> list[dict[str, Any]]:
    """Current answers as ``{id, example_id, annotator, value, origin, created_at}`` (importable)."""
    q = get_question(workspace, dataset, question)
    with workspace.connect() as con:
        rows = store.export_answers(con, q.dataset_id, q.id)
    for r in rows:
        r["question"] = q.name
        r["created_at"] = str(r["created_at"])
        if q.kind == "labels":
            r["value"] = json.loads(r["value"])
    return rows


def history(workspace: Workspace, question: Question, example_id: int) -> list[dict[str, Any]]:
    with workspace.connect() as con:
        return store.answer_history(con, question.id, example_id)


def dataset_id(workspace: Workspace, dataset: str) -> int:
    with workspace.connect() as con:
        return catalog.get_dataset(con, dataset)["id"]
