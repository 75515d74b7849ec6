"""Label: keyboard-first annotation by signed-in annotators, agreement, pre-labels and suspects.

Keys use Streamlit's native button shortcuts (``st.button(shortcut=...)``), shown on each button:
digits pick (label ``0`` is key ``0``), Enter submits, K/← and J/→ move, S skips, E edits the
response and Esc leaves it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from curate.errors import CurateError, NotFound
from curate.label import agreement, annotators, prelabel, queues, questions, suspects
from curate.label.questions import KINDS, options_of
from curate.ui import literal, state

VIEWS = ["Label", "Agreement", "Pre-labels & suspects", "Setup"]


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
    for key in ("lbl_cur", "lbl_trail", "lbl_skip", "lbl_pick", "lbl_editing", "lbl_following"):
        st.session_state.pop(key, None)


# --- the labelling view ----------------------------------------------------------------------------
# Callbacks read the example, the queue and the pick from session state, never from arguments bound
# at the last render: a key pressed while a rerun is still drawing the next item then acts on the item
# the store says is current, so a digit followed at once by Enter is never lost nor given to the
# previous item.

def _label(ws, question: dict, who: str) -> None:
    queue = st.segmented_control("Queue", list(queues.QUEUES), default="unlabelled", key="lbl_queue",
                                 on_change=_reset, format_func=lambda q: q.replace("_", " ")) or "unlabelled"
    st.caption(queues.QUEUES[queue])
    st.session_state.pop("lbl_pick_done", None)
    if flash := st.session_state.pop("lbl_flash", None):
        st.toast(literal.inline(flash))
    skip = st.session_state.setdefault("lbl_skip", [])
    ids = queues.fetch(ws, question, who, queue, limit=200, exclude=skip)
    cur = st.session_state.get("lbl_cur")
    if cur is None:
        cur = st.session_state["lbl_cur"] = ids[0] if ids else None
    _keymap()
    if cur is None:
        st.success("This queue is empty for you. Pick another queue, or another question.")
        if st.session_state.get("lbl_trail"):
            st.button("Prev", key="lbl_prev", shortcut="K", on_click=_prev)
        return
    following = ids[ids.index(cur) + 1:] if cur in ids else ids
    st.session_state["lbl_following"] = following
    item = queues.item(ws, question, cur, who)
    if item is None:
        st.session_state.pop("lbl_cur")
        st.rerun()
    position = f"{ids.index(cur) + 1} of {len(ids)}{'+' if len(ids) == 200 else ''}" if cur in ids else "answered"
    st.markdown(f"**Example {cur}** · {queue.replace('_', ' ')} queue · {position}")
    _show_example(item, question)
    _context(item, question, queue)
    _answer(ws, question, who, item)
    st.markdown(_keys_help(question))


def _show_example(item: dict, question: dict) -> None:
    ex = item["example"]
    with st.container(border=True, key="lbl_example"):
        if ex.get("text") is not None:
            literal.show(ex["text"])
        if ex.get("instruction") is not None:
            literal.show(ex["instruction"], title="Instruction")
            if ex.get("input"):
                literal.show(ex["input"], title="Input")
            if question["kind"] != "response":
                literal.show(ex["response"] or "", title="Response")
        if ex.get("messages"):
            turns = ex["messages"]
            last = max((i for i, t in enumerate(turns) if t.get("role") == "assistant"), default=None)
            for i, turn in enumerate(turns):
                if question["kind"] == "response" and i == last:
                    continue
                with st.chat_message(_role(turn.get("role"))):
                    literal.show(turn.get("content", ""))


def _role(role) -> str:
    return role if role in ("user", "assistant", "ai", "human") else "user"


def _context(item: dict, question: dict, queue: str) -> None:
    bits, q = [], literal.inline
    if item["given"] is not None and question["kind"] == "label":
        bits.append(f"given label: **{q(item['given'])}**")
    if item["mine"] is not None:
        bits.append(f"your answer: **{q(item['mine'])}**")
    if queue in ("disagreements", "suspects", "mine") and item["answers"]:
        bits.append("answers: " + ", ".join(f"{q(a['annotator'])} → **{q(a['value'])}**" for a in item["answers"]))
    if (pre := item["prelabel"]) is not None:
        bits.append(f"model suggests **{q(pre['label'])}** ({pre['confidence']:.0%}, margin {pre['margin']:.2f})")
    if (sus := item["suspect"]) is not None:
        bits.append(f"suspect score **{sus['score']:.2f}**: given {q(sus['given'])}, model says {q(sus['suggested'])}")
    if bits:
        st.markdown(" · ".join(bits))


def shortcuts(options: list[str]) -> list[str | None]:
    """One distinct digit per option: an option that is itself a digit keeps it (label ``0`` is key
    ``0``); the others take the free digits 1–9, then 0, in order; past ten options, none."""
    taken = {o for o in options if len(o) == 1 and o.isdigit()}
    free = iter(d for d in "1234567890" if d not in taken)
    return [o if o in taken else next(free, None) for o in options]


def _keys_help(question: dict) -> str:
    keys = [k for k in shortcuts(options_of(question)) if k] if question["kind"] in ("label", "labels", "rating") else []
    pick = f"`{keys[0]}`–`{keys[-1]}` pick · " if len(keys) > 1 else ""
    edit = "`E` edit the response, `Esc` leaves the box · " if question["kind"] == "response" else ""
    return (f"**Keys** · {pick}`Enter` submit · `K` or `←` previous · `J` or `→` next · `S` skip · {edit}"
            "after choosing in a list, keys act on the item again")


def _answer(ws, question: dict, who: str, item: dict) -> None:
    kind = question["kind"]
    if kind in ("label", "labels", "rating"):
        opts = options_of(question)
        pick = _current_pick(question, item)
        cols = st.columns(min(len(opts), 10) or 1)
        for i, (opt, key) in enumerate(zip(opts, shortcuts(opts))):
            chosen = (opt in pick) if kind == "labels" and pick else opt == pick
            cols[i % len(cols)].button(
                literal.inline(opt), key=f"lbl_opt_{i}", type="primary" if chosen else "secondary",
                use_container_width=True, shortcut=key, on_click=_pick, args=(ws, question, who, i))
    elif kind == "text":
        st.text_input("Answer", value=item["mine"] or "", key=f"lbl_text_{item['example']['id']}")
    else:
        current = item["example"]["response"] if item["example"].get("instruction") is not None else _last_assistant(item)
        st.markdown("**Response** (E to edit, Esc to leave the box)")
        st.text_area("Response", value=current or "", height=220, key=f"lbl_response_{item['example']['id']}",
                     label_visibility="collapsed")
        if st.session_state.pop("lbl_editing", False):
            st.html("<script>setTimeout(() => { const t = document.querySelector("
                    f"'.st-key-lbl_response_{item['example']['id']} textarea'); if (t) t.focus(); }}, 50);</script>",
                    unsafe_allow_javascript=True)
    bar = st.columns([1.3, 1, 1, 1, 1, 3])
    bar[0].button("Submit", key="lbl_submit", type="primary", shortcut="Enter", on_click=_submit,
                  args=(ws, question, who), use_container_width=True)
    bar[1].button("Prev", key="lbl_prev", shortcut="K", on_click=_prev, use_container_width=True)
    bar[2].button("Next", key="lbl_next", shortcut="J", on_click=_next, use_container_width=True)
    bar[3].button("Skip", key="lbl_skip_btn", shortcut="S", on_click=_skip, use_container_width=True)
    bar[4].button("Edit", key="lbl_edit", shortcut="E", on_click=_edit, disabled=kind != "response",
                  use_container_width=True)


# Arrows click Prev/Next; Esc leaves a text box (its text is kept); after a choice in a list, a click
# on a button or a segmented control, focus leaves it so the next key acts on the item, not the widget.
KEYMAP_JS = """<script>
if (!window.__curateLabelKeys) {
  window.__curateLabelKeys = true;
  const typing = el => el && (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT'
      && el.getAttribute('role') !== 'combobox' && el.type !== 'range') || el.isContentEditable);
  const release = () => setTimeout(() => {
    const el = document.activeElement;
    if (!el || el === document.body || typing(el)) return;
    if (el.getAttribute('role') === 'combobox' && el.getAttribute('aria-expanded') === 'true') return;
    el.blur();
  }, 0);
  document.addEventListener('keydown', e => {
    const el = document.activeElement;
    if (e.key === 'Escape' && typing(el)) { el.blur(); e.preventDefault(); return; }
    if (el && el.getAttribute('role') === 'combobox' && e.key === 'Enter') { release(); return; }
    if (typing(el) || (el && el.getAttribute('role') === 'combobox') || e.altKey || e.ctrlKey || e.metaKey) return;
    const target = {ArrowLeft: 'lbl_prev', ArrowRight: 'lbl_next'}[e.key];
    const button = target && document.querySelector('.st-key-' + target + ' button');
    if (button) { e.preventDefault(); button.click(); }
  }, true);
  document.addEventListener('click', release, true);
}
</script>"""


def _keymap() -> None:
    st.html(KEYMAP_JS, unsafe_allow_javascript=True)


def annotations_from(value: str, kind: str):
    import json

    return json.loads(value) if kind == "labels" else value


def _last_assistant(item: dict) -> str:
    turns = item["example"].get("messages") or []
    return next((t.get("content", "") for t in reversed(turns) if t.get("role") == "assistant"), "")


def _current_pick(question: dict, item: dict | None):
    pick = st.session_state.get("lbl_pick")
    if pick is None and item is not None and item["mine"] is not None:
        pick = annotations_from(item["mine"], question["kind"])
    return pick


def _toggle(question: dict, pick, index: int):
    opt = options_of(question)[index]
    if question["kind"] != "labels":
        return opt
    chosen = list(pick or [])
    return [c for c in chosen if c != opt] if opt in chosen else [*chosen, opt]


def _triggered_option(question: dict) -> int | None:
    """The option button pressed in this same rerun, if any (Streamlit may run Submit's callback
    before the digit's when both keys arrive before the script ran)."""
    return next((i for i in range(len(options_of(question))) if st.session_state.get(f"lbl_opt_{i}") is True), None)


def _pick(ws, question: dict, who: str, index: int) -> None:
    if st.session_state.get("lbl_submit") is True:
        return  # Submit pressed in the same rerun: it took this digit already
    item = _item(ws, question, who)
    st.session_state["lbl_pick"] = _toggle(question, _current_pick(question, item), index)
    st.session_state["lbl_pick_done"] = True  # this rerun's digit is in lbl_pick (see _submit)


def _item(ws, question: dict, who: str) -> dict | None:
    cur = st.session_state.get("lbl_cur")
    return None if cur is None else queues.item(ws, question, cur, who)


def _submit(ws, question: dict, who: str) -> None:
    kind = question["kind"]
    item = _item(ws, question, who)
    if item is None:
        return
    ex_id = item["example"]["id"]
    if kind in ("label", "labels", "rating"):
        value = _current_pick(question, item)
        if (pressed := _triggered_option(question)) is not None and not st.session_state.get("lbl_pick_done"):
            value = _toggle(question, value, pressed)
        if value is None:
            st.session_state["lbl_flash"] = "Pick an answer first (digit keys), then Enter."
            return
    elif kind == "text":
        value = st.session_state.get(f"lbl_text_{ex_id}", "")
    else:
        value = st.session_state.get(f"lbl_response_{ex_id}", "")
    following = [i for i in st.session_state.get("lbl_following", []) if i != ex_id]
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
    st.session_state["lbl_following"] = following[following.index(nxt) + 1:] if nxt in following else []
    st.session_state.pop("lbl_pick", None)
    st.session_state["lbl_flash"] = f"Saved example {ex_id}" + (" · pre-labels retrained" if retrained else "")


def _prev() -> None:
    trail = st.session_state.get("lbl_trail") or []
    if trail:
        st.session_state["lbl_cur"] = trail.pop()
        st.session_state.pop("lbl_pick", None)
        st.session_state.pop("lbl_following", None)


def _next() -> None:
    cur = st.session_state.get("lbl_cur")
    following = st.session_state.get("lbl_following") or []
    if following:
        if cur is not None:
            st.session_state.setdefault("lbl_trail", []).append(cur)
        st.session_state["lbl_cur"] = following[0]
        st.session_state["lbl_following"] = following[1:]
        st.session_state.pop("lbl_pick", None)


def _skip() -> None:
    cur = st.session_state.get("lbl_cur")
    following = st.session_state.get("lbl_following") or []
    if cur is not None:
        st.session_state.setdefault("lbl_skip", []).append(cur)
    _next()
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
