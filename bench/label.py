"""Labelling benchmark.

1. Server-side latency of one label: store the answer (one transaction) and fetch the next item of
   the annotator's queue, on a dataset of 100,000 examples that already holds 20,000 answers.
   Goal: median < 50 ms.
2. Suspect quality: flip 10 % of the labels of an SST-2 subset and report precision and recall of
   the suspect queue at its default cut (cleanlab's prune_by_noise_rate).

No peer runs here: Label Studio and Argilla keep this in a server stack we cannot install offline.

    python bench/label.py [--examples 100000] [--labels 300] [--subset 2000]
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


def latency(root: Path, n_examples: int, n_labels: int) -> dict:
    path = root / "big.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows(n_examples)))
    ws = Workspace(root / "ws")
    ingest(ws, [path], "big")
    q = questions.add_question(ws, "big", "sentiment", "label", overlap=2)
    rng = np.random.default_rng(0)
    prior = pa.table({"example_id": pa.array(rng.choice(np.arange(1, n_examples + 1), 20_000, replace=False), pa.int64()),
                      "annotator": [f"a{i % 5}" for i in range(20_000)],
                      "value": [str(i % 2) for i in range(20_000)]})
    with ws.transaction() as con:
        store.insert_annotations(con, prior, dataset_id=q["dataset_id"], question_id=q["id"], origin="bench")
    times, store_ms, fetch_ms = [], [], []
    cur = queues.fetch(ws, q, "bench", limit=1)[0]
    for i in range(n_labels):
        t0 = time.perf_counter()
        _, cur = queues.submit(ws, q, cur, str(i % 2), "bench")  # what the Label page does on Enter
        times.append((time.perf_counter() - t0) * 1000)
        if i % 10 == 0:  # the two halves apart, as separate visits to the store
            t0 = time.perf_counter()
            annotations.record(ws, q, cur, str(i % 2), "bench2")
            t1 = time.perf_counter()
            queues.fetch(ws, q, "bench2", limit=1)
            store_ms.append((t1 - t0) * 1000)
            fetch_ms.append((time.perf_counter() - t1) * 1000)
    item_ms = []
    for _ in range(50):
        t0 = time.perf_counter()
        queues.item(ws, q, cur, "bench")
        item_ms.append((time.perf_counter() - t0) * 1000)
    p95 = lambda xs: float(np.percentile(xs, 95))  # noqa: E731
    return {"examples": n_examples, "labels": n_labels,
            "store+next median ms": statistics.median(times), "store+next p95 ms": p95(times),
            "store alone median ms": statistics.median(store_ms), "next alone median ms": statistics.median(fetch_ms),
            "item view median ms": statistics.median(item_ms)}


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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lat = latency(Path(tmp), args.examples, args.labels)
        sus = suspect_quality(Path(tmp), args.subset)
    for name, result in (("latency", lat), ("suspects", sus)):
        print(name)
        for k, v in result.items():
            print(f"  {k:40s} {v:.3f}" if isinstance(v, float) else f"  {k:40s} {v}")
    verdict = "met" if lat["store+next median ms"] < 50 else "NOT met"
    print(f"goal: median store+next < 50 ms: {verdict}")


if __name__ == "__main__":
    main()
