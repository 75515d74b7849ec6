"""What the labelling view shows: the example and its context, literally, and the keys (the component
that sends them as numbered events, and each answer's digit). See ``curate.ui.labelling``."""

from __future__ import annotations

import streamlit as st
from streamlit.components.v2 import component

from curate.label.questions import Question
from curate.ui import label_preference, label_spans, literal
from curate.ui.label_keys import shortcuts

CHOICE_KINDS = ("label", "labels", "rating", "preference")
KEYS_JS = """
export default function (component) {
  const { data, setStateValue } = component;
  const K = window.__curateLabelKeys || (window.__curateLabelKeys = { seq: 0, pending: [], listening: false });
  K.pending = K.pending.filter(e => e.seq > data.ack);
  K.seq = Math.max(K.seq, data.ack);
  K.keys = new Set(data.keys);
  K.send = () => setStateValue('events', K.pending.slice());
  const typing = el => el && (el.tagName === 'TEXTAREA' || el.isContentEditable
      || (el.tagName === 'INPUT' && el.getAttribute('role') !== 'combobox' && el.type !== 'range'));
  if (!K.listening) {
    K.listening = true;
    // After a choice in a list or a click on any control, focus returns to the page (the item).
    const release = () => setTimeout(() => {
      const el = document.activeElement;
      if (!el || el === document.body || typing(el)) return;
      if (el.getAttribute('role') === 'combobox' && el.getAttribute('aria-expanded') === 'true') return;
      el.blur();
    }, 0);
    document.addEventListener('click', release, true);
    document.addEventListener('keydown', e => {
      const el = document.activeElement;
      if (!document.querySelector('.st-key-lbl_keys')) return;  // the labelling view is not on screen
      if (e.key === 'Escape' && typing(el)) { el.blur(); e.preventDefault(); return; }
      if (el && el.getAttribute('role') === 'combobox') { if (e.key === 'Enter') release(); return; }
      if (typing(el) || e.altKey || e.ctrlKey || e.metaKey || e.repeat) return;
      const key = ({ ArrowLeft: 'k', ArrowRight: 'j', Enter: 'enter' })[e.key] || e.key.toLowerCase();
      const focus = ({ e: '.st-key-lbl_response textarea, [class*="st-key-lbl_response_"] textarea',
                       r: '[class*="st-key-lbl_reason_"] input' })[key];
      if (focus && K.keys.has(key)) {  // E: the response to edit, R: a preference's reason
        const box = document.querySelector(focus);
        if (box) { e.preventDefault(); box.focus(); }
        return;
      }
      if (!K.keys.has(key)) return;
      e.preventDefault();
      e.stopPropagation();
      K.pending.push({ seq: ++K.seq, key });
      K.send();
    }, true);
  }
}
"""
keys = component("curate_label_keys", js=KEYS_JS)


def show_example(item: dict, question: Question) -> None:
    """The example literally; a span question's text in the span editor, a preference's responses side
    by side after the prompt."""
    if question.kind == "spans":
        label_spans.editor(item, question)
        return
    ex = item["example"]
    with st.container(border=True, key="lbl_example"):
        if ex.get("text") is not None:
            literal.show(ex["text"])
        if ex.get("instruction") is not None:
            literal.show(ex["instruction"], title="Instruction")
            if ex.get("input"):
                literal.show(ex["input"], title="Input")
            if question.kind != "response":
                literal.show(ex["response"] or "", title="Response")
        turns = ex.get("messages") or []
        last = max((i for i, t in enumerate(turns) if t.get("role") == "assistant"), default=None)
        for i, turn in enumerate(turns):
            if question.kind == "response" and i == last:
                continue
            role = turn.get("role")
            with st.chat_message(role if role in ("user", "assistant") else "user"):
                literal.show(turn.get("content", ""))
    if question.kind == "preference":
        label_preference.show(item)


def context(item: dict, question: Question, queue: str) -> None:
    bits, q = [], literal.inline
    if item["given"] is not None and question.kind == "label":
        bits.append(f"given label: **{q(item['given'])}**")
    if item["mine"] is not None:
        bits.append(f"your answer: **{q(answer_text(question, item['mine']))}**")
    if queue in ("disagreements", "suspects", "mine") and item["answers"]:
        bits.append("answers: " + ", ".join(f"{q(a['annotator'])} → **{q(answer_text(question, a['value']))}**"
                                            for a in item["answers"]))
    if (pre := item["prelabel"]) is not None:
        bits.append(f"model suggests **{q(pre['label'])}** ({pre['confidence']:.0%}, margin {pre['margin']:.2f})")
    if (sus := item["suspect"]) is not None:
        bits.append(f"suspect score **{sus['score']:.2f}**: given {q(sus['given'])}, model says {q(sus['suggested'])}")
    if bits:
        st.markdown(" · ".join(bits))


def answer_text(question: Question, value: str) -> str:
    """A stored answer as the context line shows it (span and preference answers summarised)."""
    return {"spans": label_spans.summary, "preference": label_preference.summary}.get(question.kind, str)(value)


def key_names(question: Question) -> list[str]:
    digits = [k for k in shortcuts(question.choices) if k] if question.kind in CHOICE_KINDS else []
    boxes = {"response": ["e"], "preference": ["r"]}.get(question.kind, [])
    return [*digits, "enter", "j", "k", "s", *boxes]


def keys_help(question: Question) -> str:
    if question.kind == "spans":
        return label_spans.keys_help(question)
    digits = [k for k in key_names(question) if k.isdigit() or k == "="]
    pick = f"{' '.join(f'`{d}`' for d in digits)} pick (shown on each answer) · " if digits else ""
    edit = {"response": "`E` edits the response, `Esc` leaves the box · ",
            "preference": "`R` writes a reason, `Esc` leaves the box · "}.get(question.kind, "")
    return (f"**Keys** · {pick}`Enter` submit · `K` or `←` previous · `J` or `→` next · `S` skip · {edit}"
            "after a choice in a list, keys act on the item again")


def last_assistant(item: dict) -> str:
    turns = item["example"].get("messages") or []
    return next((t.get("content", "") for t in reversed(turns) if t.get("role") == "assistant"), "")
