"""Span and preference questions on the Label page in a real browser: spans made, retyped and removed
by keyboard and by mouse, preference pairs picked by keys, hostile text shown literally in the span
editor, nothing fetched from outside; every answer checked in the store.

No NER or preference sample is available offline: the span texts are TREC questions
(``sample_data/trec_questions.csv``) with spans made by hand for these tests, and the preference pairs
are GSM8K questions (``sample_data/gsm8k_test.jsonl``) whose chosen answer is their own reference
solution and whose rejected answer is the next question's solution (a mismatched answer)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from curate.ingest import ingest
from curate.label import annotations, questions
from curate.store.workspace import Workspace
from tests.conftest import outside_requests, wait_for_app
from tests.hostile_text import TEXTS as HOSTILE

ROOT = Path(__file__).resolve().parents[1]
TYPES = ["PER", "LOC", "ORG"]
# TREC question index → hand-made (entity, type) spans given at ingest (pre-annotations).
PRE = {10: [], 13: [("Gandhi", "LOC")], 6: [("St. Louis", "LOC")], 27: [], 28: [], 1: [("Popeye Doyle", "PER")]}


def _span(text: str, entity: str, label: str) -> dict:
    start = text.index(entity)
    return {"start": start, "end": start + len(entity), "label": label}


def trec_texts() -> dict[int, str]:
    with open(ROOT / "sample_data" / "trec_questions.csv", encoding="utf-8", newline="") as f:
        return {int(r["idx"]): r["text"] for r in csv.DictReader(f)}


def spans_workspace(root: Path) -> Workspace:
    """A workspace with a ``ner`` spans dataset (TREC questions with hand-made pre-annotations, then the
    hostile texts) and its ``ents`` question, and a ``pref`` preference dataset with question ``better``."""
    ws = Workspace(root)
    texts = trec_texts()
    rows = [{"id": f"trec-{i}", "text": texts[i], "spans": [_span(texts[i], e, t) for e, t in pre]}
            for i, pre in PRE.items()]
    rows += [{"id": f"hostile-{i}", "text": t, "spans": []} for i, t in enumerate(HOSTILE)]
    (root / "ner.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ingest(ws, [root / "ner.jsonl"], "ner")
    questions.add_question(ws, "ner", "ents", "spans", options=TYPES)
    gsm = [json.loads(line) for line in (ROOT / "sample_data" / "gsm8k_test.jsonl").read_text().splitlines()[:4]]
    pairs = [{"id": f"gsm-{a['idx']}", "prompt": a["instruction"], "chosen": a["response"], "rejected": b["response"]}
             for a, b in zip(gsm, gsm[1:])]
    (root / "pref.jsonl").write_text("".join(json.dumps(r) + "\n" for r in pairs), encoding="utf-8")
    ingest(ws, [root / "pref.jsonl"], "pref")
    questions.add_question(ws, "pref", "better", "preference")
    return ws
