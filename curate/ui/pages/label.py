"""Label: keyboard-first annotation by the signed-in annotator, agreement, pre-labels and suspects.

The labelling view and its keys live in ``curate.ui.labelling``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from curate.errors import CurateError, NotFound
from curate.label import agreement, annotators, prelabel, questions, suspects
from curate.label.questions import KINDS, Question
from curate.label.params import PrelabelParams, QuestionParams, SuspectParams
from curate.ui import label_spans, labelling, state
from curate.ui.params import widget

VIEWS = ["Label", "Agreement", "Pre-labels & suspects", "Setup"]


def render() -> None:
    st.header("Label")
    ws = state.workspace()
    with state.user_errors():
        who = _annotator(ws)
        if who is None:
            return
        if not ws.exists():
            st.info("No datasets yet: ingest one on the Data page, or run `curate demo`.")
            return
        with ws.connect():  # one attach of the store for the page's many small reads
            _page(ws, who)


def _page(ws, who: str) -> None:
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
    elif view == "Label":
        labelling.view(ws, question, who)
    elif view == "Agreement":
        _agreement(ws, question)
    elif view == "Pre-labels & suspects":
        _models(ws, question, who)
    else:
        _setup(ws, dataset)


# --- who labels ----------------------------------------------------------------------------------

def _annotator(ws) -> str | None:
    who = state.who(ws)
    if who == annotators.LOCAL:
        st.caption(f"No annotators in this workspace: you label as **{annotators.LOCAL}**. "
                   "Add annotators (Setup, or `curate annotators add NAME`) to require sign-in.")
    elif who is None:
        st.info("Sign in to label (the sign-in form is on every page once a workspace has annotators).")
    return who


# --- dataset and question --------------------------------------------------------------------------

def _question(ws, dataset: str, cell) -> Question | None:
    try:
        default = questions.get_question(ws, dataset)
    except NotFound:
        cell.caption("No questions yet: add one under Setup.")
        return None
    qs = questions.list_questions(ws, dataset) or [default]
    names = [q.name for q in qs]
    chosen = cell.selectbox("Question", names, key="lbl_question", on_change=_reset,
                            format_func=lambda n: f"{n} ({next(q.kind for q in qs if q.name == n)})")
    return next(q for q in qs if q.name == chosen)


_reset = labelling.reset


# --- agreement -------------------------------------------------------------------------------------

def _agreement(ws, question: Question) -> None:
    result = agreement.question_agreement(ws, question)
    a, b, c, d = st.columns(4)
    a.metric("Answers", f"{result['answers']:,}", help=f"by {len(result['annotators'])} annotators")
    b.metric("Fleiss' κ", _fmt(result["fleiss"]),
             help=f"{result['fleiss_examples']} examples × {result['fleiss_raters']} raters")
    c.metric("Krippendorff's α", _fmt(result["alpha"]), help=f"{result['overlapping']} examples with ≥ 2 answers")
    d.metric("Disagreements", f"{result['disagreements']:,}")
    if question.kind == "spans":
        label_spans.agreement(result)
    elif question.kind not in agreement.AGREEABLE:
        st.info(f"{question.kind} answers have no agreement figure.")
        return
    elif result["cohen"]:
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

def _models(ws, question: Question, who: str) -> None:
    if question.kind != "label":
        st.info("Pre-labels and suspects work on single-label questions.")
        return
    left, right = st.columns(2)
    with left:
        st.subheader("Pre-labels")
        st.caption("Logistic regression on frozen MiniLM embeddings, trained on the current labels "
                   "(human majority, else the ingest label).")
        widget(st, PrelabelParams, "retrain_every", "Retrain after this many new answers", key="lbl_every")
        if st.button("Train pre-labels now", key="lbl_train"):
            with st.spinner("embedding and training"):
                r = prelabel.train(ws, question)
            st.success(f"Trained on {r.trained_on:,} labels, suggested {r.predicted:,} in {r.seconds:.1f}s.")
        sugg = prelabel.suggestions(ws, question) if prelabel.has_prelabels(ws, question) else []
        if sugg:
            conf = pd.Series([s["confidence"] for s in sugg])
            threshold = widget(st, PrelabelParams, "accept_above", "Accept all suggestions with confidence at least",
                               key="lbl_accept_x", slider=True, step=0.01)
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
        _accept_suspects(ws, question, who, method, rows)


def _accept_suspects(ws, question: Question, who: str, method: str, rows: list[dict]) -> None:
    """Take the suggested label of high-scoring suspects as ``who`` (found first when none are stored)."""
    score = widget(st, SuspectParams, "accept_above", "Take the suggested label of suspects scoring at least",
                   key="lbl_suspect_accept_x", slider=True, step=0.01)
    n = sum(r["score"] >= score for r in rows)
    label = f"Take {n:,} suggested labels as {who}" if rows else f"Find suspects, then take those ≥ {score:.2f} as {who}"
    if st.button(label, key="lbl_accept_suspects", disabled=bool(rows) and n == 0):
        with st.spinner("finding suspects" if not rows else "recording answers"):
            taken, found = suspects.accept_suspects(ws, question, score, who, method=method)
        first = f"Found {found.flagged:,} suspects among {found.checked:,} labels; " if found else ""
        st.success(f"{first}took the suggested label of {taken:,} suspects scoring ≥ {score:.2f} as {who}.")


# --- setup -----------------------------------------------------------------------------------------

def _setup(ws, dataset: str) -> None:
    left, right = st.columns(2)
    with left, st.form("lbl_add_question", clear_on_submit=True):
        st.markdown(f"**Add a question to {dataset}**")
        name = st.text_input("Name", key="lbl_new_q_name")
        kind = st.selectbox("Kind", list(KINDS), format_func=lambda k: f"{k}: {KINDS[k]}", key="lbl_new_q_kind")
        options = st.text_input("Classes (comma-separated; default: the dataset's label set)", key="lbl_new_q_opts")
        overlap = widget(st, QuestionParams, "overlap", "Answers per example (overlap)", key="lbl_new_q_overlap")
        if st.form_submit_button("Add question"):
            try:
                q = questions.add_question(ws, dataset, name.strip(), kind,
                                           options=[o for o in options.split(",") if o.strip()], overlap=int(overlap))
                st.success(f"Added question {q.name}.")
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
