"""Labelling benchmark.

1. Server-side latency of one label: store the answer (one transaction) and fetch the next item of
   the annotator's queue, on a dataset of 100,000 examples that already holds 20,000 answers.
   Goal: median < 50 ms. The same for one span answer (a spans dataset of 100,000 texts, the answer
   checked against its question's types and its example's text before it is stored), same goal.
2. Suspect quality: flip 10 % of the labels of an SST-2 subset and report precision and recall of
   the suspect queue at its default cut (cleanlab's prune_by_noise_rate).

No peer runs here: Label Studio and Argilla keep this in a server stack we cannot install offline.

    python -P bench/label.py [--examples 100000] [--labels 300] [--subset 2000] [--no-suspects]

(``-P``: keep ``bench/`` off the import path; its ``select.py`` would shadow the standard library's.)
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from curate.ingest import ingest
from curate.label import annotations, queues, questions, suspects
from curate.store import label as store
from curate.store.workspace import Workspace

SST2 = Path("/work/shared/data/sst2/train.jsonl")


def _rows(n: int) -> list[dict]:
    base = [json.loads(line) for line in SST2.read_text().splitlines()]
    return [{"text": f"{base[i % len(base)]['text']} #{i}", "label": base[i % len(base)]["label"]} for i in range(n)]


SPANS = [[{"start": 0, "end": 4, "label": "PER"}], [{"start": 0, "end": 2, "label": "LOC"},
                                                   {"start": 3, "end": 6, "label": "ORG"}]]


def _dataset(root: Path, n_examples: int, kind: str) -> tuple[Workspace, dict, list]:
    """A workspace with ``n_examples`` SST-2 texts as a classification (``label``) or spans dataset,
    its question (overlap 2) holding 20,000 prior answers; and the answers the benchmark gives."""
    rows = _rows(n_examples)
    if kind == "spans":
        rows = [{"text": r["text"], "spans": []} for r in rows]
    path = root / f"big-{kind}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ws = Workspace(root / f"ws-{kind}")
    ingest(ws, [path], "big")
    q = questions.add_question(ws, "big", "answer", kind, overlap=2,
                               options=["PER", "LOC", "ORG"] if kind == "spans" else None)
    answers = [json.dumps(s) for s in SPANS] if kind == "spans" else ["0", "1"]
    rng = np.random.default_rng(0)
    prior = pa.table({"example_id": pa.array(rng.choice(np.arange(1, n_examples + 1), 20_000, replace=False), pa.int64()),
                      "annotator": [f"a{i % 5}" for i in range(20_000)],
                      "value": [answers[i % 2] for i in range(20_000)]})
    with ws.transaction() as con:
        store.insert_annotations(con, prior, dataset_id=q.dataset_id, question_id=q.id, origin="bench")
    return ws, q, SPANS if kind == "spans" else answers


def latency(root: Path, n_examples: int, n_labels: int, kinds: tuple[str, ...] = ("label", "spans")) -> dict:
    """Per question kind: store one answer and fetch the next item, ``n_labels`` times. The kinds take
    turns answer by answer, so a busy machine slows them alike and their ratio stays meaningful."""
    sets = {k: _dataset(root, n_examples, k) for k in kinds}
    cur = {k: queues.fetch(ws, q, "bench", limit=1)[0] for k, (ws, q, _) in sets.items()}
    times, store_ms, fetch_ms, item_ms = ({k: [] for k in kinds} for _ in range(4))
    for i in range(n_labels):
        for k, (ws, q, answers) in sets.items():
            t0 = time.perf_counter()
            _, cur[k] = queues.submit(ws, q, cur[k], answers[i % 2], "bench")  # what the Label page does on Enter
            times[k].append((time.perf_counter() - t0) * 1000)
            if i % 10 == 0:  # the two halves apart, as separate visits to the store
                t0 = time.perf_counter()
                annotations.record(ws, q, cur[k], answers[i % 2], "bench2")
                t1 = time.perf_counter()
                queues.fetch(ws, q, "bench2", limit=1)
                store_ms[k].append((t1 - t0) * 1000)
                fetch_ms[k].append((time.perf_counter() - t1) * 1000)
    for _ in range(50):
        for k, (ws, q, _) in sets.items():
            t0 = time.perf_counter()
            queues.item(ws, q, cur[k], "bench")
            item_ms[k].append((time.perf_counter() - t0) * 1000)
    p95 = lambda xs: float(np.percentile(xs, 95))  # noqa: E731
    return {k: {"examples": n_examples, "labels": n_labels,
                "store+next median ms": statistics.median(times[k]), "store+next p95 ms": p95(times[k]),
                "store alone median ms": statistics.median(store_ms[k]),
                "next alone median ms": statistics.median(fetch_ms[k]),
                "item view median ms": statistics.median(item_ms[k])} for k in kinds}


def suspect_quality(root: Path, subset: int, noise: float = 0.10, seed: int = 0) -> dict:
    rows = [json.loads(line) for line in SST2.read_text().splitlines()]
    rng = random.Random(seed)
    rows = rng.sample(rows, subset)
    flipped = set(rng.sample(range(subset), int(subset * noise)))
    for i in flipped:
        rows[i]["label"] = 1 - rows[i]["label"]
    path = root / "noisy.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ws = Workspace(root / "ws-noisy")
    ingest(ws, [path], "noisy")
    q = questions.get_question(ws, "noisy")
    t0 = time.perf_counter()
    report = suspects.find_suspects(ws, q)
    seconds = time.perf_counter() - t0
    with ws.connect() as con:
        row_of = dict(con.execute("SELECT id, row_num FROM examples").fetchall())
    found = {row_of[r["example_id"]] - 1 for r in suspects.list_suspects(ws, q)}
    hits = len(found & flipped)
    return {"subset": subset, "injected": len(flipped), "flagged": report.flagged,
            "precision": hits / max(1, len(found)), "recall": hits / len(flipped),
            "seconds (embed + 5-fold CV + cleanlab)": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--labels", type=int, default=300)
    parser.add_argument("--subset", type=int, default=2000)
    parser.add_argument("--no-suspects", action="store_true", help="only the latencies")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lat = latency(Path(tmp), args.examples, args.labels)
        results = {"latency (label)": lat["label"], "latency (span)": lat["spans"]}
        if not args.no_suspects:
            results["suspects"] = suspect_quality(Path(tmp), args.subset)
    for name, result in results.items():
        print(name)
        for k, v in result.items():
            print(f"  {k:40s} {v:.3f}" if isinstance(v, float) else f"  {k:40s} {v}")
    for name in ("latency (label)", "latency (span)"):
        verdict = "met" if results[name]["store+next median ms"] < 50 else "NOT met"
        print(f"goal: {name} median store+next < 50 ms: {verdict}")
    ratio = results["latency (span)"]["store+next median ms"] / results["latency (label)"]["store+next median ms"]
    print(f"span / label store+next median: {ratio:.2f}x (measured in turns, same run)")


if __name__ == "__main__":
    main()
