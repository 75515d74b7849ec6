"""Labelling data for the demo workspace: two annotators who sometimes disagree, a rating question,
a response edit, pre-labels and suspects, so every Label view has something to show."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from curate.label import annotations, annotators, prelabel, questions, suspects
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
