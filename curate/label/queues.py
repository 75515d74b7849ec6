"""Queues of examples to label, and everything the Label page shows about one example."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from curate.errors import InputError
from curate.label.annotations import QueueRead, Recorded, record
from curate.label.questions import Question
from curate.store import label as store
from curate.store.workspace import Workspace

QUEUES: dict[str, str] = {
    "unlabelled": "examples still short of answers (the question's overlap), not yet answered by you",
    "mine": "your answers, latest first",
    "disagreements": "examples whose annotators gave different answers: adjudicate",
    "suspects": "likely label errors (cleanlab), most suspicious first: fix or confirm",
    "uncertain": "active learning: unanswered examples the model is least sure about (smallest margin)",
    "prelabel_low": "pre-labelled examples, lowest confidence first",
    "selected": "the latest `curate select --for label` pick, in pick order, not yet answered by you",
}


def check_queue(name: str) -> None:
    if name not in QUEUES:
        raise InputError("queue", f"unknown queue {name!r}", fix=f"use one of {', '.join(QUEUES)}")


def fetch(workspace: Workspace, question: Question, annotator: str, queue: str = "unlabelled", *,
          limit: int = 200, exclude: Sequence[int] = ()) -> list[int]:
    """The next ``limit`` example ids of a queue for an annotator, skipping ``exclude``."""
    check_queue(queue)
    with workspace.connect() as con:
        return store.queue(con, queue, dataset_id=question.dataset_id, question_id=question.id,
                           annotator=annotator, overlap=question.overlap, limit=limit, exclude=exclude)


def first_queued(ids: Sequence[int], following: Sequence[int]) -> int | None:
    """The first of ``following`` (the ids that came after an answer) still in the queue ``ids``, else
    the queue's head."""
    present = set(ids)
    return next((i for i in following if i in present), ids[0] if ids else None)


def next_after(workspace: Workspace, question: Question, annotator: str, queue: str, following: Sequence[int],
               *, exclude: Sequence[int] = ()) -> int | None:
    """After an answer: the first of ``following`` still in the queue, else the head of the queue."""
    return first_queued(fetch(workspace, question, annotator, queue, limit=max(200, len(following) + 1),
                              exclude=exclude), following)


@dataclass
class Step:
    """What an answer leads to: the stored answer, the next example of the queue, the queue's ids
    from the store at that moment (up to ``AHEAD``) and the next example as ``item`` shows it."""
    recorded: Recorded
    next: int | None
    ids: list[int]
    item: dict[str, Any] | None


AHEAD = 200  # queue ids read at a time (the Label page keeps them to step through without the store)


def submit(workspace: Workspace, question: Question, example_id: int, value: Any, annotator: str, *,
           queue: str = "unlabelled", following: Sequence[int] = (), exclude: Sequence[int] = (),
           origin: str = "ui", example: dict[str, Any] | None = None) -> tuple[Any, int | None]:
    """Store an answer and find the next example of the queue in one visit to the store: the answer
    (``annotations.Recorded``) and the first of ``following`` still queued, else the queue's head."""
    check_queue(queue)
    done = record(workspace, question, example_id, value, annotator, origin=origin, example=example,
                  then_read=QueueRead(queue, max(AHEAD, len(following) + 1), exclude))
    return done, first_queued(done.queued or [], following)


def answer(workspace: Workspace, question: Question, example_id: int, value: Any, annotator: str, *,
           queue: str = "unlabelled", following: Sequence[int] = (), exclude: Sequence[int] = (),
           origin: str = "ui", example: dict[str, Any] | None = None) -> Step:
    """``submit``, also returning the queue's ids and the next item, read in the same visit to the store
    right after the answer is written: the next example is one still queued at that moment (another
    annotator may have completed those that followed)."""
    with workspace.connect():  # one attachment for the write and the reads after it
        done, nxt = submit(workspace, question, example_id, value, annotator, queue=queue, following=following,
                           exclude=exclude, origin=origin, example=example)
        view = item(workspace, question, nxt, annotator) if nxt is not None else None
    return Step(done, nxt, done.queued or [], view)


def item(workspace: Workspace, question: Question, example_id: int, annotator: str) -> dict[str, Any] | None:
    """One example as the Label page shows it: current fields (``messages``, ``spans``, ``chosen`` and
    ``rejected`` decoded to lists), the ingest label, every current answer (as stored: span and
    preference answers are JSON text), the model's suggestion and the suspect verdict."""
    with workspace.connect() as con:
        views = store.example_views(con, [example_id])
        if not views:
            return None
        answers = store.current_answers(con, question.id, [example_id])
        pre = store.prelabels(con, question.id, [example_id])
        sus = store.suspects(con, question.dataset_id, question.id, [example_id])
    view = views[0]
    for name in ("messages", "spans", "chosen", "rejected"):  # JSON fields decoded (lists)
        if view.get(name):
            view[name] = json.loads(view[name])
    mine = next((a["value"] for a in answers if a["annotator"] == annotator), None)
    return {
        "example": view,
        "given": view["label"],
        "mine": mine,
        "answers": [{"annotator": a["annotator"], "value": a["value"], "origin": a["origin"]} for a in answers],
        "prelabel": pre[0] if pre else None,
        "suspect": sus[0] if sus else None,
    }


def counts(workspace: Workspace, question: Question, annotator: str) -> dict[str, int]:
    """How many items each queue holds for an annotator (capped at 10,000 per queue)."""
    return {name: len(fetch(workspace, question, annotator, name, limit=10_000)) for name in QUEUES}
