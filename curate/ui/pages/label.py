"""Label: keyboard-first annotation by signed-in annotators, agreement, pre-labels and suspects.

Keys use Streamlit's native button shortcuts (``st.button(shortcut=...)``), shown on each button:
digits pick, Enter submits, ←/K and →/J move, S skips, E edits the response.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from curate.errors import CurateError, NotFound
from curate.label import agreement, annotators, prelabel, queues, questions, suspects
from curate.label.questions import KINDS, options_of
from curate.ui import state

VIEWS = ["Label", "Agreement", "Pre-labels & suspects", "Setup"]
KEYS_HELP = ("**Keys** · `1`–`9` pick · `Enter` submit · `←`/`K` previous · `→`/`J` next · `S` skip · "
             "`E` edit the response (`Ctrl+Enter` keeps the text, `Esc` leaves the box)")


def render() -> None:
    st.header("Label")
    ws = state.workspace()
    with state.user_errors():
        who = _annotator(ws)
        if who is None:
            return
        names = questions.labelling_order(ws)
        if not names:
            st.info("No datasets yet: ingest one on the Data page, or run `curate demo`.")
            return
        top = st.columns([2, 2, 3])
        dataset = top[0].selectbox("Dataset", names, key="lbl_dataset", on_change=_reset)
        question = _question(ws, dataset, top[1])
        view = top[2].segmented_control("View", VIEWS, default="Label", key="lbl_view") or "Label"
        if question is None:
            _setup(ws, dataset)
            return
        if view == "Label":
            _label(ws, question, who)
        elif view == "Agreement":
            _agreement(ws, question)
        elif view == "Pre-labels & suspects":
            _models(ws, question, who)
        else:
            _setup(ws, dataset)


# --- sign-in ---------------------------------------------------------------------------------------

def _annotator(ws) -> str | None:
    if not annotators.needs_sign_in(ws):
        st.caption(f"No annotators in this workspace: you label as **{annotators.LOCAL}**. "
                   "Add annotators (Setup, or `curate annotators add NAME`) to require sign-in.")
        return annotators.LOCAL
    who = st.session_state.get("lbl_annotator")
    if who:
        left, right = st.columns([5, 1])
        left.caption(f"Signed in as **{who}**")
        if right.button("Sign out", key="lbl_signout", type="tertiary"):
            st.session_state.pop("lbl_annotator")
            st.rerun()
        return who
    with st.form("lbl_signin"):
        token = st.text_input("Sign-in token", type="password", key="lbl_token",
                              help="Printed by `curate annotators add NAME`.")
        st.caption("No token? `curate annotators add NAME` prints one (or `curate annotators token NAME` for a "
                   "new one). The demo workspace's annotators sign in with `demo-alice` and `demo-bob`.")
        if st.form_submit_button("Sign in", type="primary"):
            try:
                st.session_state["lbl_annotator"] = annotators.sign_in(ws, token)
            except CurateError as exc:
                st.error(str(exc))
                return None
            st.rerun()
    return None


# --- dataset and question --------------------------------------------------------------------------

def _question(ws, dataset: str, cell) -> dict | None:
    try:
        default = questions.get_question(ws, dataset)
    except NotFound:
        cell.caption("No questions yet: add one under Setup.")
        return None
    qs = questions.list_questions(ws, dataset) or [default]
    names = [q["name"] for q in qs]
    chosen = cell.selectbox("Question", names, key="lbl_question", on_change=_reset,
                            format_func=lambda n: f"{n} ({next(q['kind'] for q in qs if q['name'] == n)})")
    return next(q for q in qs if q["name"] == chosen)


def _reset() -> None:
    for key in ("lbl_cur", "lbl_trail", "lbl_skip", "lbl_pick", "lbl_editing"):
        st.session_state.pop(key, None)


# --- the labelling view ----------------------------------------------------------------------------

def _label(ws, question: dict, who: str) -> None:
    queue = st.segmented_control("Queue", list(queues.QUEUES), default="unlabelled", key="lbl_queue",
                                 on_change=_reset, format_func=lambda q: q.replace("_", " ")) or "unlabelled"
    st.caption(queues.QUEUES[queue])
    if flash := st.session_state.pop("lbl_flash", None):
        st.toast(flash)
    skip = st.session_state.setdefault("lbl_skip", [])
    ids = queues.fetch(ws, question, who, queue, limit=200, exclude=skip)
    cur = st.session_state.get("lbl_cur")
    if cur is None:
        cur = st.session_state["lbl_cur"] = ids[0] if ids else None
    if cur is None:
        st.success("This queue is empty for you. Pick another queue, or another question.")
        if st.session_state.get("lbl_trail"):
            st.button("Previous", key="lbl_prev", shortcut="Left", on_click=_prev)
        return
    following = ids[ids.index(cur) + 1:] if cur in ids else ids
    item = queues.item(ws, question, cur, who)
    if item is None:
        st.session_state.pop("lbl_cur")
        st.rerun()
    position = f"{ids.index(cur) + 1} of {len(ids)}{'+' if len(ids) == 200 else ''}" if cur in ids else "answered"
    st.markdown(f"**Example {cur}** · {queue.replace('_', ' ')} queue · {position}")
    _show_example(item, question)
    _context(item, question, queue)
    _answer(ws, question, who, item, queue, following)
    st.markdown(KEYS_HELP)


def _show_example(item: dict, question: dict) -> None:
    ex = item["example"]
    with st.container(border=True, key="lbl_example"):
        if ex.get("text") is not None:
            st.markdown(f"#### {_md(ex['text'])}")
        if ex.get("instruction") is not None:
            st.markdown("**Instruction**")
            st.text(ex["instruction"])
            if ex.get("input"):
                st.markdown("**Input**")
                st.text(ex["input"])
            if question["kind"] != "response":
                st.markdown("**Response**")
                st.text(ex["response"] or "")
        if ex.get("messages"):
            turns = ex["messages"]
            last = max((i for i, t in enumerate(turns) if t.get("role") == "assistant"), default=None)
            for i, turn in enumerate(turns):
                if question["kind"] == "response" and i == last:
                    continue
                with st.chat_message(turn.get("role", "user")):
                    st.text(turn.get("content", ""))


def _md(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>$~" else c for c in text)


def _context(item: dict, question: dict, queue: str) -> None:
    bits = []
    if item["given"] is not None and question["kind"] == "label":
        bits.append(f"given label: **{item['given']}**")
    if item["mine"] is not None:
        bits.append(f"your answer: **{item['mine']}**")
    if queue in ("disagreements", "suspects", "mine") and item["answers"]:
        bits.append("answers: " + ", ".join(f"{a['annotator']} → **{a['value']}**" for a in item["answers"]))
    if (pre := item["prelabel"]) is not None:
        bits.append(f"model suggests **{pre['label']}** ({pre['confidence']:.0%}, margin {pre['margin']:.2f})")
    if (sus := item["suspect"]) is not None:
        bits.append(f"suspect score **{sus['score']:.2f}**: given {sus['given']}, model says {sus['suggested']}")
    if bits:
        st.markdown(" · ".join(bits))


def _answer(ws, question: dict, who: str, item: dict, queue: str, following: list[int]) -> None:
    kind = question["kind"]
    pick = st.session_state.get("lbl_pick")
    if kind in ("label", "labels", "rating"):
        opts = options_of(question)
        if pick is None and item["mine"] is not None:
            pick = annotations_from(item["mine"], kind)
        cols = st.columns(min(len(opts), 9) or 1)
        for i, opt in enumerate(opts):
            chosen = (opt in pick) if kind == "labels" and pick else opt == pick
            cols[i % len(cols)].button(
                opt, key=f"lbl_opt_{i}", type="primary" if chosen else "secondary", use_container_width=True,
                shortcut=str(i + 1) if i < 9 else None, on_click=_pick, args=(opt, kind == "labels", pick))
    elif kind == "text":
        st.text_input("Answer", value=item["mine"] or "", key=f"lbl_text_{item['example']['id']}")
    else:
        current = item["example"]["response"] if item["example"].get("instruction") is not None else _last_assistant(item)
        st.markdown("**Response** (E to edit)")
        st.text_area("Response", value=current or "", height=220, key=f"lbl_response_{item['example']['id']}",
                     label_visibility="collapsed")
        if st.session_state.pop("lbl_editing", False):
            st.html("<script>setTimeout(() => { const t = document.querySelector("
                    f"'.st-key-lbl_response_{item['example']['id']} textarea'); if (t) t.focus(); }}, 50);</script>",
                    unsafe_allow_javascript=True)
    bar = st.columns([1.3, 1, 1, 1, 1, 1, 1, 2])
    bar[0].button("Submit", key="lbl_submit", type="primary", shortcut="Enter", on_click=_submit,
                  args=(ws, question, who, item, following), use_container_width=True)
    bar[1].button("Prev", key="lbl_prev", shortcut="Left", on_click=_prev, use_container_width=True)
    bar[2].button("Prev", key="lbl_prev_k", shortcut="K", on_click=_prev, use_container_width=True)
    bar[3].button("Next", key="lbl_next", shortcut="Right", on_click=_next, args=(following,), use_container_width=True)
    bar[4].button("Next", key="lbl_next_j", shortcut="J", on_click=_next, args=(following,), use_container_width=True)
    bar[5].button("Skip", key="lbl_skip_btn", shortcut="S", on_click=_skip, args=(following,), use_container_width=True)
    bar[6].button("Edit", key="lbl_edit", shortcut="E", on_click=_edit, disabled=kind != "response",
                  use_container_width=True)


def annotations_from(value: str, kind: str):
    import json

    return json.loads(value) if kind == "labels" else value


def _last_assistant(item: dict) -> str:
    turns = item["example"].get("messages") or []
    return next((t.get("content", "") for t in reversed(turns) if t.get("role") == "assistant"), "")


def _pick(opt: str, multi: bool, current) -> None:
    if multi:
        chosen = list(current or [])
        chosen = [c for c in chosen if c != opt] if opt in chosen else [*chosen, opt]
        st.session_state["lbl_pick"] = chosen
    else:
        st.session_state["lbl_pick"] = opt


def _submit(ws, question: dict, who: str, item: dict, following: list[int]) -> None:
    kind = question["kind"]
    ex_id = item["example"]["id"]
    if kind in ("label", "labels", "rating"):
        value = st.session_state.get("lbl_pick")
        if value is None:
            value = annotations_from(item["mine"], kind) if item["mine"] is not None else None
        if value is None:
            st.session_state["lbl_flash"] = "Pick an answer first (digit keys), then Enter."
            return
    elif kind == "text":
        value = st.session_state.get(f"lbl_text_{ex_id}", "")
    else:
        value = st.session_state.get(f"lbl_response_{ex_id}", "")
    try:
        _, nxt = queues.submit(ws, question, ex_id, value, who, queue=st.session_state.get("lbl_queue") or "unlabelled",
                               following=following, exclude=st.session_state.get("lbl_skip", []),
                               example=item["example"])
        retrained = prelabel.maybe_retrain(ws, question, every=int(st.session_state.get("lbl_every", 20))) \
            if kind == "label" else None
    except CurateError as exc:
        st.session_state["lbl_flash"] = str(exc)
        return
    st.session_state.setdefault("lbl_trail", []).append(ex_id)
    st.session_state["lbl_cur"] = nxt
    st.session_state.pop("lbl_pick", None)
    st.session_state["lbl_flash"] = f"Saved example {ex_id}" + (" · pre-labels retrained" if retrained else "")


def _prev() -> None:
    trail = st.session_state.get("lbl_trail") or []
    if trail:
        st.session_state["lbl_cur"] = trail.pop()
        st.session_state.pop("lbl_pick", None)


def _next(following: list[int]) -> None:
    cur = st.session_state.get("lbl_cur")
    if following:
        if cur is not None:
            st.session_state.setdefault("lbl_trail", []).append(cur)
        st.session_state["lbl_cur"] = following[0]
        st.session_state.pop("lbl_pick", None)


def _skip(following: list[int]) -> None:
    cur = st.session_state.get("lbl_cur")
    if cur is not None:
        st.session_state.setdefault("lbl_skip", []).append(cur)
    _next(following)
    if not following:
        st.session_state["lbl_cur"] = None


def _edit() -> None:
    st.session_state["lbl_editing"] = True


# --- agreement -------------------------------------------------------------------------------------

def _agreement(ws, question: dict) -> None:
    result = agreement.question_agreement(ws, question)
    a, b, c, d = st.columns(4)
    a.metric("Answers", f"{result['answers']:,}", help=f"by {len(result['annotators'])} annotators")
    b.metric("Fleiss' κ", _fmt(result["fleiss"]),
             help=f"{result['fleiss_examples']} examples × {result['fleiss_raters']} raters")
    c.metric("Krippendorff's α", _fmt(result["alpha"]), help=f"{result['overlapping']} examples with ≥ 2 answers")
    d.metric("Disagreements", f"{result['disagreements']:,}")
    if question["kind"] not in agreement.AGREEABLE:
        st.info(f"{question['kind']} answers have no agreement figure.")
        return
    if result["cohen"]:
        st.markdown("**Cohen's κ per annotator pair**")
        st.dataframe(pd.DataFrame(result["cohen"]).rename(columns={
            "a": "annotator A", "b": "annotator B", "n": "shared examples", "observed": "observed agreement",
            "kappa": "Cohen's κ"}), hide_index=True, key="lbl_cohen")
    else:
        st.info("Agreement needs examples answered by at least two annotators (raise the question's overlap).")
    if result["disagreements"]:
        st.button("Adjudicate the disagreements", key="lbl_go_disagree", on_click=_go_queue, args=("disagreements",))


def _fmt(x) -> str:
    return "—" if x is None else f"{x:.3f}"


def _go_queue(name: str) -> None:
    _reset()
    st.session_state["lbl_queue"] = name
    st.session_state["lbl_view"] = "Label"


# --- pre-labels and suspects -----------------------------------------------------------------------

def _models(ws, question: dict, who: str) -> None:
    if question["kind"] != "label":
        st.info("Pre-labels and suspects work on single-label questions.")
        return
    left, right = st.columns(2)
    with left:
        st.subheader("Pre-labels")
        st.caption("Logistic regression on frozen MiniLM embeddings, trained on the current labels "
                   "(human majority, else the ingest label).")
        st.number_input("Retrain after this many new answers", 1, 10_000, 20, key="lbl_every")
        if st.button("Train pre-labels now", key="lbl_train"):
            with st.spinner("embedding and training"):
                r = prelabel.train(ws, question)
            st.success(f"Trained on {r.trained_on:,} labels, suggested {r.predicted:,} in {r.seconds:.1f}s.")
        sugg = prelabel.suggestions(ws, question) if prelabel.has_prelabels(ws, question) else []
        if sugg:
            conf = pd.Series([s["confidence"] for s in sugg])
            threshold = st.slider("Accept all suggestions with confidence at least", 0.5, 1.0, 0.95, 0.01,
                                  key="lbl_accept_x")
            n = int((conf >= threshold).sum())
            st.caption(f"{len(sugg):,} unanswered examples have a suggestion; {n:,} at ≥ {threshold:.2f}.")
            if st.button(f"Accept {n:,} suggestions as {who}", key="lbl_accept", disabled=n == 0):
                done = prelabel.accept_above(ws, question, threshold, who)
                st.success(f"Recorded {done:,} answers as {who}.")
            st.button("Open the uncertainty queue", key="lbl_go_uncertain", on_click=_go_queue, args=("uncertain",))
    with right:
        st.subheader("Label-error suspects")
        st.caption("cleanlab find_label_issues over cross-validated probabilities; score 1 = surely wrong.")
        method = st.radio("Probabilities from", list(suspects.METHODS), horizontal=True, key="lbl_suspect_method",
                          format_func=lambda m: {"embeddings": "MiniLM embeddings + LR (seconds)",
                                                 "finetune": "MiniLM fine-tuned per fold (minutes)"}[m])
        if st.button("Find suspects now", key="lbl_find_suspects"):
            with st.spinner("fine-tuning per fold" if method == "finetune" else "embedding and cross-validating"):
                r = suspects.find_suspects(ws, question, method=method)
            st.success(f"{r.flagged:,} suspects among {r.checked:,} labels.")
        rows = suspects.list_suspects(ws, question)
        if rows:
            st.dataframe(pd.DataFrame(rows)[["id", "score", "given", "suggested"]].head(200), hide_index=True,
                         key="lbl_suspect_table", height=280)
            st.button("Review the suspects", key="lbl_go_suspects", on_click=_go_queue, args=("suspects",))


# --- setup -----------------------------------------------------------------------------------------

def _setup(ws, dataset: str) -> None:
    left, right = st.columns(2)
    with left, st.form("lbl_add_question", clear_on_submit=True):
        st.markdown(f"**Add a question to {dataset}**")
        name = st.text_input("Name", key="lbl_new_q_name")
        kind = st.selectbox("Kind", list(KINDS), format_func=lambda k: f"{k}: {KINDS[k]}", key="lbl_new_q_kind")
        options = st.text_input("Classes (comma-separated; default: the dataset's label set)", key="lbl_new_q_opts")
        overlap = st.number_input("Answers per example (overlap)", 1, 50, 1, key="lbl_new_q_overlap")
        if st.form_submit_button("Add question"):
            try:
                q = questions.add_question(ws, dataset, name.strip(), kind,
                                           options=[o for o in options.split(",") if o.strip()], overlap=int(overlap))
                st.success(f"Added question {q['name']}.")
            except CurateError as exc:
                st.error(str(exc))
    with right, st.form("lbl_add_annotator", clear_on_submit=True):
        st.markdown("**Add an annotator**")
        who = st.text_input("Name", key="lbl_new_annotator")
        if st.form_submit_button("Add annotator"):
            try:
                token = annotators.add_annotator(ws, who.strip())
                st.success(f"Added {who}. Sign-in token (shown once):")
                st.code(token, language=None)
            except CurateError as exc:
                st.error(str(exc))
    rows = annotators.list_annotators(ws)
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="lbl_annotators")
