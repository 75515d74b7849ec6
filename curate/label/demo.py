"""Labelling data for the demo workspace: two annotators who sometimes disagree, a rating question,
a response edit, pre-labels and suspects, so every Label view has something to show; a span question
and a preference question whose answers are scripted by stated rules (``add_shaped_demo``)."""

from __future__ import annotations

import json
import re
from typing import Any

import pyarrow as pa

from curate.label import annotations, annotators, prelabel, questions, suspects
from curate.label.preference_order import left_response
from curate.store import label as store
from curate.store.workspace import Workspace

DEMO_TOKENS = {"alice": "demo-alice", "bob": "demo-bob"}


def add_label_demo(workspace: Workspace, truth: dict[int, str] | None = None) -> bool:
    """Add the labelling demo once (returns False when it is there already). ``truth``: the clean label
    by example id, when the ingested labels hold planted noise (see ``curate.demo``): the annotators
    then answer from it, so their majority fixes those errors."""
    if annotators.list_annotators(workspace):
        return False
    for name, token in DEMO_TOKENS.items():
        annotators.add_annotator(workspace, name, token=token)
    label = questions.get_question(workspace, "sst2")
    questions.set_overlap(workspace, "sst2", label.name, 2)
    label = questions.get_question(workspace, "sst2", label.name)
    with workspace.connect() as con:
        first = store.first_examples(con, label.dataset_id, 60)
    given: dict[int, Any] = {r["id"]: (truth or {}).get(r["id"], r["label"]) for r in first}
    ids = sorted(given)
    first_class, second_class = label.choices[:2]
    flip = {first_class: second_class, second_class: first_class}
    alice = {i: flip[given[i]] if n in (7, 23) else given[i] for n, i in enumerate(ids)}
    bob = {i: flip[given[i]] if n in (3, 11, 19, 27, 31) else given[i] for n, i in enumerate(ids[:40])}
    quality = questions.add_question(workspace, "sst2", "quality", "rating", overlap=2)
    rate_a = {i: str(1 + (i * 7) % 5) for i in ids[:20]}
    rate_b = {i: str(min(5, int(v) + (n % 3 == 0))) for n, (i, v) in enumerate(rate_a.items())}
    with workspace.transaction() as con:
        for q, who, answers in ((label, "alice", alice), (label, "bob", bob),
                                (quality, "alice", rate_a), (quality, "bob", rate_b)):
            table = pa.table({"example_id": pa.array(list(answers), pa.int64()), "annotator": [who] * len(answers),
                              "value": list(answers.values())})
            store.insert_annotations(con, table, dataset_id=q.dataset_id, question_id=q.id, origin="demo")
    fix = questions.add_question(workspace, "gsm8k", "response", "response")
    with workspace.connect() as con:
        first = store.first_examples(con, fix.dataset_id, 1)[0]
    annotations.record(workspace, fix, first["id"], first["response"].replace("####", "The answer is"), "alice",
                       origin="demo")
    prelabel.train(workspace, label)
    suspects.find_suspects(workspace, label)
    return True


# The spans and preference demo datasets (``curate.demo``) and their questions.
SPANS, SPAN_QUESTION, SPAN_TYPES = "gsm8k-quantities", "quantities", ["NUMBER", "MONEY", "PERCENT"]
PAIRS, PAIR_QUESTION = "gsm8k-pairs", "better"
SCRIPTED = 20  # items each demo annotator answers
# Numbers written as words, which the rule that pre-annotated the spans misses (bob marks them).
NUMBER_WORDS = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
                          r"fifty|hundred|thousand|twice|thrice|half|double|triple|dozen|quarter)\b", re.IGNORECASE)


def add_shaped_demo(workspace: Workspace) -> bool:
    """Scripted answers by alice and bob to the first ``SCRIPTED`` items of the spans and preference
    demo datasets, once (False when there already). Spans: alice accepts the rule's pre-annotations,
    bob adds numbers written as words (NUMBER). Preferences: alice picks the pair's own reference
    solution (the chosen as constructed); bob always picks the response the Label page would show him
    on the left, so his picks agree with the source by chance alone. Answers record the left response
    of each one's drawn order, as the Label page stores them."""
    if any(q.name == SPAN_QUESTION for q in questions.list_questions(workspace, SPANS)):
        return False
    spans = questions.add_question(workspace, SPANS, SPAN_QUESTION, "spans", options=SPAN_TYPES, overlap=2)
    pairs = questions.add_question(workspace, PAIRS, PAIR_QUESTION, "preference", overlap=2)
    with workspace.connect() as con:
        views = store.example_views(con, [r["id"] for r in store.first_examples(con, spans.dataset_id, SCRIPTED)])
        pair_ids = [r["id"] for r in store.first_examples(con, pairs.dataset_id, SCRIPTED)]
    given = {v["id"]: json.loads(v["spans"] or "[]") for v in views}  # offsets count the ingested text
    words = {v["id"]: [{"start": m.start(), "end": m.end(), "label": "NUMBER"}
                       for m in NUMBER_WORDS.finditer(v["raw_text"] or "")] for v in views}
    answers = [(spans, "alice", given),
               (spans, "bob", {i: sorted(given[i] + words[i], key=lambda s: s["start"]) for i in given})]
    for who, pick in (("alice", lambda i, left: "1"), ("bob", lambda i, left: left)):
        lefts = {i: left_response(pairs.id, i, who) for i in pair_ids}
        answers.append((pairs, who, {i: {"choice": pick(i, lefts[i]), "left": lefts[i]} for i in pair_ids}))
    with workspace.transaction() as con:
        for q, who, values in answers:
            table = pa.table({"example_id": pa.array(list(values), pa.int64()), "annotator": [who] * len(values),
                              "value": [annotations.normalize(q, v) for v in values.values()]})
            store.insert_annotations(con, table, dataset_id=q.dataset_id, question_id=q.id, origin="demo")
    return True
