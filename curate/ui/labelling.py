"""The Label page's labelling view: one example, its context, the answer buttons and the keyboard.

Keys never go through Streamlit's button shortcuts, which drop a key pressed while a rerun is still
drawing (a digit 80 ms before Enter was lost). A small component (``keys``) listens on the page and
sends every key as a numbered event; the list it sends holds every event the server has not
acknowledged yet, so a key pressed during a rerun arrives with the next one. ``_on_keys`` applies
the new events in order, each exactly once, reading the example, the queue and the pick from the
``Cursor`` (never from arguments bound at the last render, which may show an older item).

Streamlit may stop a callback at any ``st.session_state`` access when a newer rerun arrives, and with
fast reruns (its default) starts that rerun in a new thread while the old one still runs. So the
position in the queue lives in one plain ``Cursor`` object with a lock: a callback reads session
state first, then changes only the cursor and the store while holding the lock, so an event is never
applied twice nor stopped half-way.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from curate.errors import CurateError
from curate.label import prelabel, queues
from curate.label.params import PrelabelParams
from curate.label.questions import Question
from curate.settings import default
from curate.ui import label_preference, label_spans, literal
from curate.ui.label_show import (CHOICE_KINDS, context, key_names, keys, keys_help, last_assistant, shortcuts,
                                  show_example)

@dataclass
class Cursor:
    """Where the annotator is: the current example and what the page shows of it (``item``), the queue
    ids read with it, the way back, skipped ids, the pending pick, the ids after the current one, the
    last key event applied and a message for the next render."""
    cur: int | None = None
    item: dict | None = None
    ids: list[int] = field(default_factory=list)
    trail: list[int] = field(default_factory=list)
    skip: list[int] = field(default_factory=list)
    pick: Any = None
    following: list[int] = field(default_factory=list)
    seq_done: int = 0
    flash: str | None = None
    # Streamlit's fast reruns start the next script run while the last one still runs: one change at a time.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


def cursor() -> Cursor:
    return st.session_state.setdefault("lbl_cursor", Cursor())


def reset() -> None:
    """Forget the position in the queue (another dataset, question or queue); key events stay counted."""
    st.session_state["lbl_cursor"] = Cursor(seq_done=cursor().seq_done)


def view(ws, question: Question, who: str) -> None:
    """The labelling view (the caller holds the store attached: see pages/label.py).

    A run of the whole page reads the item afresh; a key or a click reruns only ``_labelling`` (a
    fragment), which draws from the cursor: a pick reads nothing, an answer reads the next item in
    the same visit to the store as its write (``queues.answer``)."""
    queue = st.segmented_control("Queue", list(queues.QUEUES), default="unlabelled", key="lbl_queue",
                                 on_change=reset, format_func=lambda q: q.replace("_", " ")) or "unlabelled"
    st.caption(queues.QUEUES[queue])
    c = cursor()
    with c.lock:
        c.item = None
    _labelling(ws, question, who, queue)


@st.fragment
def _labelling(ws, question: Question, who: str, queue: str) -> None:
    c = cursor()
    if c.flash:
        st.toast(literal.inline(c.flash))
        c.flash = None
    with c.lock:
        if c.item is None or c.item["example"]["id"] != c.cur:
            _load(c, ws, question, who, queue)
        cur, item, ids = c.cur, c.item, c.ids
    keys(key="lbl_keys", data={"ack": c.seq_done, "keys": key_names(question)},
         on_events_change=functools.partial(_on_keys, ws, question, who))
    if cur is None or item is None:
        st.success("This queue is empty for you. Pick another queue, or another question.")
        if c.trail:
            st.button("Prev `K`", key="lbl_prev", on_click=_prev)
        return
    position = f"{ids.index(cur) + 1} of {len(ids)}{'+' if len(ids) == queues.AHEAD else ''}" if cur in ids \
        else "answered"
    st.markdown(f"**Example {cur}** · {queue.replace('_', ' ')} queue · {position}")
    show_example(item, question)
    context(item, question, queue)
    _answer(ws, question, who, item)
    st.markdown(keys_help(question))


def _load(c: Cursor, ws, question: Question, who: str, queue: str) -> None:
    """Read the queue's next ids and the current item in one visit to the store (cursor lock held)."""
    with ws.connect():
        c.ids = queues.fetch(ws, question, who, queue, limit=queues.AHEAD, exclude=c.skip)
        if c.cur is None:
            c.cur = c.ids[0] if c.ids else None
        c.item = None if c.cur is None else queues.item(ws, question, c.cur, who)
        if c.item is None and c.ids and c.cur != c.ids[0]:  # the example is gone: start at the head
            c.cur = c.ids[0]
            c.item = queues.item(ws, question, c.cur, who)
    if c.item is None:
        c.cur = None
    _follow(c)


def _follow(c: Cursor) -> None:
    """The ids after the current one (all the queue's when the current one is not queued)."""
    c.following = c.ids[c.ids.index(c.cur) + 1:] if c.cur in c.ids else list(c.ids)


def _answer(ws, question: Question, who: str, item: dict) -> None:
    kind, ex_id = question.kind, item["example"]["id"]
    if kind in CHOICE_KINDS:
        opts = question.choices
        pick = _current_pick(question, item)
        cols = st.columns(min(len(opts), 10) or 1)
        for i, (opt, key) in enumerate(zip(opts, shortcuts(opts))):
            chosen = (opt in pick) if kind == "labels" and pick else opt == pick
            text = label_preference.caption(opt) if kind == "preference" else literal.inline(opt)
            cols[i % len(cols)].button(text + (f" `{key}`" if key else ""), key=f"lbl_opt_{i}",
                                       type="primary" if chosen else "secondary", width="stretch",
                                       on_click=_pick, args=(ws, question, who, i))
        if kind == "preference":
            label_preference.reason(item)
    elif kind == "text":
        st.text_input("Answer", value=item["mine"] or "", key=f"lbl_text_{ex_id}")
    elif kind != "spans":  # the span editor is the answer widget
        current = item["example"]["response"] if item["example"].get("instruction") is not None else last_assistant(item)
        st.markdown("**Response** (`E` to edit, `Esc` to leave the box)")
        st.text_area("Response", value=current or "", height=220, key=f"lbl_response_{ex_id}",
                     label_visibility="collapsed")
    bar = st.columns([1.4, 1, 1, 1, 4])
    bar[0].button("Submit `Enter`", key="lbl_submit", type="primary", on_click=_submit, args=(ws, question, who),
                  width="stretch")
    bar[1].button("Prev `K`", key="lbl_prev", on_click=_prev, width="stretch")
    bar[2].button("Next `J`", key="lbl_next", on_click=_next, width="stretch")
    bar[3].button("Skip `S`", key="lbl_skip_btn", on_click=_skip, width="stretch")


# --- what keys and clicks do (callbacks: session state first, then only the cursor and the store) ---

def _on_keys(ws, question: Question, who: str) -> None:
    state = st.session_state.get("lbl_keys")
    events = sorted((getattr(state, "events", None) if state is not None else None) or [], key=lambda e: e["seq"])
    inputs = _inputs()
    c = cursor()
    options = shortcuts(question.choices) if question.kind in CHOICE_KINDS else []
    # The store is attached once for the events' answers; a pick or a step reads nothing (the cursor has the item).
    answers = any(e["key"] == "enter" and e["seq"] > c.seq_done for e in events)
    with c.lock, (ws.connect() if answers else contextlib.nullcontext()):
        for event in events:
            if event["seq"] <= c.seq_done:
                continue
            key = event["key"]
            if key in options:
                _choose(c, ws, question, who, options.index(key))
            elif key == "enter":
                _save(c, ws, question, who, inputs)
            else:
                {"j": _step, "k": _back, "s": _skip_one}.get(key, lambda _: None)(c)
            c.seq_done = event["seq"]


def _inputs() -> dict[str, Any]:
    """What a submit reads from widgets: the queue, the retrain interval and typed answers."""
    typed = {k: v for k, v in st.session_state.to_dict().items()
             if isinstance(k, str) and k.startswith(("lbl_text_", "lbl_response_", label_preference.REASON,
                                                     label_spans.PREFIX))}
    return {"queue": st.session_state.get("lbl_queue") or "unlabelled",
            "every": int(st.session_state.get("lbl_every", default(PrelabelParams, "retrain_every"))), "typed": typed}


def annotations_from(value: str, kind: str):
    if kind == "preference":
        return label_preference.choice(value)
    return json.loads(value) if kind == "labels" else value


def _current_pick(question: Question, item: dict | None, c: Cursor | None = None):
    pick = (c or cursor()).pick
    if pick is None and item is not None and item["mine"] is not None:
        pick = annotations_from(item["mine"], question.kind)
    return pick


def _item(c: Cursor, ws, question: Question, who: str) -> dict | None:
    if c.cur is None:
        return None
    if c.item is None or c.item["example"]["id"] != c.cur:
        c.item = queues.item(ws, question, c.cur, who)
    return c.item


def _pick(ws, question: Question, who: str, index: int) -> None:
    c = cursor()
    with c.lock:
        _choose(c, ws, question, who, index)


def _choose(c: Cursor, ws, question: Question, who: str, index: int) -> None:
    opt = question.choices[index]
    if question.kind == "labels":
        chosen = list(_current_pick(question, _item(c, ws, question, who), c) or [])
        opt = [x for x in chosen if x != opt] if opt in chosen else [*chosen, opt]
    c.pick = opt


def _submit(ws, question: Question, who: str) -> None:
    inputs = _inputs()
    c = cursor()
    with c.lock:
        _save(c, ws, question, who, inputs)


def _save(c: Cursor, ws, question: Question, who: str, inputs: dict[str, Any]) -> None:
    kind = question.kind
    item = _item(c, ws, question, who)
    if item is None:
        return
    ex_id = item["example"]["id"]
    if kind in CHOICE_KINDS:
        value = _current_pick(question, item, c)
        if value is None:
            c.flash = "Pick an answer first (digit keys), then Enter."
            return
        if kind == "preference":
            value = label_preference.answer(value, inputs["typed"], ex_id)
    elif kind == "spans":
        value = label_spans.value(item, inputs["typed"])
    else:
        value = inputs["typed"].get(f"lbl_{'text' if kind == 'text' else 'response'}_{ex_id}", "")
    following = [i for i in c.following if i != ex_id]
    try:
        step = queues.answer(ws, question, ex_id, value, who, queue=inputs["queue"], following=following,
                             exclude=c.skip, example=item["example"])
        retrained = prelabel.maybe_retrain(ws, question, every=inputs["every"]) if kind == "label" else None
    except CurateError as exc:
        c.flash = str(exc)
        return
    c.trail.append(ex_id)
    c.cur, c.ids, c.pick = step.next, step.ids, None
    c.item = None if retrained else step.item  # retrained: the next render reads the new suggestion
    _follow(c)
    c.flash = f"Saved example {ex_id}" + (" · pre-labels retrained" if retrained else "")


def _prev() -> None:
    _locked(_back)


def _next() -> None:
    _locked(_step)


def _skip() -> None:
    _locked(_skip_one)


def _locked(change) -> None:
    c = cursor()
    with c.lock:
        change(c)


def _back(c: Cursor) -> None:
    if c.trail:
        back = c.trail.pop()
        c.following = [i for i in ([c.cur] if c.cur is not None else []) + c.following if i != back]
        c.cur, c.pick = back, None


def _step(c: Cursor) -> None:
    if c.following:
        if c.cur is not None:
            c.trail.append(c.cur)
        c.cur, c.following, c.pick = c.following[0], c.following[1:], None


def _skip_one(c: Cursor) -> None:
    if c.cur is not None:
        c.skip.append(c.cur)
    last = not c.following
    _step(c)
    if last:
        c.cur = None
